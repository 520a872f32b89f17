"""What a view knows about the request: who calls, under which request id."""

import re
import uuid

from flask import g, request

from contracts.errors import ErrorCode, ServiceError
from optimize_runtime.identity import Authenticator, Identity

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def assign_request_id() -> None:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def request_id() -> str:
    return getattr(g, "request_id", None) or "-"


def authenticate(authenticator: Authenticator) -> None:
    """Every /api/** call carries a bearer token; /api/public/** is for other services."""
    path = request.path
    if not path.startswith("/api/"):
        return
    header = request.headers.get("Authorization")
    if path.startswith("/api/public/"):
        g.identity = authenticator.public_api(header)
    else:
        g.identity = authenticator.user(header)


def current_identity() -> Identity:
    return g.identity


def require_superuser() -> Identity:
    identity = current_identity()
    if not identity.superuser and not identity.public_api:
        raise ServiceError(ErrorCode.FORBIDDEN, f"User '{identity.user_id}' is not a superuser",
                           "Only superusers may do this (OPTIMIZE_AUTH_SUPERUSER_IDS/_GROUPS)")
    return identity
