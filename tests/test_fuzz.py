"""Property-based fuzz, bounded and repeatable (hypothesis, derandomized: a fixed seed; the budget below):
import files mutated from a real one, and every operation of the three OpenAPI documents with generated
path parameters, query parameters and JSON bodies. Whatever is sent, no answer is a 5xx, and every answer
matches what its OpenAPI document says (the documented schema of its status, or the error body)."""

import json
import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimize_testing.fuzzing import JSON, mutated_anywhere
from optimize_testing.installation import start_installation
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT, isolated_names

IMPORT_FILES = 120         # generated import files
CALLS_PER_OPERATION = 6    # generated calls of each documented operation
FUZZ = settings(derandomize=True, deadline=None, database=None, print_blob=True,
                suppress_health_check=list(HealthCheck))



class Documents:
    """The three OpenAPI documents, and whether an answer is what they say."""

    def __init__(self, installation) -> None:
        self.docs = {service: installation.app(service).test_client().get("/openapi.json").json
                     for service in ("catalog", "export", "import")}

    def operations(self) -> list[tuple[str, str, str, dict]]:
        return [(service, method.upper(), path, operation)
                for service, doc in self.docs.items() for path, item in doc["paths"].items()
                for method, operation in item.items() if method in ("get", "post", "put", "delete")]

    def problems(self, service: str, operation: dict, status: int, body) -> list[str]:
        documented = operation["responses"].get(str(status))
        if documented is None and status >= 400:
            documented = operation["responses"].get("default")
        if documented is None:
            return [f"status {status} is not documented"]
        if "$ref" in documented:
            documented = self._resolve(service, documented["$ref"])
        schema = documented.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return []
        return _mismatches(body, schema, lambda ref: self._resolve(service, ref), "")

    def _resolve(self, service: str, ref: str) -> dict:
        node = self.docs[service]
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node


def _mismatches(value, schema: dict, resolve, where: str) -> list[str]:
    """What of `value` does not match an OpenAPI 3.0 schema (the parts these documents use)."""
    if "$ref" in schema:
        return _mismatches(value, resolve(schema["$ref"]), resolve, where)
    if value is None:
        return [] if schema.get("nullable") or not schema.get("type") else [f"{where}: null"]
    kind = schema.get("type")
    checks = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int,
              "number": (int, float)}
    if kind in checks and (not isinstance(value, checks[kind]) or (kind in ("integer", "number")
                                                                   and isinstance(value, bool))):
        return [f"{where}: {type(value).__name__} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    if kind == "string" and "pattern" in schema and not re.search(schema["pattern"], value):
        return [f"{where}: {value!r} does not match {schema['pattern']}"]
    problems = []
    if kind == "object":
        problems += [f"{where}.{name}: missing" for name in schema.get("required", []) if name not in value]
        for name, child in value.items():
            if name in schema.get("properties", {}):
                problems += _mismatches(child, schema["properties"][name], resolve, f"{where}.{name}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{where}.{name}: not documented")
    if kind == "array":
        for index, item in enumerate(value):
            problems += _mismatches(item, schema.get("items", {}), resolve, f"{where}[{index}]")
    return problems


@pytest.fixture(scope="module")
def world(servers):
    installation = start_installation(servers, isolated_names("fuzz"))
    headers = installation.headers()
    catalog = installation.catalog
    catalog.post("/api/definition", headers=headers, json=[
        {"type": "process", "key": "invoice", "version": "1"},
        {"type": "decision", "key": "approve", "version": "1"},
        {"type": "process", "key": "NasaImageProcessing", "version": "1"}])  # what the real export reads
    catalog.post("/api/authorization", headers=headers, json=[
        {"identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": "*"}])
    collection = catalog.post("/api/collection", json={"name": "Fuzz"}, headers=headers).json["id"]
    catalog.post(f"/api/collection/{collection}/scope", headers=headers, json=[
        {"definitionType": "process", "definitionKey": "NasaImageProcessing", "tenants": [None]}])
    ids = {"collection_id": [collection], "report_id": [], "dashboard_id": []}
    yield installation, Documents(installation), ids
    installation.close()


def answer_of(response):
    body = response.get_json(silent=True)
    if response.status_code >= 400:
        assert isinstance(body, dict) and body.get("errorCode"), (response.status_code, response.data[:200])
    return body


REAL_FILE = json.loads(REAL_OPTIMIZE_EXPORT.read_text())


@st.composite
def import_files(draw):
    """The real export with a few values replaced, removed or added anywhere in it, or any JSON at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    return mutated_anywhere(draw, REAL_FILE, st.integers(1, 4))


def test_generated_import_files_never_get_a_5xx_and_every_answer_is_documented(world):
    installation, documents, ids = world
    operation = documents.docs["import"]["paths"]["/api/import"]["post"]
    seen: list[int] = []

    @settings(FUZZ, max_examples=IMPORT_FILES)
    @given(file=import_files(), dry_run=st.booleans(), into_collection=st.booleans())
    def one_import(file, dry_run, into_collection):
        query = {"dryRun": str(dry_run).lower()}
        if into_collection:
            query["collectionId"] = ids["collection_id"][0]
        response = installation.imports.post("/api/import", query_string=query, data=json.dumps(file),
                                             content_type="application/json", headers=installation.headers())
        body = answer_of(response)
        seen.append(response.status_code)
        assert response.status_code < 500, body
        assert documents.problems("import", operation, response.status_code, body) == []

    one_import()
    print(f"import fuzz: {len(seen)} files, statuses {sorted(set(seen))}")
    assert len(seen) >= IMPORT_FILES // 2


def _path_values(ids: dict, name: str):
    known = ids.get(name) or []
    generated = st.text(min_size=1, max_size=30).filter(lambda text: text not in (".", ".."))
    return st.sampled_from(known) | generated if known else generated


def _fuzzed_operation(installation, documents, ids, calls, service, method, path, operation):
    names = re.findall(r"{(\w+)}", path)
    queries = [parameter for parameter in operation.get("parameters", []) if parameter["in"] == "query"]
    client = installation.app(service).test_client()

    @settings(FUZZ, max_examples=CALLS_PER_OPERATION)
    @given(values=st.fixed_dictionaries({name: _path_values(ids, name) for name in names}),
           query=st.fixed_dictionaries({}, optional={
               q["name"]: st.text(max_size=12) | st.integers(-5, 20000).map(str) for q in queries}),
           body=st.none() | JSON)
    def one_call(values, query, body):
        url = path.format(**{name: quote(value, safe="") for name, value in values.items()})
        kwargs = {} if body is None or method in ("GET", "DELETE") else {"json": body}
        headers = installation.public_headers() if path.startswith("/api/public/") else installation.headers()
        response = client.open(url, method=method, query_string=query, headers=headers, **kwargs)
        answer = answer_of(response)
        calls.append((f"{method} {path}", response.status_code))
        assert response.status_code < 500, (method, url, query, body, answer)
        assert documents.problems(service, operation, response.status_code, answer) == [], (
            method, url, response.status_code, answer)
        if response.status_code == 200 and isinstance(answer, dict) and "id" in answer:
            kind = {"report": "report_id", "dashboard": "dashboard_id"}.get(path.split("/")[2])
            if kind:
                ids[kind].append(answer["id"])

    return one_call


def test_every_operation_with_generated_input_never_gets_a_5xx_and_answers_as_documented(world):
    installation, documents, ids = world
    calls: list[tuple[str, int]] = []
    for service, method, path, operation in documents.operations():
        _fuzzed_operation(installation, documents, ids, calls, service, method, path, operation)()
    print(f"operation fuzz: {len(calls)} calls over {len(documents.operations())} operations, "
          f"statuses {sorted({status for _, status in calls})}")
    assert len(calls) >= len(documents.operations())
