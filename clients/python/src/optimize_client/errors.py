"""What a call can fail with. An answer of the services becomes an ApiError carrying Optimize's error
body (errorCode, errors[], validationErrors, the definitions named); no answer becomes Unreachable."""

from typing import Any


class OptimizeError(Exception):
    """Anything the client raises."""


class Unreachable(OptimizeError):
    """No answer: the connection failed or timed out."""


class ApiError(OptimizeError):
    """The installation answered with an error body (Optimize's shape)."""

    def __init__(self, status: int, body: dict[str, Any], request_id: str | None = None) -> None:
        self.status = status
        self.body = body
        self.request_id = request_id or body.get("requestId")
        super().__init__(f"{status} {self.error_code}: {self.error_message}")

    @property
    def error_code(self) -> str:
        return self.body.get("errorCode") or "unknown"

    @property
    def error_message(self) -> str:
        return self.body.get("errorMessage") or ""

    @property
    def detailed_message(self) -> str | None:
        return self.body.get("detailedMessage")

    @property
    def errors(self) -> list[dict]:
        """Every failing category of a refused import (Optimize names only the first)."""
        return self.body.get("errors") or []

    @property
    def validation_errors(self) -> list[dict]:
        return self.body.get("validationErrors") or []

    @property
    def definitions(self) -> list[dict]:
        return self.body.get("definitions") or []


class NotAuthenticated(ApiError):
    """401: no token, or one the installation does not accept."""


class ServiceUnavailable(ApiError):
    """503 still, after every retry the client was allowed."""


def api_error(status: int, body: Any, request_id: str | None) -> ApiError:
    if not isinstance(body, dict) or "errorCode" not in body:
        body = {"errorCode": "unexpectedResponse", "errorMessage": f"HTTP {status}",
                "detailedMessage": str(body)[:500] if body else None}
    kind = {401: NotAuthenticated, 503: ServiceUnavailable}.get(status, ApiError)
    return kind(status, body, request_id)
