"""mode=overwrite as pure rules: which earlier copy an entity replaces, when it is unchanged, when a user
changed it since its import. The store and the catalog are left out (their parts are integration tests)."""

import copy
from datetime import UTC, datetime

import pytest

from contracts.entities import IMPORT_DIGEST, SOURCE_ID, content_digest
from contracts.errors import ServiceError
from import_svc.domain.importing.overwrite import EarlierCopy, Kept, kept_copies
from import_svc.domain.importing.plan import plan_import
from import_svc.domain.importing.prerequisites import CatalogVerdict

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def report(source_id="r1", name="Report"):
    return {"id": source_id, "exportEntityType": "combined_report", "name": name, "description": None,
            "sourceIndexVersion": 5, "collectionId": None,
            "data": {"reports": [], "configuration": {}, "visualization": "line"}}


def earlier(entity_id, source_id="r1", created=NOW, name="Report", **overrides):
    document = {"id": entity_id, "_id": entity_id, "entityType": "report",
                "exportEntityType": "combined_report", "name": name, "description": None, "owner": "alice",
                "created": created, "lastModified": created, "importId": "earlier-import",
                SOURCE_ID: source_id,
                "data": {"reports": [], "configuration": {}, "visualization": "line"}}
    document[IMPORT_DIGEST] = content_digest(document)
    return {**document, **overrides}


def test_of_several_copies_the_most_recently_created_is_kept_and_the_warning_names_all():
    copies = [EarlierCopy.of(earlier("old", created=datetime(2026, 1, 1, tzinfo=UTC))),
              EarlierCopy.of(earlier("new", created=datetime(2026, 6, 1, tzinfo=UTC)))]
    kept = kept_copies([report()], copies)
    assert kept["r1"].document["id"] == "new"
    assert "new" in kept["r1"].warnings[0] and "old" in kept["r1"].warnings[0]


def test_a_copy_of_another_kind_or_source_is_not_kept():
    copies = [EarlierCopy.of(earlier("x", exportEntityType="single_process_report")),
              EarlierCopy.of(earlier("y", source_id="r2"))]
    assert kept_copies([report()], copies) == {}


def test_a_copy_another_import_is_overwriting_now_is_a_conflict_to_retry():
    with pytest.raises(ServiceError) as caught:
        kept_copies([report()], [EarlierCopy.of(earlier("busy"), being_overwritten=True)])
    assert (caught.value.code, caught.value.extra["ids"]) == ("conflictError", ["busy"])
    assert "Retry-After" in caught.value.headers


def test_a_copy_whose_content_no_longer_has_its_import_digest_was_modified():
    assert not Kept(EarlierCopy.of(earlier("a"))).modified_since_import
    assert Kept(EarlierCopy.of({**earlier("a"), "name": "Edited"})).modified_since_import


def plan(entities, kept):
    def upgraded(indexes):
        return (copy.deepcopy(entities[index]) for index in indexes)

    return plan_import(entities, upgraded, CatalogVerdict(), owner="bob", collection_id=None, now=NOW,
                       upgraded_from={}, mode="overwrite", kept=kept)


def test_equal_content_is_unchanged_and_not_written_other_content_updates_in_place():
    unchanged = plan([report()], {"r1": Kept(EarlierCopy.of(earlier("kept")))})
    assert [(e.action, e.id) for e in unchanged.entities] == [("unchanged", "kept")]
    assert list(unchanged.documents) == []

    updated = plan([report(name="New name")], {"r1": Kept(EarlierCopy.of(earlier("kept")))})
    [entity] = updated.entities
    assert (entity.action, entity.id, entity.replaces["id"]) == ("updated", "kept", "kept")
    [document] = updated.documents
    assert (document["owner"], document["created"], document["lastModifier"]) == ("alice", NOW, "bob")
    assert (document["name"], document[SOURCE_ID]) == ("New name", "r1")
    assert document["importId"] == updated.import_id
    assert updated.outcome() == [
        {"id": "kept", "entityType": "report", "sourceId": "r1", "action": "updated"}]


def test_a_spooled_file_builds_the_documents_again_when_written_and_they_are_the_same():
    """Not holding the documents built for the digests (a spooled file), the plan builds them again from
    the file: the same documents, and the same actions."""
    entities = [report(name="New name"), report("r2")]
    kept = {"r1": Kept(EarlierCopy.of(earlier("kept"))), "r2": Kept(EarlierCopy.of(earlier("k2", "r2")))}
    reads: list[int] = []

    def upgraded(indexes):
        reads.extend(indexes)
        return (copy.deepcopy(entities[index]) for index in indexes)

    plans = [plan_import(entities, upgraded, CatalogVerdict(), owner="bob", collection_id=None, now=NOW,
                         upgraded_from={}, mode="overwrite", kept=kept, hold_documents=hold,
                         new_id=lambda: "import")
             for hold in (True, False)]
    held, built_again = (([entity.action for entity in plan.entities], list(plan.documents))
                         for plan in plans)
    assert held == built_again
    assert held[0] == ["updated", "unchanged"] and [document["name"] for document in held[1]] == ["New name"]
    assert reads == [0, 1, 0, 1, 0]  # each plan read both for the digests; the second read r1 again
