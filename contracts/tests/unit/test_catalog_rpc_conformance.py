"""The plain checks of check_import's params and result pass only what their schemas find nothing wrong
with, and load params exactly as the schema does, so that skipping marshmallow never changes what the
catalog worker reads or lets a broken message through; and the messages the services make do pass them
(the fast path is taken)."""

import json

import pytest

from contracts.catalog_rpc import (
    CHECK_IMPORT,
    CheckImportParams,
    CheckImportResult,
    _check_import_result_conforms,
    _load_check_import_params,
    register_catalog_rpc,
)
from contracts.rpc import RpcError, decode_request, encode_result
from optimize_testing.fuzzing import mutated_everywhere

PARAMS = {
    "user": {"id": "alice", "groups": ["analysts"], "superuser": False},
    "collectionId": "c1", "collectionIds": ["c2"], "checkAuthorization": True, "withVariables": True,
    "definitions": [
        {"type": "process", "key": "invoice", "versions": ["1", "all"], "tenantIds": [None, "t1"]},
        {"type": "decision", "key": "risk", "versions": [], "tenantIds": []},
    ],
}
ACCESS = {"id": "c1", "exists": True, "name": "Sales", "role": "editor"}
RESULT = {
    "collection": ACCESS,
    "definitions": [{"type": "process", "key": "invoice", "versions": ["1"], "tenantIds": [None, "t1"],
                     "name": "Invoice", "exists": True, "missingTenants": ["t1"], "existingVersions": ["1"],
                     "missingVersions": [], "authorized": False, "forbiddenTenants": [None],
                     "inScope": True, "tenantsOutOfScope": [], "xml": "<bpmn/>",
                     "variables": [{"name": "amount", "type": "Double"}]}],
    "forbiddenDefinitions": [{"type": "process", "key": "invoice", "tenantIds": [None]}],
    "collections": [{**ACCESS, "id": "c2", "role": None, "name": None}],
}
ODD_VALUES = [None, "", "x", "process", "decision", "viewer", "Double", 0, 1, True, False, 1.5, [], ["a"],
              [1], [None], [""], {}, {"a": 1}, [{"name": "", "type": "Double"}],
              [{"name": "a", "type": "Text"}],
              [{"type": "process", "key": "k", "versions": [], "tenantIds": [], "extra": 1}], ACCESS]


def _same(one, other) -> bool:
    """Equal and of the same JSON types (1 == True in Python, not in JSON)."""
    return json.dumps(one, sort_keys=True) == json.dumps(other, sort_keys=True)


def _mutations(message):
    return mutated_everywhere(message, ODD_VALUES, unknown_key="unexpected")


def test_the_services_params_and_results_take_the_plain_path():
    assert _same(_load_check_import_params(PARAMS), CheckImportParams().load(PARAMS))
    minimal = {"user": {"id": "System User"}, "definitions": []}
    assert _same(_load_check_import_params(minimal), CheckImportParams().load(minimal))
    assert _check_import_result_conforms(RESULT)
    assert _check_import_result_conforms({"collection": None, "definitions": []})


@pytest.mark.parametrize("params", list(_mutations(PARAMS)))
def test_params_load_plainly_only_as_the_schema_loads_them(params):
    loaded = _load_check_import_params(params)
    if loaded is not None:
        assert _same(loaded, CheckImportParams().load(params))


@pytest.mark.parametrize("result", list(_mutations(RESULT)))
def test_a_result_passes_plainly_only_when_the_schema_finds_nothing_wrong(result):
    if _check_import_result_conforms(result):
        assert CheckImportResult().validate(result) == {}


def test_the_worker_decodes_and_encodes_without_marshmallow_and_the_schema_words_the_problems(monkeypatch):
    method = register_catalog_rpc()[CHECK_IMPORT]
    request = json.dumps({"contractVersion": 1, "method": CHECK_IMPORT, "params": PARAMS})
    expected = CheckImportParams().load(PARAMS)

    def not_asked(*_args, **_kwargs):
        raise AssertionError("the schema was asked")

    with monkeypatch.context() as patched:
        for schema in (method.params_schema, method.result_schema):
            patched.setattr(schema, "load", not_asked)
            patched.setattr(schema, "validate", not_asked)
        assert decode_request(request) == (CHECK_IMPORT, expected)
        assert json.loads(encode_result(CHECK_IMPORT, RESULT))["result"] == RESULT
    with pytest.raises(RpcError) as refused:
        encode_result(CHECK_IMPORT, {**RESULT, "definitions": [{"type": "case"}]})
    assert "definitions" in refused.value.details["messages"]
    with pytest.raises(RpcError) as refused:
        decode_request(json.dumps({"contractVersion": 1, "method": CHECK_IMPORT, "params": {"user": {}}}))
    assert set(refused.value.details["messages"]) == {"user", "definitions"}
