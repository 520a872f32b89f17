"""A write that commits after its collection changed under it leaves nothing visible in that collection.

Each interleaving is forced, not hoped for: a hook runs the catalog change at one exact point of the write
(after an import wrote its entities, before its re-check and commit; after the re-check, before the
commit; just before an authoring write). The import re-checks with the catalog just before its commit
record and verifies once more right after it (undoing itself when a change came first); the deletion of a
collection reaches import-svc as `collection.deleted` and deletes whatever the collection holds, pending
imports included, and refuses later authoring writes into it."""

import pytest

from contracts.events import COLLECTION_DELETED
from optimize_testing.factories import ok, process_report

EDITOR = "ed"  # a superuser (group optimize-admins) with the editor role in the collection


@pytest.fixture
def setting(installation):
    """A collection whose scope holds `invoice`, with EDITOR as editor; what the tests need of it."""
    catalog, headers = installation.catalog, installation.headers()
    installation.seed_invoice(("demo", EDITOR))
    collection_id = ok(catalog.post("/api/collection", json={"name": "Finance"}, headers=headers))["id"]
    ok(catalog.post(f"/api/collection/{collection_id}/scope", headers=headers, json=[
        {"definitionType": "process", "definitionKey": "invoice", "tenants": [None]}]), 204)
    ok(catalog.post(f"/api/collection/{collection_id}/role", headers=headers, json=[
        {"identity": {"id": EDITOR, "type": "user"}, "role": "editor"}]), 204)
    wiring = installation.app("import").extensions["import"]
    return collection_id, wiring


def delete_collection(installation, collection_id: str, *, consumed: bool) -> None:
    """The manager deletes it; `consumed`: import-svc has handled collection.deleted already."""
    ok(installation.catalog.delete(f"/api/collection/{collection_id}", headers=installation.headers()), 204)
    if consumed:
        catalog_db = installation.app("catalog").extensions["catalog"].db
        recorded = catalog_db.outbox.find_one({"event.type": COLLECTION_DELETED,
                                               "event.collectionId": collection_id})
        installation.app("import").extensions["import"].collection_events.collection_deleted(recorded["event"])


def remove_scope(installation, collection_id: str) -> None:
    catalog, headers = installation.catalog, installation.headers()
    [entry] = ok(catalog.get(f"/api/collection/{collection_id}/scope", headers=headers))
    ok(catalog.delete(f"/api/collection/{collection_id}/scope/{entry['id']}", headers=headers), 204)


def demote(installation, collection_id: str) -> None:
    ok(installation.catalog.put(f"/api/collection/{collection_id}/role/user:{EDITOR}",
                                json={"role": "viewer"}, headers=installation.headers()), 204)


def stored_in(wiring, collection_id: str) -> int:
    return sum(wiring.db[name].count_documents({"collectionId": collection_id})
               for name in ("reports", "dashboards"))


def import_as_editor(installation, collection_id: str):
    return installation.imports.post(f"/api/import?collectionId={collection_id}",
                                     json=[process_report("r1"), process_report("r2")],
                                     headers=installation.headers(EDITOR, ["optimize-admins"]))


@pytest.mark.parametrize("change, status, error_code", [
    (lambda i, c: delete_collection(i, c, consumed=False), 404, "notFoundError"),
    (lambda i, c: delete_collection(i, c, consumed=True), 404, "notFoundError"),
    (remove_scope, 409, "nonDefinitionScopeCompliantConflict"),
    (demote, 403, "forbiddenError"),
], ids=["collection-deleted", "collection-deleted-and-consumed", "scope-narrowed", "user-demoted"])
def test_an_import_whose_collection_changes_after_its_writes_and_before_its_commit_leaves_nothing(
        installation, setting, change, status, error_code):
    collection_id, wiring = setting
    wiring.import_journal.before_commit = lambda plan: change(installation, collection_id)

    response = import_as_editor(installation, collection_id)

    assert (response.status_code, response.get_json()["errorCode"]) == (status, error_code)
    assert stored_in(wiring, collection_id) == 0, "the entities it wrote are gone, not only hidden"
    assert wiring.db.import_journal.count_documents({"state": "committed"}) == 0
    listed = ok(installation.export.get("/api/entities", headers=installation.headers()))
    assert listed == []


@pytest.mark.parametrize("change, status, error_code", [
    (lambda i, c: delete_collection(i, c, consumed=True), 404, "notFoundError"),
    (remove_scope, 409, "nonDefinitionScopeCompliantConflict"),
    (demote, 403, "forbiddenError"),
], ids=["collection-deleted-and-consumed", "scope-narrowed", "user-demoted"])
def test_an_import_whose_collection_changes_after_its_recheck_and_before_its_commit_is_undone(
        installation, setting, change, status, error_code):
    """The moment the re-check leaves (between it and the one-document commit): the catalog is asked once
    more right after the commit, and the committed import is undone (its entities deleted, `entity.deleted`
    recorded after its `entity.imported`). A deleted collection's pending entities are gone already: the
    deletion took them."""
    collection_id, wiring = setting
    importer, recheck, changed = wiring.importer, wiring.importer.recheck, []

    def recheck_then_change(request, plan):
        recheck(request, plan)
        if not changed:  # once: between the re-check and the commit
            changed.append(True)
            change(installation, collection_id)

    importer.recheck = recheck_then_change
    response = import_as_editor(installation, collection_id)

    assert (response.status_code, response.get_json()["errorCode"]) == (status, error_code)
    assert stored_in(wiring, collection_id) == 0
    [record] = list(wiring.db.import_journal.find({"state": "committed"}))
    [imported] = record["events"]
    [revoked] = [entry["event"] for entry in wiring.db.outbox.find({"event.type": "entity.deleted",
                                                                    "event.details.cause": "import.revoked"})]
    assert (revoked["entityIds"], revoked["details"]["causeEventId"]) == (imported["entityIds"],
                                                                          imported["eventId"])
    assert ok(installation.export.get("/api/entities", headers=installation.headers())) == []


@pytest.mark.parametrize("change, status, error_code", [
    (lambda i, c: delete_collection(i, c, consumed=False), 404, "notFoundError"),
    (lambda i, c: delete_collection(i, c, consumed=True), 404, "notFoundError"),
    (demote, 403, "forbiddenError"),
], ids=["collection-deleted", "collection-deleted-and-consumed", "user-demoted"])
def test_an_authoring_write_into_a_collection_that_changes_just_before_it_leaves_nothing(
        installation, setting, change, status, error_code):
    """Between the catalog check and the write: refused at the write when import-svc knows the collection
    is deleted; otherwise written, found out by the check right after the write, and undone."""
    collection_id, wiring = setting
    wiring.entities.before_write = lambda: change(installation, collection_id)
    body = {"name": "Late", "description": None, "collectionId": collection_id,
            "data": process_report("x")["data"]}

    response = installation.imports.post("/api/report/process/single", json=body,
                                         headers=installation.headers(EDITOR, ["optimize-admins"]))

    assert (response.status_code, response.get_json()["errorCode"]) == (status, error_code)
    assert stored_in(wiring, collection_id) == 0
    created = [entry["event"] for entry in wiring.db.outbox.find({"event.type": "entity.created"})]
    deleted = [entry["event"] for entry in wiring.db.outbox.find({"event.type": "entity.deleted"})]
    assert [event["details"]["causeEventId"] for event in deleted] == [event["eventId"] for event in created]


@pytest.mark.parametrize("change, status, error_code", [
    # A collection that is gone leaves the user no role in it: the change is refused as forbidden.
    (lambda i, c: delete_collection(i, c, consumed=False), 403, "forbiddenError"),
    (remove_scope, 409, "nonDefinitionScopeCompliantConflict"),
    (demote, 403, "forbiddenError"),
], ids=["collection-deleted", "scope-narrowed", "user-demoted"])
def test_an_authoring_change_in_a_collection_that_changes_just_before_it_is_put_back(
        installation, setting, change, status, error_code):
    """Between the catalog check and the change: written, found out by the check right after the change,
    and the entity put back as it was (name and lastModified of before), so nothing the change made stays."""
    collection_id, wiring = setting
    editor = installation.headers(EDITOR, ["optimize-admins"])
    body = {"name": "Before", "description": None, "collectionId": collection_id,
            "data": process_report("x")["data"]}
    report_id = ok(installation.imports.post("/api/report/process/single", json=body, headers=editor))["id"]
    [before] = list(wiring.db.reports.find({"_id": report_id}))

    def once() -> None:  # the change comes once, before the user's write (not again before the putting back)
        wiring.entities.before_write = None
        change(installation, collection_id)

    wiring.entities.before_write = once

    response = installation.imports.put(f"/api/report/{report_id}", json={"name": "After"}, headers=editor)

    assert (response.status_code, response.get_json()["errorCode"]) == (status, error_code)
    [after] = list(wiring.db.reports.find({"_id": report_id}))
    assert (after["name"], after["lastModified"], after["lastModifier"]) == (
        "Before", before["lastModified"], before["lastModifier"])
