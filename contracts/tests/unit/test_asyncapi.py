"""contracts/asyncapi.yaml and the marshmallow contracts say the same: every event type with its payload
and details, every RPC method with its params and result, the RPC envelope and its error reply, field by
field (name, type, format, enum, nullability, required, nesting). Descriptions and examples are the
document's own."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from marshmallow import Schema, fields, validate

from contracts import rpc
from contracts.catalog_rpc import register_catalog_rpc
from contracts.events import EVENT_DETAILS, EVENT_TYPES, EVENTS_EXCHANGE, EventSchema

DOCUMENT = Path(__file__).resolve().parents[2] / "asyncapi.yaml"
DOC_ONLY = ("description", "examples", "title")


@pytest.fixture(scope="module")
def document() -> dict:
    register_catalog_rpc()
    return yaml.safe_load(DOCUMENT.read_text())


def component_name(schema: Schema | type[Schema]) -> str:
    name = (schema if isinstance(schema, type) else type(schema)).__name__
    return name.removesuffix("Schema")


def event_component(event_type: str) -> str:
    return "".join(part.title() for part in event_type.split(".")) + "Event"


def field_schema(field: fields.Field) -> dict[str, Any]:
    """The JSON Schema a marshmallow field stands for."""
    if isinstance(field, fields.Nested):
        schema: dict[str, Any] = {"$ref": f"#/components/schemas/{component_name(field.schema)}"}
        return {"oneOf": [schema, {"type": "null"}]} if field.allow_none else schema
    if isinstance(field, fields.List):
        schema = {"type": "array", "items": field_schema(field.inner)}
    elif isinstance(field, fields.UUID):
        schema = {"type": "string", "format": "uuid"}
    elif isinstance(field, fields.DateTime):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, fields.String):
        schema = {"type": "string"}
    elif isinstance(field, fields.Integer):
        schema = {"type": "integer"}
    elif isinstance(field, fields.Boolean):
        schema = {"type": "boolean"}
    elif isinstance(field, fields.Dict):
        schema = {"type": "object"}
    else:
        raise AssertionError(f"no JSON Schema for {type(field).__name__}")
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            schema["enum"] = list(validator.choices)
        elif isinstance(validator, validate.Length) and validator.min:
            schema["minLength"] = validator.min
    if field.allow_none:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def object_schema(schema: Schema | type[Schema], **overrides: dict) -> dict[str, Any]:
    instance = schema() if isinstance(schema, type) else schema
    properties = {name: field_schema(field) for name, field in instance.fields.items()}
    properties.update(overrides)
    result: dict[str, Any] = {"type": "object", "properties": properties}
    required = [name for name, field in instance.fields.items() if field.required]
    if required:
        result["required"] = required
    return result


def without_prose(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: without_prose(value) for key, value in node.items()
                if key not in DOC_ONLY and key != "additionalProperties" and not key.startswith("x-")}
    if isinstance(node, list):
        return [without_prose(item) for item in node]
    return node


def nested_schemas(schema: Schema) -> list[Schema]:
    found = []
    for field in schema.fields.values():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            found.append(inner.schema)
    return found


def contract_methods() -> dict[str, rpc.RpcMethod]:
    """The methods of the contract (other tests register methods of their own in the same registry)."""
    return {"ping": rpc.RPC_METHODS["ping"], **register_catalog_rpc()}


def expected_schemas() -> dict[str, dict]:
    """Every schema the document must hold, as the contracts define it."""
    expected: dict[str, dict] = {}
    for event_type in EVENT_TYPES:
        details = EVENT_DETAILS[event_type]
        expected[component_name(details)] = object_schema(details)
        expected[event_component(event_type)] = object_schema(
            EventSchema, type={"type": "string", "const": event_type},
            details={"$ref": f"#/components/schemas/{component_name(details)}"})
    pending: list[Schema] = [rpc.RpcErrorSchema()]
    for method in contract_methods().values():
        pending += [method.params_schema, method.result_schema]
    while pending:
        schema = pending.pop()
        expected[component_name(schema)] = object_schema(schema)
        pending += nested_schemas(schema)
    return expected


def test_every_schema_of_the_contracts_is_in_the_document_field_by_field(document):
    schemas = document["components"]["schemas"]
    for name, schema in expected_schemas().items():
        assert name in schemas, f"{name} is missing from the document"
        assert without_prose(schemas[name]) == schema, name


def test_the_document_holds_no_schema_the_contracts_do_not_define(document):
    envelopes = {name for name in document["components"]["schemas"] if name.endswith(("Request", "Reply"))}
    assert set(document["components"]["schemas"]) - envelopes == set(expected_schemas())


def test_every_event_type_is_a_message_on_the_events_exchange_routed_by_its_type(document):
    channel = document["channels"]["events"]
    assert channel["address"] == EVENTS_EXCHANGE
    exchange = channel["bindings"]["amqp"]["exchange"]
    assert (exchange["name"], exchange["type"], exchange["durable"]) == (EVENTS_EXCHANGE, "topic", True)
    messages = document["components"]["messages"]
    routed = {}
    for reference in channel["messages"].values():
        message = messages[reference["$ref"].rsplit("/", 1)[1]]
        event_type = message["name"]
        assert message["payload"] == {"$ref": f"#/components/schemas/{event_component(event_type)}"}
        assert message["bindings"]["amqp"]["deliveryMode"] == 2, "persistent"
        routed[event_type] = message
    assert set(routed) == set(EVENT_TYPES)


def test_every_rpc_method_has_its_request_its_reply_and_the_error_reply(document):
    channel = document["channels"]["catalogRpc"]
    assert channel["address"] == "catalog.rpc"
    queue = channel["bindings"]["amqp"]["queue"]
    assert (queue["durable"], queue["autoDelete"]) == (False, True)
    schemas, operations = document["components"]["schemas"], document["operations"]
    for method_name, method in contract_methods().items():
        request = schemas[f"{_camel(method_name)}Request"]
        assert without_prose(request) == {
            "type": "object", "required": ["contractVersion", "method", "params"],
            "properties": {"contractVersion": {"type": "integer", "const": rpc.CONTRACT_VERSION},
                           "method": {"type": "string", "const": method_name},
                           "params": {"$ref": _schema_ref(method.params_schema)}}}
        reply = schemas[f"{_camel(method_name)}Reply"]
        assert without_prose(reply) == {
            "type": "object", "required": ["contractVersion", "ok", "result"],
            "properties": {"contractVersion": {"type": "integer", "const": rpc.CONTRACT_VERSION},
                           "ok": {"type": "boolean", "const": True},
                           "result": {"$ref": _schema_ref(method.result_schema)},
                           "error": {"type": "null"}}}
        operation = operations[_camel(method_name, upper=False)]
        assert operation["action"] == "send"
        assert operation["channel"] == {"$ref": "#/channels/catalogRpc"}
        replies = {ref["$ref"].rsplit("/", 1)[1] for ref in operation["reply"]["messages"]}
        assert replies == {f"{_camel(method_name, upper=False)}Reply", "errorReply"}
    assert without_prose(schemas["ErrorReply"]) == {
        "type": "object", "required": ["ok", "error"],
        "properties": {"contractVersion": {"type": "integer"}, "ok": {"type": "boolean", "const": False},
                       "result": {"type": "null"}, "error": {"$ref": "#/components/schemas/RpcError"}}}
    codes = schemas["RpcError"]["properties"]["code"]["examples"]
    assert set(codes) >= {rpc.UNKNOWN_METHOD, rpc.INVALID_RPC_MESSAGE, rpc.CONTRACT_VERSION_MISMATCH,
                          rpc.SERVER_ERROR}


def test_every_reference_in_the_document_resolves(document):
    def references(node: Any):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from references(value)
        elif isinstance(node, list):
            for item in node:
                yield from references(item)

    for reference in references(document):
        target: Any = document
        for part in reference.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, f"{reference} does not resolve"
            target = target[part]
    assert document["asyncapi"] == "3.0.0"


def _schema_ref(schema: Schema) -> str:
    return f"#/components/schemas/{component_name(schema)}"


def _camel(name: str, upper: bool = True) -> str:
    words = name.split("_")
    camel = "".join(word.title() for word in words)
    return camel if upper else camel[0].lower() + camel[1:]


def test_every_method_the_catalog_serves_is_in_the_document(document):
    served = set(register_catalog_rpc()) | {"ping"}
    documented = {operation["messages"][0]["$ref"].rsplit("/", 1)[1].removesuffix("Request")
                  for operation in document["operations"].values()
                  if operation["channel"] == {"$ref": "#/channels/catalogRpc"}}
    assert documented == {_camel(name, upper=False) for name in served}
