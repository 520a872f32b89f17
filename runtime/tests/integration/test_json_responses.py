"""Responses are written by orjson, with the JSON values Flask's own provider wrote: dates as HTTP dates,
any text, keys that are no strings, and what orjson cannot write (an integer beyond 64 bits)."""

import json
import uuid
from datetime import UTC, date, datetime

from flask.json.provider import DefaultJSONProvider

from optimize_runtime.http import Blueprint, create_service_app
from optimize_runtime.settings import CommonSettings

VALUES = {
    "created": datetime(2026, 11, 30, 1, 2, 3, 456000, tzinfo=UTC), "day": date(2026, 11, 30),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "name": "Rapport é 😀 \u2028", 7: None,
    "numbers": [0, -1, 2**63 - 1, -(2**63), 0.1, 1e16, -0.0, True],
}


def _client(environ, value):
    blueprint = Blueprint("values", __name__)
    blueprint.route("/values")(lambda: value)
    settings = CommonSettings.from_env("test-svc", environ)
    return create_service_app(settings, title="t", blueprints=[blueprint], readiness=()).test_client()


def _as_flask_wrote_it(app_client, value):
    return json.loads(DefaultJSONProvider(app_client.application).dumps(value, sort_keys=False))


def test_responses_hold_the_values_flask_wrote(environ):
    client = _client(environ, VALUES)
    response = client.get("/values")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == _as_flask_wrote_it(client, VALUES)
    assert response.json["created"] == "Mon, 30 Nov 2026 01:02:03 GMT"
    assert list(response.json) == ["created", "day", "id", "name", "7", "numbers"]  # in the order given


def test_what_orjson_cannot_write_is_written_as_before(environ):
    value = {"big": 2**70, "list": [2**64]}
    client = _client(environ, value)
    assert client.get("/values").json == {"big": 2**70, "list": [2**64]}
