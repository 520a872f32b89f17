"""check_import, check_export and collection_access through a real RpcClient against the catalog worker,
on data the catalog's own HTTP API and seeding wrote."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pymongo import MongoClient

from catalog_svc.api.rpc import rpc_handlers
from catalog_svc.bootstrap import wire
from catalog_svc.config import CatalogConfig
from catalog_svc.seeding import seed
from contracts.rpc import INVALID_RPC_MESSAGE
from optimize_runtime.infra.ports import free_port
from optimize_runtime.messaging import RpcClient, RpcError
from optimize_runtime.messaging.errors import RpcUnavailable
from optimize_testing.store_commands import StoreCommands

ALICE = {"id": "alice", "groups": ["analysts"], "superuser": False}


@pytest.fixture
def rpc(installation, environ):
    client = RpcClient(environ["OPTIMIZE_AMQP_URL"], installation.names.rpc_queue, timeout_s=10)
    yield client
    close = getattr(client, "close", None)
    if close:
        close()


@pytest.fixture
def wiring(environ):
    wired = wire(CatalogConfig.from_env(environ))
    yield wired
    wired.mongo.close()


def definition(key="invoice", version="1", tenant=None, definition_type="process", xml=None):
    return {
        "type": definition_type,
        "key": key,
        "name": key.title(),
        "version": version,
        "tenantId": tenant,
        "xml": xml,
    }


def ref(key="invoice", versions=("1",), tenants=(None,), definition_type="process"):
    return {"type": definition_type, "key": key, "versions": list(versions), "tenantIds": list(tenants)}


def grant(key="*", tenants=(None,), identity=("user", "alice"), definition_type="process"):
    return {
        "identity": {"type": identity[0], "id": identity[1]},
        "definitionType": definition_type,
        "definitionKey": key,
        "tenants": list(tenants),
    }


def check_import(rpc, refs, user=ALICE, collection_id=None, **params):
    return rpc.call(
        "check_import", {"user": user, "collectionId": collection_id, "definitions": refs, **params}
    )


def test_a_user_authorized_only_through_a_group(rpc, wiring):
    seed(
        wiring,
        {
            "definitions": [definition()],
            "authorizations": [grant(key="invoice", identity=("group", "analysts"))],
        },
    )
    [verdict] = check_import(rpc, [ref()])["definitions"]
    assert (verdict["exists"], verdict["authorized"]) == (True, True)
    [outsider] = check_import(rpc, [ref()], user={"id": "bob", "groups": ["sales"]})["definitions"]
    assert outsider["authorized"] is False and outsider["forbiddenTenants"] == [None]


def test_a_star_authorization_covers_every_key_of_its_type(rpc, wiring):
    seed(
        wiring,
        {
            "definitions": [definition("a"), definition("b"), definition("r", definition_type="decision")],
            "authorizations": [grant(key="*")],
        },
    )
    result = check_import(rpc, [ref("a"), ref("b"), ref("r", definition_type="decision")])
    assert [v["authorized"] for v in result["definitions"]] == [True, True, False]
    assert result["forbiddenDefinitions"] == [{"type": "decision", "key": "r", "tenantIds": [None]}]


def test_superusers_are_not_exempt_from_definition_authorization(rpc, wiring):
    seed(wiring, {"definitions": [definition()]})
    [verdict] = check_import(rpc, [ref()], user={"id": "demo", "superuser": True})["definitions"]
    assert verdict["authorized"] is False
    [public] = check_import(rpc, [ref()], user={"id": "System User"}, checkAuthorization=False)["definitions"]
    assert public["authorized"] is True


def test_shared_definitions_and_tenant_lists(rpc, wiring):
    seed(
        wiring,
        {
            "definitions": [definition("shared"), definition("t1only", tenant="t1")],
            "authorizations": [grant(tenants=["*"])],
        },
    )
    result = check_import(
        rpc,
        [
            ref("shared", tenants=["t1", "t2"]),
            ref("t1only", tenants=["t1", "t2"]),
            ref("t1only", tenants=["t2"]),
            ref("t1only", tenants=[None]),
        ],
    )
    assert [v["exists"] for v in result["definitions"]] == [True, True, False, False]
    assert [v["missingTenants"] for v in result["definitions"]] == [[], ["t2"], ["t2"], [None]]


def test_missing_versions_are_reported_and_the_xml_of_the_latest_existing_one_returned(rpc, wiring):
    seed(
        wiring,
        {
            "definitions": [definition(version="1", xml="<v1/>"), definition(version="2", xml="<v2/>")],
            "authorizations": [grant()],
        },
    )
    result = check_import(rpc, [ref(versions=["1", "2", "3"]), ref(versions=["4"]), ref(versions=["all"])])
    kept, missing, any_version = result["definitions"]
    assert (kept["exists"], kept["existingVersions"], kept["missingVersions"]) == (True, ["1", "2"], ["3"])
    assert kept["xml"] == "<v2/>" and kept["name"] == "Invoice"
    assert (missing["exists"], missing["missingVersions"], missing["xml"]) == (False, ["4"], None)
    assert (any_version["exists"], any_version["existingVersions"]) == (True, ["all"])


def test_variables_are_answered_when_asked_and_kept_when_registered_again_without_them(rpc, wiring):
    amount = {"name": "amount", "type": "Double"}
    seed(wiring, {"definitions": [{**definition(version="1"), "variables": [amount]}, definition("bare")],
                  "authorizations": [grant()]})
    seed(wiring, {"definitions": [definition(version="1")]})  # a later registration that knows no variables
    asked = check_import(rpc, [ref(), ref("bare")], withVariables=True)["definitions"]
    assert [verdict["variables"] for verdict in asked] == [[amount], None]
    assert check_import(rpc, [ref()])["definitions"][0]["variables"] is None


def test_a_deleted_definition_is_then_missing(installation, rpc, wiring):
    seed(wiring, {"definitions": [definition()], "authorizations": [grant()]})
    assert check_import(rpc, [ref()])["definitions"][0]["exists"] is True
    deleted = installation.catalog.delete("/api/definition/process/invoice", headers=installation.headers())
    assert deleted.status_code == 204
    [verdict] = check_import(rpc, [ref()])["definitions"]
    assert verdict["exists"] is False and verdict["missingVersions"] == ["1"]


def test_collection_scope_keys_and_tenants(installation, rpc, wiring):
    catalog, bob = installation.catalog, installation.headers("bob")
    seed(
        wiring,
        {
            "definitions": [
                definition("invoice", tenant="t1"),
                definition("invoice", tenant="t2"),
                definition("other"),
            ],
            "authorizations": [grant(tenants=["*"], identity=("user", "bob"))],
        },
    )
    collection_id = catalog.post("/api/collection", json={"name": "Sales"}, headers=bob).json["id"]
    catalog.post(
        f"/api/collection/{collection_id}/scope",
        headers=bob,
        json=[
            {"definitionType": "process", "definitionKey": "invoice", "tenants": ["t1"]},
            {"definitionType": "process", "definitionKey": "ghost", "tenants": [None]},
        ],
    )
    result = check_import(
        rpc,
        [ref("invoice", tenants=["t1", "t2"]), ref("other"), ref("ghost")],
        user={"id": "bob"},
        collection_id=collection_id,
    )
    assert result["collection"] == {"id": collection_id, "exists": True, "name": "Sales", "role": "manager"}
    tenant_out, key_out, absent = result["definitions"]
    assert (tenant_out["inScope"], tenant_out["tenantsOutOfScope"]) == (True, ["t2"])
    assert key_out["inScope"] is False
    # covered by the scope but not in the catalog: in scope, and missing
    assert (absent["inScope"], absent["exists"]) == (True, False)


def test_an_unknown_collection_is_reported_as_not_existing(rpc):
    result = check_import(rpc, [], collection_id="nope")
    assert result["collection"] == {"id": "nope", "exists": False, "name": None, "role": None}


def test_params_that_break_the_contract_are_refused(rpc):
    with pytest.raises(RpcError) as refused:
        rpc.call("check_import", {"user": ALICE, "definitions": [{"type": "case", "key": "k"}]})
    assert refused.value.code == INVALID_RPC_MESSAGE


def test_check_export_says_which_definitions_the_user_may_read(rpc, wiring):
    seed(wiring, {"authorizations": [grant(key="invoice", tenants=["t1"])]})
    result = rpc.call(
        "check_export",
        {"user": ALICE, "definitions": [ref(tenants=["t1"]), ref(tenants=["t1", "t2"]), ref("other")]},
    )
    assert [v["authorized"] for v in result["definitions"]] == [True, False, False]
    assert result["forbiddenDefinitions"] == [
        {"type": "process", "key": "invoice", "tenantIds": ["t2"]},
        {"type": "process", "key": "other", "tenantIds": [None]},
    ]


def test_collection_access_lists_roles_directly_and_through_groups(installation, rpc):
    catalog, bob = installation.catalog, installation.headers("bob")
    own = catalog.post("/api/collection", json={"name": "Own"}, headers=installation.headers("alice")).json[
        "id"
    ]
    shared = catalog.post("/api/collection", json={"name": "Shared"}, headers=bob).json["id"]
    catalog.post("/api/collection", json={"name": "Not mine"}, headers=bob)
    catalog.post(
        f"/api/collection/{shared}/role",
        headers=bob,
        json=[{"identity": {"id": "analysts", "type": "group"}, "role": "editor"}],
    )
    every = rpc.call("collection_access", {"user": ALICE, "collectionIds": None})["collections"]
    assert {(c["id"], c["role"]) for c in every} == {(own, "manager"), (shared, "editor")}
    asked = rpc.call("collection_access", {"user": ALICE, "collectionIds": [shared, "nope"]})["collections"]
    assert asked == [
        {"id": shared, "exists": True, "name": "Shared", "role": "editor"},
        {"id": "nope", "exists": False, "name": None, "role": None},
    ]
    superuser = rpc.call(
        "collection_access", {"user": {"id": "demo", "superuser": True}, "collectionIds": None}
    )
    assert superuser["collections"] == []  # no implicit role for superusers, as in Optimize


def test_check_import_takes_as_many_mongodb_commands_for_1000_references_as_for_1(environ, wiring):
    keys = [f"process-{i}" for i in range(1000)]
    seed(
        wiring,
        {
            "definitions": [definition(k, xml=f"<{k}/>") for k in keys],
            "authorizations": [grant(key=k) for k in keys],
            "collections": [
                {
                    "id": "c1",
                    "name": "All",
                    "owner": "alice",
                    "scope": [{"definitionType": "process", "definitionKey": k} for k in keys],
                }
            ],
        },
    )
    counter = StoreCommands()
    counted = MongoClient(environ["OPTIMIZE_MONGODB_URI"], event_listeners=[counter])
    try:
        counted_wiring = wire(CatalogConfig.from_env(environ), mongo=counted)
        counts = {}
        for size in (1, 1000):
            check = rpc_handlers(counted_wiring)["check_import"]  # a worker that remembers nothing yet
            for attempt in ("first", "again"):
                counter.clear()
                result = check(
                    {
                        "user": ALICE,
                        "collectionId": "c1",
                        "checkAuthorization": True,
                        "definitions": [ref(k) for k in keys[:size]],
                    },
                    None,
                )
                assert all(v["exists"] and v["authorized"] and v["inScope"] and v["xml"]
                           for v in result["definitions"])
                counts[size, attempt] = counter.names
    finally:
        counted.close()
    # the version stamp, definitions, collection, grants, XML
    assert counts[1, "first"] == counts[1000, "first"] == ["find"] * 5
    # the catalog unchanged: only the version stamp, for the same check
    assert counts[1, "again"] == counts[1000, "again"] == ["find"]


def test_a_catalog_write_in_another_process_counts_for_the_very_next_check(installation, rpc, wiring,
                                                                          environ):
    """The catalog's HTTP API (here, in this process) and the RPC worker (`catalog-svc rpc`, its own
    process) share nothing but the store: each revocation, deletion or narrowing is in the answer of the
    check right after it, although the worker answered the same check from what it remembered before."""
    installation.stop_catalog_worker()
    worker = subprocess.Popen([str(Path(sys.executable).parent / "catalog-svc"), "rpc"],
                              env={**os.environ, **environ, "OPTIMIZE_OPERATIONS_PORT": str(free_port())},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_until_answering(rpc, worker)
        catalog, demo, alice = installation.catalog, installation.headers(), installation.headers("alice")
        seed(wiring, {"definitions": [definition("invoice"), definition("invoice", tenant="t1")]})
        [granted] = catalog.post("/api/authorization", headers=demo,
                                 json=[grant("invoice", [None, "t1"])]).json
        collection_id = catalog.post("/api/collection", json={"name": "Sales"}, headers=alice).json["id"]
        scope = [{"definitionType": "process", "definitionKey": "invoice", "tenants": [None, "t1"]}]
        catalog.post(f"/api/collection/{collection_id}/scope", headers=alice, json=scope)

        def verdict() -> dict:
            [answer] = check_import(rpc, [ref("invoice", tenants=[None, "t1"])], collection_id=collection_id)[
                "definitions"]
            return answer

        for _ in range(3):  # answered, then remembered
            assert (verdict()["authorized"], verdict()["inScope"], verdict()["exists"]) == (True, True, True)

        assert catalog.delete(f"/api/authorization/{granted['id']}", query_string={"tenant": "t1"},
                              headers=demo).status_code == 204
        assert verdict()["forbiddenTenants"] == ["t1"]

        assert catalog.put(f"/api/collection/{collection_id}/scope/process:invoice", json={"tenants": [None]},
                           headers=alice).status_code == 204
        assert verdict()["tenantsOutOfScope"] == ["t1"]

        assert catalog.delete("/api/definition/process/invoice", headers=demo).status_code == 204
        assert verdict()["exists"] is False
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=15)


def _wait_until_answering(rpc, worker: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert worker.poll() is None, "the RPC worker exited"
        try:
            rpc.call("ping", {})
            return
        except RpcUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_catalog_change_that_fails_still_replaces_the_stamp_after_its_rollback(wiring):
    """On the embedded server a reader may see a change's writes before its transaction ends; if it then
    rolls back, what the reader remembered under the old stamp must be read again: the stamp is replaced
    once more after the rollback (and a change that succeeds replaces it once, inside its transaction)."""
    version = wiring.version
    before = version.stamp()

    def half_a_change(session):
        wiring.db.definitions.insert_one(definition("ghost") | {"_id": "ghost"}, session=session)
        raise RuntimeError("the change fails after its first write")

    with pytest.raises(RuntimeError):
        version.change(half_a_change)
    after_failure = version.stamp()
    assert after_failure not in (None, before)
    assert wiring.db.definitions.find_one({"_id": "ghost"}) is None  # rolled back

    version.change(lambda session: None)
    assert version.stamp() not in (after_failure, before)
