"""The Flask application every service is built on: OpenAPI from flask-smorest, identity on /api/**,
one error handler, request ids, /healthz and /readyz."""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, jsonify, send_from_directory
from flask_smorest import Api, Blueprint
from pymongo.errors import ConnectionFailure
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import HTTPException

from contracts.errors import ErrorBodySchema, ErrorCode, ServiceError, service_unavailable
from optimize_runtime.http.json_provider import FastJSONProvider
from optimize_runtime.http.request import (
    REQUEST_ID_HEADER,
    assign_request_id,
    authenticate,
    check_request_body,
    request_id,
)
from optimize_runtime.identity import Authenticator
from optimize_runtime.observability.http_requests import observe_requests
from optimize_runtime.settings import CommonSettings

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024

# The docs page loads Swagger UI from here: files of a pinned package, served by the service itself, so
# that /docs works without internet (no CDN).
SWAGGER_UI_ASSETS_PATH = "/docs/assets/"

_HTTP_ERROR_CODES = {
    400: ErrorCode.BAD_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    422: ErrorCode.BAD_REQUEST,
}


class _ServiceApi(Api):
    ERROR_SCHEMA = ErrorBodySchema  # what the handlers below answer, not flask-smorest's own shape


@dataclass(frozen=True)
class ReadinessCheck:
    """One dependency /readyz asks; `probe` raises when the dependency cannot serve."""

    name: str
    probe: Callable[[], None]


def create_service_app(settings: CommonSettings, *, title: str, blueprints: Iterable[Blueprint],
                       readiness: Iterable[ReadinessCheck], largest_body_bytes: int = 0,
                       body_limits: dict[str, int | None] | None = None) -> Flask:
    """`body_limits`: the largest body of a blueprint's routes, by blueprint name, when not the default
    1 MiB (None: its views check their own); `largest_body_bytes`: the largest of any route, when more."""
    app = Flask(settings.service)
    app.config.update(
        API_TITLE=title,
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=SWAGGER_UI_ASSETS_PATH,
        # the largest body any route takes: the HTTP front refuses more before buffering it
        MAX_BODY_BYTES=max(largest_body_bytes, DEFAULT_MAX_BODY_BYTES),
        JSON_SORT_KEYS=False,
    )
    app.json = FastJSONProvider(app)
    app.json.sort_keys = False
    api = _ServiceApi(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"bearer": []}]})
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    _register_operations(app, list(readiness))
    _register_error_handlers(app)
    authenticator = Authenticator(settings.auth)
    observe_requests(app, settings.service)  # first, so that its clock and log line cover the hooks below
    app.before_request(assign_request_id)
    app.before_request(lambda: authenticate(authenticator))
    app.before_request(lambda: check_request_body(DEFAULT_MAX_BODY_BYTES, body_limits or {}))

    @app.after_request
    def echo_request_id(response):
        response.headers[REQUEST_ID_HEADER] = request_id()
        return response

    app.extensions["optimize_api"] = api
    return app


def _register_operations(app: Flask, checks: list[ReadinessCheck]) -> None:
    @app.get(f"{SWAGGER_UI_ASSETS_PATH}<path:file_name>")
    def swagger_ui_asset(file_name: str):
        return send_from_directory(swagger_ui_path, file_name, max_age=3600)

    @app.get("/healthz")
    def healthz():
        return {"status": "alive"}

    @app.get("/readyz")
    def readyz():
        results, failed = {}, []
        for check in checks:
            try:
                check.probe()
                results[check.name] = "ok"
            except Exception as error:  # noqa: BLE001 - any failure means not ready, and we say which
                log.warning("readiness check %s failed: %s", check.name, error)
                results[check.name] = f"failed: {error}"
                failed.append(check.name)
        if failed:
            body = ServiceError(ErrorCode.SERVICE_UNAVAILABLE, f"Not ready: {', '.join(failed)}",
                                checks=results).body()
            return jsonify(body), 503, {"Retry-After": "5"}
        return {"status": "ready", "checks": results}


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(error: ServiceError):
        return jsonify(error.body()), error.status, error.headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        fallback = ErrorCode.SERVER_ERROR if status >= 500 else ErrorCode.BAD_REQUEST
        code = _HTTP_ERROR_CODES.get(status, fallback)
        body = ServiceError(code, error.name, error.description).body()
        messages = getattr(error, "data", {}).get("messages")
        if messages:  # webargs/marshmallow: the fields that failed, by location
            body["validationErrors"] = messages
            body["errorMessage"] = "Invalid request"
            body["detailedMessage"] = "The request body or arguments are invalid; see validationErrors"
            status = 400
        # What werkzeug says besides the body (Allow on a 405) still goes out; the content type is ours.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        return jsonify(body), status, headers

    @app.errorhandler(ConnectionFailure)
    def store_down(error: ConnectionFailure):
        # Not reached, timed out or failed over: the caller may retry; anything else stays a serverError.
        log.warning("MongoDB did not answer request %s: %r", request_id(), error)
        failure = service_unavailable("The database is not available; try again later.")
        return jsonify(failure.body()), failure.status, failure.headers

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unexpected error in request %s", request_id())
        return jsonify({"errorCode": ErrorCode.SERVER_ERROR.value, "errorMessage": "Internal server error",
                        "detailedMessage": "An unexpected error occurred; it has been logged with this id",
                        "requestId": request_id()}), 500
