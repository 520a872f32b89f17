"""RPC and event messages: what each side accepts and the error codes it answers with."""

import json
import subprocess
import sys
import uuid
from datetime import datetime

import pytest
from marshmallow import Schema, ValidationError, fields

from contracts.events import EVENT_TYPES, EVENTS_EXCHANGE, EventSchema, new_event
from contracts.rpc import (
    CONTRACT_VERSION,
    CONTRACT_VERSION_MISMATCH,
    INVALID_RPC_MESSAGE,
    RPC_METHODS,
    UNKNOWN_METHOD,
    RpcError,
    decode_reply,
    decode_request,
    encode_error,
    encode_request,
    encode_result,
    register_rpc_method,
)


class GreetParams(Schema):
    name = fields.Str(required=True)


class GreetResult(Schema):
    greeting = fields.Str(required=True)


register_rpc_method("test.greet", GreetParams, GreetResult)


def request(**overrides) -> bytes:
    return json.dumps(
        {"contractVersion": CONTRACT_VERSION, "method": "ping", "params": {}, **overrides}
    ).encode()


def raises_code(code: str, call, *args) -> RpcError:
    with pytest.raises(RpcError) as caught:
        call(*args)
    assert caught.value.code == code
    return caught.value


def test_ping_is_in_the_contract():
    assert "ping" in RPC_METHODS
    assert decode_request(encode_request("ping", {})) == ("ping", {})


def test_a_request_round_trips_with_its_params():
    assert decode_request(encode_request("test.greet", {"name": "Ada"})) == ("test.greet", {"name": "Ada"})


def test_the_client_refuses_an_unknown_method_and_invalid_params():
    raises_code(UNKNOWN_METHOD, encode_request, "no.such.method", {})
    error = raises_code(INVALID_RPC_MESSAGE, encode_request, "test.greet", {"name": 7})
    assert error.details["messages"] == {"name": ["Not a valid string."]}


@pytest.mark.parametrize(
    "body, code",
    [
        (b"\xff\x00 not json", INVALID_RPC_MESSAGE),
        (b"[1, 2]", INVALID_RPC_MESSAGE),
        (request(method=None), INVALID_RPC_MESSAGE),
        (request(method="no.such.method"), UNKNOWN_METHOD),
        (request(method="test.greet", params={"name": "Ada", "extra": 1}), INVALID_RPC_MESSAGE),
        (request(contractVersion=CONTRACT_VERSION + 1), CONTRACT_VERSION_MISMATCH),
    ],
)
def test_the_server_answers_a_bad_request_with_a_code(body, code):
    raises_code(code, decode_request, body)


def test_invalid_params_name_the_field_in_details():
    error = raises_code(INVALID_RPC_MESSAGE, decode_request, request(method="test.greet", params={}))
    assert error.details["messages"] == {"name": ["Missing data for required field."]}


def test_a_version_mismatch_names_both_versions():
    error = raises_code(CONTRACT_VERSION_MISMATCH, decode_request, request(contractVersion=99))
    assert error.details == {"expected": CONTRACT_VERSION, "received": 99}


def test_a_result_reply_round_trips():
    reply = decode_reply("test.greet", encode_result("test.greet", {"greeting": "hello Ada"}))
    assert reply["ok"] is True
    assert reply["result"] == {"greeting": "hello Ada"}


def test_the_server_refuses_to_send_a_result_that_breaks_the_contract():
    raises_code(INVALID_RPC_MESSAGE, encode_result, "test.greet", {"greet": "typo"})
    raises_code(INVALID_RPC_MESSAGE, encode_result, "test.greet", ["not", "a", "dict"])


def test_an_error_reply_carries_code_message_and_details():
    body = encode_error(RpcError("definitionNotFound", "no such definition", {"key": "invoice"}))
    reply = decode_reply("test.greet", body)
    assert reply["ok"] is False
    assert reply["error"] == {
        "code": "definitionNotFound",
        "message": "no such definition",
        "details": {"key": "invoice"},
    }


def test_an_error_reply_from_another_contract_version_is_still_read():
    body = json.dumps(
        {
            "contractVersion": 2,
            "ok": False,
            "result": None,
            "error": {"code": CONTRACT_VERSION_MISMATCH, "message": "m"},
        }
    )
    assert decode_reply("ping", body)["error"]["code"] == CONTRACT_VERSION_MISMATCH


def test_the_client_refuses_a_reply_that_breaks_the_contract():
    raises_code(INVALID_RPC_MESSAGE, decode_reply, "test.greet", b"not json")
    raises_code(
        INVALID_RPC_MESSAGE, decode_reply, "test.greet", encode_result("ping", {"service": "s", "time": "t"})
    )
    ok_without_result = json.dumps(
        {"contractVersion": CONTRACT_VERSION, "ok": True, "result": None, "error": None}
    )
    raises_code(INVALID_RPC_MESSAGE, decode_reply, "test.greet", ok_without_result)
    newer = json.dumps({"contractVersion": 99, "ok": True, "result": {"greeting": "hi"}, "error": None})
    raises_code(CONTRACT_VERSION_MISMATCH, decode_reply, "test.greet", newer)


def test_a_method_cannot_be_registered_twice_with_other_schemas():
    register_rpc_method("test.greet", GreetParams(), GreetResult())  # the same schemas again: harmless
    with pytest.raises(ValueError, match="already registered"):
        register_rpc_method("test.greet", GreetResult, GreetParams)


def test_new_event_is_complete_and_valid():
    event = new_event("entity.imported", "demo", ["r1", "d1"], collection_id="c1", requestId="req-1")
    assert EventSchema().validate(event) == {}
    assert uuid.UUID(event["eventId"])
    assert datetime.fromisoformat(event["time"]).utcoffset().total_seconds() == 0
    assert event["actor"] == "demo"
    assert event["entityIds"] == ["r1", "d1"]
    assert (event["collectionId"], event["requestId"], event["details"]) == ("c1", "req-1", {})


def test_every_event_type_is_accepted_and_others_are_refused():
    assert EVENTS_EXCHANGE == "optimize.events"
    for event_type in EVENT_TYPES:
        new_event(event_type, "demo", ["e1"])
    with pytest.raises(ValidationError):
        new_event("entity.renamed", "demo", ["e1"])


def test_new_event_refuses_fields_it_does_not_know():
    with pytest.raises(TypeError, match="collectionID"):
        new_event("entity.created", "demo", ["e1"], collectionID="typo")


def test_an_event_time_must_be_utc():
    event = new_event("entity.deleted", "demo", ["e1"])
    assert "time" in EventSchema().validate({**event, "time": "2024-05-01T12:00:00+02:00"})
    assert "time" in EventSchema().validate({**event, "time": "2024-05-01T12:00:00"})


def test_the_catalog_methods_are_registered_by_the_process_that_speaks_them_not_by_an_import():
    """A fresh interpreter: importing the catalog's contract adds no method; `register_catalog_rpc()` adds
    check_import, check_export and collection_access (and may be called again)."""
    script = (
        "import contracts.catalog_rpc as catalog, contracts.rpc as rpc\n"
        "before = sorted(rpc.RPC_METHODS)\n"
        "catalog.register_catalog_rpc(); catalog.register_catalog_rpc()\n"
        "print(json.dumps([before, sorted(rpc.RPC_METHODS)]))\n")
    run = subprocess.run([sys.executable, "-c", "import json\n" + script], capture_output=True, text=True,
                         check=True)
    assert json.loads(run.stdout) == [["ping"], ["check_export", "check_import", "collection_access", "ping"]]
