"""Error codes every service answers with, and the one table that maps them to HTTP statuses.

Bodies look like Optimize's: {errorCode, errorMessage, detailedMessage, ...extra fields}."""

from enum import StrEnum
from typing import Any

from marshmallow import INCLUDE, Schema, fields, validate


class ErrorCode(StrEnum):
    IMPORT_FILE_INVALID = "importFileInvalid"
    IMPORT_INDEX_VERSION_MISMATCH = "importIndexVersionMismatch"
    IMPORT_DEFINITION_DOES_NOT_EXIST = "importDefinitionDoesNotExist"
    IMPORT_DEFINITION_FORBIDDEN = "importDefinitionForbidden"
    NON_DEFINITION_SCOPE_COMPLIANT_CONFLICT = "nonDefinitionScopeCompliantConflict"
    NON_TENANT_SCOPE_COMPLIANT_CONFLICT = "nonTenantScopeCompliantConflict"
    IMPORT_NAME_INVALID = "importNameInvalid"
    IMPORT_DESCRIPTION_INVALID = "importDescriptionInvalid"
    IMPORT_CONFLICT = "importConflict"
    BAD_REQUEST = "badRequestError"
    UNAUTHORIZED = "unauthorizedError"
    FORBIDDEN = "forbiddenError"
    NOT_FOUND = "notFoundError"
    METHOD_NOT_ALLOWED = "methodNotAllowedError"
    CONFLICT = "conflictError"
    MISSING_REFERENCED_REPORTS = "missingReferencedReports"
    PAYLOAD_TOO_LARGE = "payloadTooLarge"
    REQUEST_TIMEOUT = "requestTimeout"
    URI_TOO_LONG = "uriTooLong"
    HEADERS_TOO_LARGE = "requestHeaderFieldsTooLarge"
    NOT_IMPLEMENTED = "notImplemented"
    UNSUPPORTED_MEDIA_TYPE = "unsupportedMediaType"
    SERVICE_UNAVAILABLE = "serviceUnavailable"
    SERVER_ERROR = "serverError"


ERROR_STATUS: dict[ErrorCode, int] = {
    ErrorCode.IMPORT_FILE_INVALID: 400,
    ErrorCode.IMPORT_INDEX_VERSION_MISMATCH: 400,
    ErrorCode.IMPORT_DEFINITION_DOES_NOT_EXIST: 400,
    ErrorCode.IMPORT_DEFINITION_FORBIDDEN: 403,
    ErrorCode.NON_DEFINITION_SCOPE_COMPLIANT_CONFLICT: 409,
    ErrorCode.NON_TENANT_SCOPE_COMPLIANT_CONFLICT: 409,
    ErrorCode.IMPORT_NAME_INVALID: 400,
    ErrorCode.IMPORT_DESCRIPTION_INVALID: 400,
    ErrorCode.IMPORT_CONFLICT: 409,
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CONFLICT: 409,
    ErrorCode.MISSING_REFERENCED_REPORTS: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.REQUEST_TIMEOUT: 408,
    ErrorCode.URI_TOO_LONG: 414,
    ErrorCode.HEADERS_TOO_LARGE: 431,
    ErrorCode.NOT_IMPLEMENTED: 501,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.SERVER_ERROR: 500,
}

# Optimize reports the first failing import prerequisite in this order; we list all, led by this one.
IMPORT_ERROR_PRIORITY: tuple[ErrorCode, ...] = (
    ErrorCode.IMPORT_FILE_INVALID,
    ErrorCode.IMPORT_INDEX_VERSION_MISMATCH,
    ErrorCode.IMPORT_DEFINITION_DOES_NOT_EXIST,
    ErrorCode.IMPORT_DEFINITION_FORBIDDEN,
    ErrorCode.NON_DEFINITION_SCOPE_COMPLIANT_CONFLICT,
    ErrorCode.NON_TENANT_SCOPE_COMPLIANT_CONFLICT,
    ErrorCode.IMPORT_NAME_INVALID,
    ErrorCode.IMPORT_DESCRIPTION_INVALID,
    ErrorCode.IMPORT_CONFLICT,
)


class ErrorBodySchema(Schema):
    """Every error body, as the OpenAPI documents describe it; each errorCode may add fields."""

    class Meta:
        unknown = INCLUDE

    errorCode = fields.String(required=True, validate=validate.OneOf([code.value for code in ErrorCode]))
    errorMessage = fields.String(required=True)
    detailedMessage = fields.String()
    requestId = fields.String(metadata={"description": "Set on serverError: the id it was logged with"})
    validationErrors = fields.Raw(metadata={"description": "What failed: [{entityId, path, message}] for "
                                                           "files and entities, by location for arguments"})
    errors = fields.List(fields.Dict(), metadata={"description": "Every failing import category"})


class ServiceError(Exception):
    """An expected failure that reaches the caller as an error body; `extra` adds fields to it."""

    def __init__(self, code: ErrorCode, message: str, detailed_message: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.message = message
        self.detailed_message = detailed_message or message
        self.headers = headers or {}
        self.extra = extra

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]

    def body(self) -> dict[str, Any]:
        return {"errorCode": self.code.value, "errorMessage": self.message,
                "detailedMessage": self.detailed_message, **self.extra}


def not_found(what: str, entity_id: str) -> ServiceError:
    return ServiceError(ErrorCode.NOT_FOUND, f"{what} '{entity_id}' does not exist", id=entity_id)


def forbidden(message: str, **extra: Any) -> ServiceError:
    return ServiceError(ErrorCode.FORBIDDEN, message, **extra)


def service_unavailable(message: str, detailed_message: str | None = None, retry_after_s: int = 5,
                        **extra: Any) -> ServiceError:
    return ServiceError(ErrorCode.SERVICE_UNAVAILABLE, message, detailed_message,
                        headers={"Retry-After": str(retry_after_s)}, **extra)
