"""Imports that go wrong: bad files, limits, a catalog or store that fails, concurrent and killed imports.
Whatever happens, the store holds whole imports or nothing of them, and nothing answers a bare 5xx."""

import io
import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest
from pymongo import MongoClient
from pymongo.errors import AutoReconnect
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from import_svc.app import create_app
from import_svc.config import ImportConfig
from optimize_testing.store_commands import StoreCommands

MB = 1024 * 1024


def seed_invoice(installation):
    headers = installation.headers()
    definitions = [{"type": "process", "key": "invoice", "name": "Invoice", "version": "1", "tenantId": None}]
    response = installation.catalog.post("/api/definition", json=definitions, headers=headers)
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    grant = [{"identity": {"id": "demo", "type": "user"}, "definitionType": "process", "definitionKey": "*",
              "tenants": [None]}]
    response = installation.catalog.post("/api/authorization", json=grant, headers=headers)
    assert response.status_code in (200, 204), response.get_data(as_text=True)


def report(report_id="r1", key="invoice", name=None, **data):
    return {"id": report_id, "exportEntityType": "single_process_report",
            "name": name or f"Report {report_id}",
            "description": None, "sourceIndexVersion": 11, "collectionId": None,
            "data": {"definitions": [{"key": key, "versions": ["1"], "tenantIds": [None]}],
                     "configuration": {}, "filter": [], "view": None, "groupBy": None,
                     "visualization": "table", **data}}


def entities_db(installation):
    return MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"])[installation.names.entities_db]


def stored_names(installation) -> list[str]:
    db = entities_db(installation)
    return [doc["name"] for name in ("reports", "dashboards") for doc in db[name].find({}, {"name": 1})]


def post(client, headers, body: bytes, query="", **kwargs):
    return client.post(f"/api/import{query}", data=body, content_type="application/json", headers=headers,
                       **kwargs)


class Whitespace(io.RawIOBase):
    """`size` bytes of blanks, made while read: a 100 MB body without 100 MB in memory."""

    def __init__(self, size: int) -> None:
        self.remaining = self.size = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.remaining)
        buffer[:count] = b" " * count
        self.remaining -= count
        return count


@pytest.mark.parametrize(("body", "path"), [
    (b"this is not JSON", ""),
    (b'{"id": "r1", "exportEntityType": "single_process_report"}', ""),
    (b"[]", ""),
    (b"[1, 2, 3]", "[0]"),
    (json.dumps([{**report(), "exportEntityType": "alert_v2"}]).encode(), "[0].exportEntityType"),
    (json.dumps([report(filter=[{"type": "x", "data": {"$where": "sleep(100)"}}])]).encode(),
     "[0].data.filter[0].data.$where"),
    (b"[" * 100_000 + b"]" * 100_000, ""),
])
def test_files_that_are_not_export_files_are_refused_as_invalid(installation, body, path):
    seed_invoice(installation)
    response = post(installation.imports, installation.headers(), body)
    assert (response.status_code, response.json["errorCode"]) == (400, "importFileInvalid")
    assert response.json["validationErrors"][0]["path"].startswith(path)
    assert stored_names(installation) == []


@pytest.mark.parametrize(("name", "configuration", "path", "message"), [
    ('"\\ud800 Report"', "{}", "[0].name", "lone surrogate"),
    ('"R"', '{"\\udfff": 1}', "[0].data.configuration", "lone surrogate"),
    ('"R"', f'{{"n": {2**70}}}', "[0].data.configuration.n", "64 bits"),
    ('"R"', f'{{"n": {-(2**70)}}}', "[0].data.configuration.n", "64 bits"),
    # just beyond 64 bits, where a fast JSON reader turns the integer into a float without a word
    ('"R"', f'{{"n": {-(2**63) - 1}}}', "[0].data.configuration.n", "64 bits"),
    ('"R"', f'{{"n": {2**64}}}', "[0].data.configuration.n", "64 bits"),
    ('"R"', '{"n": 1e400}', "[0].data.configuration.n", "finite"),
])
def test_values_that_cannot_be_stored_are_invalid_with_their_path_not_a_crash(
        installation, name, configuration, path, message):
    seed_invoice(installation)
    text = json.dumps([report(name="NAME", configuration="CONFIGURATION")])
    body = text.replace('"NAME"', name).replace('"CONFIGURATION"', configuration).encode()
    response = post(installation.imports, installation.headers(), body)
    assert (response.status_code, response.json["errorCode"]) == (400, "importFileInvalid"), response.json
    error = response.json["validationErrors"][0]
    assert error["path"].startswith(path) and message in error["message"], error
    assert stored_names(installation) == []


def _post_stream(installation, stream: Whitespace, declared_length: int | None):
    environ = EnvironBuilder("/api/import", method="POST", content_type="application/json",
                             headers=installation.headers()).get_environ()
    environ["wsgi.input"] = stream
    if declared_length is None:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True  # as gunicorn says of a chunked body
    else:
        environ["CONTENT_LENGTH"] = str(declared_length)
    return installation.imports.open(Request(environ))  # a Request, so the client does not rebuild it


def test_100_mb_of_whitespace_is_too_large_whether_its_length_is_declared_or_streamed(installation):
    declared = Whitespace(100 * MB)
    response = _post_stream(installation, declared, declared.size)
    assert (response.status_code, response.json["errorCode"]) == (413, "payloadTooLarge")
    assert (response.json["limit"], response.json["actual"]) == (32 * MB, 100 * MB)
    assert declared.remaining == declared.size  # refused before reading a byte

    streamed = Whitespace(100 * MB)
    response = _post_stream(installation, streamed, None)
    assert (response.status_code, response.json["errorCode"]) == (413, "payloadTooLarge")
    assert (response.json["limit"], response.json["actual"]) == (32 * MB, 100 * MB)
    assert streamed.remaining == 0


def test_more_entities_than_configured_is_payload_too_large(installation):
    seed_invoice(installation)
    app = create_app(ImportConfig.from_env({**installation.environ, "OPTIMIZE_IMPORT_MAX_ENTITIES": "2"}))
    body = json.dumps([report(f"r{i}") for i in range(3)]).encode()
    response = post(app.test_client(), installation.headers(), body)
    assert (response.status_code, response.json["errorCode"]) == (413, "payloadTooLarge")
    assert (response.json["limit"], response.json["actual"]) == (2, 3)
    app.extensions["import"].catalog.close()


def test_an_entity_over_16_mb_is_invalid_not_a_crash(installation):
    seed_invoice(installation)
    body = json.dumps([report(configuration={"xml": "x" * (17 * MB)})]).encode()
    response = post(installation.imports, installation.headers(), body)
    assert (response.status_code, response.json["errorCode"]) == (400, "importFileInvalid")
    assert "bytes" in response.json["validationErrors"][0]["message"]
    assert stored_names(installation) == []


def test_catalog_not_answering_is_service_unavailable_and_writes_nothing(installation):
    seed_invoice(installation)
    installation.stop_catalog_worker()
    response = post(installation.imports, installation.headers(), json.dumps([report()]).encode())
    assert (response.status_code, response.json["errorCode"]) == (503, "serviceUnavailable")
    assert int(response.headers["Retry-After"]) > 0
    assert stored_names(installation) == []


def test_store_failing_in_the_middle_of_the_write_is_service_unavailable_and_leaves_nothing(installation):
    seed_invoice(installation)
    journal = installation.app("import").extensions["import"].import_journal

    def store_goes_away(plan):
        raise AutoReconnect("connection closed by the test")

    journal.before_commit = store_goes_away
    response = post(installation.imports, {**installation.headers(), "Idempotency-Key": "k1"},
                    json.dumps([report("a"), report("b")]).encode())
    assert (response.status_code, response.json["errorCode"]) == (503, "serviceUnavailable")
    assert "Retry-After" in response.headers
    assert stored_names(installation) == []
    assert list(entities_db(installation).import_journal.find()) == []


def test_dry_run_answers_as_the_import_would_and_writes_nothing(installation):
    seed_invoice(installation)
    body = json.dumps([report("a"), report("b", key="nowhere")]).encode()
    refused = post(installation.imports, installation.headers(), body, "?dryRun=true")
    assert (refused.status_code, refused.json["errorCode"]) == (400, "importDefinitionDoesNotExist")

    accepted = post(installation.imports, installation.headers(), json.dumps([report("a")]).encode(),
                    "?dryRun=true")
    assert accepted.status_code == 200
    assert accepted.json == [{"id": None, "entityType": "report", "sourceId": "a"}]
    assert stored_names(installation) == []


def test_a_repeated_idempotency_key_returns_the_first_result_and_imports_once(installation):
    seed_invoice(installation)
    headers = {**installation.headers(), "Idempotency-Key": "import-42"}
    body = json.dumps([report("a")]).encode()
    first = post(installation.imports, headers, body)
    again = post(installation.imports, headers, body)
    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    assert stored_names(installation) == ["Report a"]

    other = post(installation.imports, headers, json.dumps([report("b")]).encode())
    assert (other.status_code, other.json["errorCode"]) == (409, "conflictError")


def test_concurrent_imports_and_authoring_keep_every_acknowledged_write_and_nothing_else(installation):
    seed_invoice(installation)
    app = installation.app("import")

    def fail_marked_imports(plan):
        if any(document["name"].startswith("FAIL") for document in plan.documents):
            raise AutoReconnect("the store failed in the middle of the write (test)")

    app.extensions["import"].import_journal.before_commit = fail_marked_imports
    headers = installation.headers()
    outcomes, authored, errors = [], [], []

    def importer(number: int) -> None:
        client = app.test_client()
        for attempt in range(3):
            kind = ("refused", "failing", "accepted")[(number + attempt) % 3]
            prefix = {"refused": "REFUSED", "failing": "FAIL", "accepted": "OK"}[kind]
            key = "nowhere" if kind == "refused" else "invoice"
            name = f"{prefix}-{number}-{attempt}"
            entities = [report(f"{name}-{i}", key=key, name=f"{name}-{i}") for i in range(5)]
            response = post(client, headers, json.dumps(entities).encode())
            outcomes.append((kind, name, response.status_code, response.json))

    def author(number: int) -> None:
        client = app.test_client()
        for attempt in range(6):
            response = client.post("/api/dashboard", json={"name": f"AUTHORED-{number}-{attempt}"},
                                   headers=headers)
            if response.status_code == 200:
                authored.append(response.json["id"])
            else:
                errors.append(response.json)

    threads = [threading.Thread(target=importer, args=(n,)) for n in range(8)]
    threads += [threading.Thread(target=author, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    expected = {"refused": 400, "failing": 503, "accepted": 200}
    assert [(kind, status) for kind, _, status, _ in outcomes if expected[kind] != status] == []
    assert errors == []
    names = stored_names(installation)
    accepted = {name for kind, name, _, _ in outcomes if kind == "accepted"}
    whole_imports = sorted(f"{name}-{i}" for name in accepted for i in range(5))
    assert sorted(n for n in names if n.startswith("OK")) == whole_imports
    assert [n for n in names if n.startswith(("FAIL", "REFUSED"))] == []
    db = entities_db(installation)
    acknowledged = [item["id"] for kind, _, _, body in outcomes if kind == "accepted" for item in body]
    assert db.reports.count_documents({"_id": {"$in": acknowledged}}) == len(acknowledged)
    assert db.dashboards.count_documents({"_id": {"$in": authored}}) == len(authored) == 12


KILLED_IMPORT = textwrap.dedent("""
    import json, os, sys
    from import_svc.app import create_app
    from import_svc.config import ImportConfig

    environ, headers, body = json.loads(sys.stdin.read())
    app = create_app(ImportConfig.from_env(environ))

    def die(plan):
        os._exit(17)  # the process dies with its transaction open: no rollback, no cleanup

    app.extensions["import"].import_journal.before_commit = die
    app.test_client().post("/api/import", data=body, content_type="application/json", headers=headers)
    sys.exit(0)
""")


def test_a_process_killed_in_the_middle_of_an_import_leaves_nothing_of_it(installation):
    seed_invoice(installation)
    headers = {**installation.headers(), "Idempotency-Key": "killed"}
    body = json.dumps([report(f"r{i}", name=f"KILLED-{i}") for i in range(300)])
    killed = subprocess.run([sys.executable, "-c", KILLED_IMPORT], input=json.dumps(
        [installation.environ, headers, body]), text=True, capture_output=True, timeout=120,
        env={**os.environ})
    assert killed.returncode == 17, killed.stderr

    # The dead import left a pending record (its key claimed by a dead process) and marked entities.
    authored = installation.imports.post("/api/dashboard", json={"name": "AUTHORED"},
                                         headers=installation.headers())
    assert authored.status_code == 200
    again = post(installation.imports, headers, json.dumps([report("after")]).encode())
    assert again.status_code == 200  # the killed import never committed: the retry takes its key over

    assert sorted(stored_names(installation)) == ["AUTHORED", "Report after"]
    assert [record["importId"] for record in entities_db(installation).import_journal.find()] == [
        stored_import_id(installation, again.json[0]["id"])]


def stored_import_id(installation, report_id: str) -> str:
    return entities_db(installation).reports.find_one({"_id": report_id})["importId"]


@pytest.mark.parametrize(("query", "file", "refusal"), [
    ("", [report("a"), report("b", key="nowhere")], (400, "importDefinitionDoesNotExist")),
    ("?collectionId=unknown", [report("a")], (404, "notFoundError")),
    ("", [report("a", key="secret")], (403, "importDefinitionForbidden")),
])
def test_a_refused_import_removes_the_record_it_claimed_while_the_catalog_answered(installation, query, file,
                                                                                    refusal):
    """The record is claimed while the verdict is on its way (one insert, overlapping the catalog's
    answer); a refusal of any kind removes it (one delete) and writes nothing else, so the key is free."""
    definitions = [{"type": "process", "key": key, "name": key, "version": "1", "tenantId": None}
                   for key in ("invoice", "secret")]
    grant = [{"identity": {"id": "demo", "type": "user"}, "definitionType": "process",
              "definitionKey": "invoice", "tenants": [None]}]  # not "secret"
    for path, body in (("/api/definition", definitions), ("/api/authorization", grant)):
        response = installation.catalog.post(path, json=body, headers=installation.headers())
        assert response.status_code in (200, 204), response.get_data(as_text=True)
    counter = StoreCommands()
    client = MongoClient(installation.environ["OPTIMIZE_MONGODB_URI"], event_listeners=[counter],
                         tz_aware=True)
    app = create_app(ImportConfig.from_env(installation.environ), mongo=client)
    headers = {**installation.headers(), "Idempotency-Key": f"refused{query}"}
    try:
        counter.clear()
        refused = post(app.test_client(), headers, json.dumps(file).encode(), query)
        commands = list(counter.names)
    finally:
        app.extensions["import"].catalog.close()
        client.close()

    assert (refused.status_code, refused.json["errorCode"]) == refusal
    # the key's record read, claimed, removed; then `import.rejected` recorded in the outbox
    assert commands == ["find", "insert", "delete", "insert"]
    assert list(entities_db(installation).import_journal.find()) == []
    assert stored_names(installation) == []
    accepted = post(installation.imports, headers, json.dumps([report("a")]).encode())
    assert accepted.status_code == 200, accepted.json  # the key was freed: it imports now
