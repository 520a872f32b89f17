"""RPC messages between the services: the request/reply envelope, the registry of methods with the
schemas of their params and results, and the error codes a reply can carry.

Both sides check every message against this module: the client before it sends params and when it reads
a result, the server when it reads params and before it sends a result. Method schemas should use
JSON-native fields (strings, numbers, lists, dicts), so that what is loaded equals what was sent.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

CONTRACT_VERSION = 1

# Error codes an RPC reply can carry; handlers add their own domain codes.
UNKNOWN_METHOD = "unknownMethod"
INVALID_RPC_MESSAGE = "invalidRpcMessage"
CONTRACT_VERSION_MISMATCH = "contractVersionMismatch"
SERVER_ERROR = "serverError"


class RpcError(Exception):
    """An error that travels as data in a reply: a code, a message for people, details for programs.
    Raised by a handler to answer with that code; raised locally when a message breaks the contract."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class RpcRequestSchema(Schema):
    contractVersion = fields.Int(required=True, strict=True)
    method = fields.Str(required=True)
    params = fields.Dict(keys=fields.Str(), required=True)


class RpcErrorSchema(Schema):
    code = fields.Str(required=True)
    message = fields.Str(required=True)
    details = fields.Dict(keys=fields.Str(), load_default=dict)


class RpcReplySchema(Schema):
    contractVersion = fields.Int(required=True, strict=True)
    ok = fields.Bool(required=True)
    result = fields.Dict(keys=fields.Str(), allow_none=True, load_default=None)
    error = fields.Nested(RpcErrorSchema, allow_none=True, load_default=None)

    @validates_schema
    def result_or_error(self, data: dict[str, Any], **_: Any) -> None:
        if data["ok"] and data.get("result") is None:
            raise ValidationError("a reply with ok=true carries a result", "result")
        if not data["ok"] and data.get("error") is None:
            raise ValidationError("a reply with ok=false carries an error", "error")


# Made once: making a marshmallow schema costs more than validating with it (every message is checked).
_REQUEST_SCHEMA = RpcRequestSchema()
_REPLY_SCHEMA = RpcReplySchema()
_ERROR_REPLY_SCHEMA = RpcReplySchema(only=("ok", "error"))


@dataclass(frozen=True)
class RpcMethod:
    """A method's schemas, and optionally plain checks that answer the common case without marshmallow
    (the schema decides whenever they are in doubt, so its messages stay its own): `load_params` gives
    the params as the params schema loads them, or None when in doubt; `result_conforms` is True only for
    a result the result schema finds nothing wrong with. The method's contract tests hold them against the
    schemas."""

    params_schema: Schema
    result_schema: Schema
    load_params: Callable[[Any], dict[str, Any] | None] | None = None
    result_conforms: Callable[[Any], bool] | None = None


class PingParamsSchema(Schema):
    pass


class PingResultSchema(Schema):
    service = fields.Str(required=True)
    time = fields.Str(required=True)


# Every server answers `ping` (readiness probes ask it): part of the protocol itself, so it is here from the
# start; the methods of a service are added by whoever wires a process (`register_rpc_method`).
RPC_METHODS: dict[str, RpcMethod] = {"ping": RpcMethod(PingParamsSchema(), PingResultSchema())}


def register_rpc_method(
    name: str, params_schema: type[Schema] | Schema, result_schema: type[Schema] | Schema,
    load_params: Callable[[Any], dict[str, Any] | None] | None = None,
    result_conforms: Callable[[Any], bool] | None = None,
) -> RpcMethod:
    """Add a method to this process's contract (a service's wiring calls it, e.g. `register_catalog_rpc`)."""
    method = RpcMethod(_instance(params_schema), _instance(result_schema), load_params, result_conforms)
    known = RPC_METHODS.get(name)
    if known is not None and _schema_names(known) != _schema_names(method):
        raise ValueError(f"RPC method {name!r} is already registered with other schemas")
    RPC_METHODS[name] = method
    return method


def _instance(schema: type[Schema] | Schema) -> Schema:
    return schema() if isinstance(schema, type) else schema


def _schema_names(method: RpcMethod) -> tuple[str, str]:
    # Compared by qualified name so that importing a contracts module twice re-registers harmlessly.
    return tuple(
        f"{type(s).__module__}.{type(s).__qualname__}" for s in (method.params_schema, method.result_schema)
    )


def rpc_method(name: str) -> RpcMethod:
    try:
        return RPC_METHODS[name]
    except KeyError:
        raise RpcError(UNKNOWN_METHOD, f"no RPC method {name!r} in the contract", {"method": name}) from None


def _invalid(what: str, messages: Any) -> RpcError:
    return RpcError(INVALID_RPC_MESSAGE, f"{what} does not match the contract", {"messages": messages})


def _decode(body: bytes | str, what: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _invalid(what, {"_schema": [f"not JSON: {error}"]}) from None


def _check_version(message: Any, what: str) -> None:
    received = message.get("contractVersion") if isinstance(message, dict) else None
    if isinstance(received, int) and received != CONTRACT_VERSION:
        raise RpcError(
            CONTRACT_VERSION_MISMATCH,
            f"{what} has contract version {received}, this side speaks {CONTRACT_VERSION}",
            {"expected": CONTRACT_VERSION, "received": received},
        )


def encode_request(method: str, params: dict[str, Any]) -> bytes:
    """The request body for a call; raises RpcError when the method or its params break the contract."""
    errors = rpc_method(method).params_schema.validate(params)
    if errors:
        raise _invalid(f"params of {method!r}", errors)
    return json.dumps({"contractVersion": CONTRACT_VERSION, "method": method, "params": params}).encode()


def decode_request(body: bytes | str) -> tuple[str, dict[str, Any]]:
    """The method and its loaded params; raises RpcError with the code to answer a bad request with."""
    request = _decode(body, "request")
    _check_version(request, "request")
    if not _plain_request(request):
        try:
            request = _REQUEST_SCHEMA.load(request)
        except ValidationError as error:
            raise _invalid("request", error.messages) from None
    method = rpc_method(request["method"])
    loaded = method.load_params(request["params"]) if method.load_params else None
    if loaded is not None:
        return request["method"], loaded
    try:
        return request["method"], method.params_schema.load(request["params"])
    except ValidationError as error:
        raise _invalid(f"params of {request['method']!r}", error.messages) from None


def encode_result(method: str, result: dict[str, Any]) -> bytes:
    """The reply body for a handler's result; raises RpcError when the result breaks the contract."""
    contract = rpc_method(method)
    if not isinstance(result, dict):
        errors = {"_schema": ["not a dict"]}
    elif contract.result_conforms is not None and contract.result_conforms(result):
        errors = {}
    else:
        errors = contract.result_schema.validate(result)
    if errors:
        raise _invalid(f"result of {method!r}", errors)
    return json.dumps(
        {"contractVersion": CONTRACT_VERSION, "ok": True, "result": result, "error": None}
    ).encode()


def _plain_request(request: Any) -> bool:
    """What RpcRequestSchema loads unchanged (exact types, no other field): the schema is not asked."""
    return (type(request) is dict and len(request) == 3 and type(request.get("contractVersion")) is int
            and type(request.get("method")) is str and type(request.get("params")) is dict
            and all(type(name) is str for name in request["params"]))


def encode_error(error: RpcError) -> bytes:
    return json.dumps(
        {"contractVersion": CONTRACT_VERSION, "ok": False, "result": None, "error": error.to_dict()}
    ).encode()


def decode_reply(method: str, body: bytes | str) -> dict[str, Any]:
    """The validated reply: `{ok: True, result}` with the loaded result, or `{ok: False, error}`.
    Raises RpcError when the reply itself breaks the contract."""
    reply = _decode(body, "reply")
    if isinstance(reply, dict) and reply.get("ok") is False:
        # The error envelope is the same in every contract version, so a remote error is always readable.
        try:
            return _ERROR_REPLY_SCHEMA.load({"ok": False, "error": reply.get("error")})
        except ValidationError as error:
            raise _invalid("reply", error.messages) from None
    _check_version(reply, "reply")
    try:
        reply = _REPLY_SCHEMA.load(reply)
        reply["result"] = rpc_method(method).result_schema.load(reply["result"])
    except ValidationError as error:
        raise _invalid(f"reply to {method!r}", error.messages) from None
    return reply

