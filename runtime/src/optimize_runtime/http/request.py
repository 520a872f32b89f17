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


def require_export_import_access() -> Identity:
    """Export and import under OPTIMIZE_ENTITY_ACCESS: superusers only (`superuser`, Optimize 3.3), or every
    user (`optimize8`: Optimize 8 checks the entity itself, its definitions and collection roles instead)."""
    identity = current_identity()
    if identity.public_api or identity.entity_access == "optimize8":
        return identity
    return require_superuser()


def require_entity_editor() -> Identity:
    """Optimize 8's entity-editor authorization (its DashboardService/ReportService
    validateEntityEditorAuthorization), needed for private entities under OPTIMIZE_ENTITY_ACCESS=optimize8."""
    identity = current_identity()
    if identity.entity_access == "optimize8" and not identity.public_api and not identity.entity_editor:
        raise ServiceError(ErrorCode.FORBIDDEN, "User is not an authorized entity editor",
                           f"User '{identity.user_id}' needs the entity-editor authorization "
                           "(OPTIMIZE_AUTH_ENTITY_EDITOR_IDS/_GROUPS) for private entities")
    return identity
