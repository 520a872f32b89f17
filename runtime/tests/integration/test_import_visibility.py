"""The rule every reader applies: an imported entity is visible once its import's record is committed, and a
read over several documents never shows part of an import that committed while it ran."""

import pytest
from pymongo import MongoClient

from optimize_runtime.store.import_visibility import ImportVisibility


@pytest.fixture
def db(servers, names):
    client = MongoClient(servers.mongodb_uri)
    yield client[names.entities_db]
    client.drop_database(names.entities_db)
    client.close()


def entity(entity_id: str, import_id: str | None) -> dict:
    return {"_id": entity_id, "importId": import_id}


def commit(db, import_id: str) -> None:
    db.import_journal.replace_one({"_id": import_id}, {"_id": import_id, "importId": import_id,
                                                       "state": "committed"}, upsert=True)


def test_only_entities_of_committed_imports_and_authored_ones_are_visible(db):
    db.import_journal.insert_one({"_id": "k", "importId": "in-progress", "state": "pending"})
    commit(db, "done")
    documents = [entity("a", None), entity("b", "done"), entity("c", "in-progress"), entity("d", "unknown")]
    visibility = ImportVisibility(db)

    assert [d["_id"] for d in visibility.many(lambda: documents)] == ["a", "b"]
    assert [visibility.one(lambda d=d: d) is not None for d in documents] == [True, True, False, False]


def test_a_read_that_ran_while_an_import_committed_runs_again_and_shows_it_whole(db):
    """The first run saw part of import X (its cursor passed before the rest was written) and X committed
    meanwhile: the read runs again and shows all of X."""
    visibility = ImportVisibility(db)
    runs = []

    def read():
        runs.append(1)
        if len(runs) == 1:
            commit(db, "x")  # committed while this read ran
            return [entity("a", None), entity("x1", "x")]
        return [entity("a", None), entity("x1", "x"), entity("x2", "x")]

    assert [d["_id"] for d in visibility.many(read)] == ["a", "x1", "x2"]
    assert len(runs) == 2
    later = []
    assert len(visibility.many(lambda: later.append(1) or read())) == 3
    assert len(later) == 1  # remembered as committed: one run


def test_an_import_that_commits_during_the_second_run_is_left_out_whole(db):
    visibility = ImportVisibility(db)
    runs = []

    def read():
        runs.append(1)
        if len(runs) == 1:
            commit(db, "x")
            return [entity("x1", "x")]
        commit(db, "y")  # and another import commits during the second run
        return [entity("x1", "x"), entity("x2", "x"), entity("y1", "y")]

    assert [d["_id"] for d in visibility.many(read)] == ["x1", "x2"]
    assert len(runs) == 2
