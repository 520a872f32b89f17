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


def superusers_only() -> None:
    """A blueprint's before_request: refuses non-superusers before the body is even parsed."""
    require_superuser()


def check_request_body(default_limit: int, limits_by_blueprint: dict[str, int | None]) -> None:
    """Every body is JSON and within its route's limit, known from Content-Length before anything is
    read (the HTTP front has read and counted it already). A blueprint mapped to None checks its own."""
    length = request.content_length
    if not length:
        return
    limit = limits_by_blueprint.get(request.blueprint or "", default_limit)
    if limit is not None and length > limit:
        raise ServiceError(ErrorCode.PAYLOAD_TOO_LARGE,
                           f"The body has {length} bytes; this request takes at most {limit}",
                           limitName="bodyBytes", limit=limit, actual=length)
    if request.method in ("POST", "PUT", "PATCH") and not request.is_json:
        raise ServiceError(ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                           f"The body must be application/json, not {request.mimetype or 'without a type'}",
                           "Send the body with Content-Type: application/json")


def current_identity() -> Identity:
    return g.identity


def require_superuser() -> Identity:
    identity = current_identity()
    if not identity.superuser and not identity.public_api:
        raise ServiceError(ErrorCode.FORBIDDEN, f"User '{identity.user_id}' is not a superuser",
                           "Only superusers may do this (OPTIMIZE_AUTH_SUPERUSER_IDS/_GROUPS)")
    return identity


def require_export_import_access() -> Identity:
    """Export and import under OPTIMIZE_ENTITY_ACCESS: superusers only (`superuser`, Optimize 3.3), or every
    user (`optimize8`: Optimize 8 checks the entity itself, its definitions and collection roles instead)."""
    identity = current_identity()
    if identity.public_api or identity.entity_access == "optimize8":
        return identity
    return require_superuser()


def export_import_access_only() -> None:
    """A blueprint's before_request: export and import access (OPTIMIZE_ENTITY_ACCESS) is refused before the
    body is even parsed."""
    require_export_import_access()


def require_entity_editor() -> Identity:
    """Optimize 8's entity-editor authorization (its DashboardService/ReportService
    validateEntityEditorAuthorization), needed for private entities under OPTIMIZE_ENTITY_ACCESS=optimize8."""
    identity = current_identity()
    if identity.entity_access == "optimize8" and not identity.public_api and not identity.entity_editor:
        raise ServiceError(ErrorCode.FORBIDDEN, "User is not an authorized entity editor",
                           f"User '{identity.user_id}' needs the entity-editor authorization "
                           "(OPTIMIZE_AUTH_ENTITY_EDITOR_IDS/_GROUPS) for private entities")
    return identity
