"""What every service answers, whatever its domain: errors, health, readiness, identity."""

import time

import jwt
import pytest
from marshmallow import Schema, fields
from pymongo import MongoClient

from optimize_runtime.http import Blueprint, ReadinessCheck, create_service_app, require_superuser
from optimize_runtime.identity import issue_token
from optimize_runtime.infra.ports import free_port
from optimize_runtime.settings import CommonSettings, ConfigurationError
from optimize_testing.pytest_plugin import TEST_JWT_SECRET


class _EchoSchema(Schema):
    name = fields.String()
    data = fields.Dict()


def _app(environ, readiness=()):
    settings = CommonSettings.from_env("test-svc", environ)
    blueprint = Blueprint("probe", __name__)

    @blueprint.route("/api/boom")
    def boom():
        raise RuntimeError("secret internals")

    @blueprint.route("/api/whoami")
    def whoami():
        identity = require_superuser()
        return {"user": identity.user_id}

    @blueprint.route("/api/echo", methods=["POST"])
    @blueprint.arguments(_EchoSchema)
    def echo(body):
        return body

    @blueprint.route("/api/stored")
    def stored():
        unreachable = MongoClient(f"mongodb://127.0.0.1:{free_port()}", serverSelectionTimeoutMS=200)
        return {"found": unreachable.db.things.find_one({}) is not None}

    @blueprint.route("/api/public/whoami")
    def public_whoami():
        return {"user": require_superuser().user_id}

    return create_service_app(settings, title="t", blueprints=[blueprint], readiness=readiness).test_client()


def _bearer(user="demo", **kwargs):
    return {"Authorization": f"Bearer {issue_token(TEST_JWT_SECRET, user, **kwargs)}"}


def test_unknown_route_is_not_found_error(environ):
    response = _app(environ).get("/nowhere")
    assert response.status_code == 404
    assert response.json["errorCode"] == "notFoundError"


def test_unexpected_error_is_server_error_with_request_id_and_no_trace(environ, caplog):
    response = _app(environ).get("/api/boom", headers=_bearer())
    [logged] = [record for record in caplog.records if record.exc_info]
    assert response.json["requestId"] in logged.getMessage()
    assert "secret internals" in str(logged.exc_info[1])  # the trace is in the log, not in the answer
    assert response.status_code == 500
    assert response.json["errorCode"] == "serverError"
    assert response.json["requestId"] == response.headers["X-Request-Id"]
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_request_id_is_echoed(environ):
    response = _app(environ).get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"


def test_readiness_names_what_failed(environ):
    def down():
        raise ConnectionError("no route")

    client = _app(environ, [ReadinessCheck("mongodb", lambda: None), ReadinessCheck("catalog", down)])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["errorCode"] == "serviceUnavailable"
    assert "catalog" in response.json["errorMessage"] and "mongodb" not in response.json["errorMessage"]
    assert client.get("/healthz").status_code == 200


def test_openapi_document_and_docs_page(environ):
    client = _app(environ)
    assert client.get("/openapi.json").json["info"]["title"] == "t"
    assert client.get("/docs").status_code == 200


def test_openapi_document_describes_the_error_body_that_is_answered(environ):
    client = _app(environ)
    components = client.get("/openapi.json").json["components"]
    error = components["schemas"][components["responses"]["DEFAULT_ERROR"]["content"]["application/json"]
                                   ["schema"]["$ref"].rsplit("/", 1)[1]]
    assert error["required"] == ["errorCode", "errorMessage"]
    assert "serverError" in error["properties"]["errorCode"]["enum"]
    assert error["additionalProperties"] is True
    body = client.get("/api/whoami").json
    assert set(body) <= set(error["properties"]) and body["errorCode"] == "unauthorizedError"


@pytest.mark.parametrize("header", [
    None,
    "Basic abc",
    "Bearer not-a-jwt",
    f"Bearer {jwt.encode({'sub': 'demo', 'exp': int(time.time()) - 10}, TEST_JWT_SECRET, 'HS256')}",
    f"Bearer {issue_token('another-secret-of-sufficient-length-0123456789', 'demo')}",
])
def test_missing_malformed_expired_or_foreign_token_is_unauthorized(environ, header):
    headers = {"Authorization": header} if header else {}
    response = _app(environ).get("/api/whoami", headers=headers)
    assert response.status_code == 401
    assert response.json["errorCode"] == "unauthorizedError"


@pytest.mark.parametrize(("configured", "token_audience", "status"), [
    (None, None, 200),
    (None, "optimize-public-api", 401),      # the finding: a public-API token acted as a user
    (None, "some-other-service", 401),       # a token for another service is not ours either
    ("optimize", "optimize", 200),
    ("optimize", None, 401),
    ("optimize", "optimize-public-api", 401),
    ("optimize-public-api", "optimize-public-api", 401),  # even when configured so by mistake
])
def test_user_routes_take_tokens_of_the_configured_audience_only(environ, configured, token_audience, status):
    if configured:
        environ = {**environ, "OPTIMIZE_AUTH_AUDIENCE": configured}
    token = issue_token(TEST_JWT_SECRET, "demo", audience=token_audience)
    response = _app(environ).get("/api/whoami", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status
    if status == 401:
        assert response.json["errorCode"] == "unauthorizedError"


def test_superuser_by_id_or_group_and_forbidden_otherwise(environ):
    client = _app(environ)
    assert client.get("/api/whoami", headers=_bearer("demo")).json == {"user": "demo"}
    assert client.get("/api/whoami", headers=_bearer("kermit", groups=["optimize-admins"])).status_code == 200
    response = client.get("/api/whoami", headers=_bearer("kermit", groups=["others"]))
    assert response.status_code == 403 and response.json["errorCode"] == "forbiddenError"


def test_public_api_takes_the_static_token_or_a_public_audience_jwt_only(environ):
    client = _app(environ)
    static = {"Authorization": f"Bearer {environ['OPTIMIZE_API_ACCESS_TOKEN']}"}
    assert client.get("/api/public/whoami", headers=static).json == {"user": "System User"}
    service_token = issue_token(TEST_JWT_SECRET, "svc", audience="optimize-public-api")
    public_jwt = {"Authorization": f"Bearer {service_token}"}
    assert client.get("/api/public/whoami", headers=public_jwt).json == {"user": "System User"}
    assert client.get("/api/public/whoami", headers=_bearer("demo")).status_code == 401
    assert client.get("/api/public/whoami", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_no_service_starts_without_a_secret_outside_development(environ):
    without = {k: v for k, v in environ.items() if k != "OPTIMIZE_AUTH_JWT_SECRET"}
    with pytest.raises(ConfigurationError, match="OPTIMIZE_AUTH_JWT_SECRET"):
        CommonSettings.from_env("test-svc", {**without, "OPTIMIZE_ENV": "production"})
    assert CommonSettings.from_env("test-svc", {**without, "OPTIMIZE_ENV": "development"}).development


@pytest.mark.parametrize(("body", "path", "message"), [
    ('{"data": {"n": NaN}}', "_schema", "NaN is not a JSON value"),
    ('{"data": {"n": -Infinity}}', "_schema", "-Infinity is not a JSON value"),
    ('{"data": {"n": 1e400}}', "data.n", "finite"),
    (f'{{"data": {{"n": {2**70}}}}}', "data.n", "64 bits"),
    ('{"name": "\\ud800"}', "name", "lone surrogate"),
    ('{"data": {"\\udc00": 1}}', "data.\udc00", "lone surrogate"),
    ('{"data": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}", "data" + ".a" * 63, "Nested deeper"),
    ('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}", "_schema", "Nested deeper"),
])
def test_json_bodies_that_cannot_be_stored_are_bad_requests_naming_where(environ, body, path, message):
    response = _app(environ).post("/api/echo", data=body, content_type="application/json", headers=_bearer())
    assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError"), response.json
    assert message in response.json["validationErrors"]["json"][path][0]


def test_json_bodies_keep_64_bit_numbers_astral_characters_and_webargs_answers(environ):
    client = _app(environ)
    body = {"name": "Rocket \U0001f680", "data": {"big": 2**63 - 1, "ratio": 1e308}}
    assert client.post("/api/echo", json=body, headers=_bearer()).json == body
    response = client.post("/api/echo", data=b'{"name": ', content_type="application/json", headers=_bearer())
    assert response.json["validationErrors"] == {"json": ["Invalid JSON body."]}
    response = client.post("/api/echo", data=b'{"name": "\xff"}', content_type="application/json",
                           headers=_bearer())
    assert response.json["validationErrors"] == {"json": ["Invalid JSON body."]}


def test_a_database_that_does_not_answer_is_service_unavailable_with_retry_after(environ):
    response = _app(environ).get("/api/stored", headers=_bearer())
    assert (response.status_code, response.json["errorCode"]) == (503, "serviceUnavailable")
    assert response.headers["Retry-After"] == "5"


def test_a_method_not_allowed_names_the_allowed_ones(environ):
    response = _app(environ).delete("/api/whoami", headers=_bearer())
    assert (response.status_code, response.json["errorCode"]) == (405, "methodNotAllowedError")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
    assert response.content_type == "application/json"


def test_a_body_that_is_not_json_is_unsupported_media_type(environ):
    client = _app(environ)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml", None):
        response = client.post("/api/echo", data=b'{"name": "x"}', headers=_bearer(),
                               **({"content_type": content_type} if content_type else {}))
        answered = (response.status_code, response.json["errorCode"])
        assert answered == (415, "unsupportedMediaType"), content_type
    assert client.post("/api/echo", json={"name": "x"}, headers=_bearer()).status_code == 200


def test_a_body_over_the_limit_is_refused_from_its_content_length_naming_the_limit(environ):
    response = _app(environ).post("/api/echo", data=b"[" + b" " * (1024 * 1024) + b"]",
                                  content_type="application/json", headers=_bearer())
    assert (response.status_code, response.json["errorCode"]) == (413, "payloadTooLarge")
    assert (response.json["limitName"], response.json["limit"]) == ("bodyBytes", 1024 * 1024)


@pytest.mark.parametrize(("body", "limit_name", "path"), [
    ('{"data": {"filter": [' + ",".join(["{}"] * 300_000) + "]}}", "jsonValues", None),
    ('{"data": {"filter": [' + ",".join(["1"] * 10_001) + "]}}", "jsonArrayLength", "data.filter"),
])
def test_json_bodies_with_too_many_values_or_too_long_arrays_are_refused_naming_the_limit(
        environ, body, limit_name, path):
    response = _app(environ).post("/api/echo", data=body, content_type="application/json", headers=_bearer())
    assert (response.status_code, response.json["errorCode"]) == (413, "payloadTooLarge")
    assert response.json["limitName"] == limit_name
    assert response.json.get("path") == path
