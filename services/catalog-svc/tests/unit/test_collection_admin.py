"""The collection use cases with a fake repository: a change decided on a collection that changed meanwhile
is decided again on the fresh one, and a collection that keeps changing is a conflict."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from catalog_svc.domain.collection_admin import CollectionAdmin, StaleCollection
from catalog_svc.domain.model import IdentityRef, RoleEntry, User
from contracts.errors import ServiceError

BOB = User("bob")
NOW = datetime(2024, 5, 1, tzinfo=UTC)


class FakeCollections:
    """Keeps collections with a revision; `interfere` changes the stored one before that many saves."""

    def __init__(self, interfere: int = 0) -> None:
        self.stored = {}
        self.interfere = interfere
        self.saves = 0

    def get(self, collection_id):
        return self.stored.get(collection_id)

    def add(self, collection):
        self.stored[collection.id] = collection

    def save(self, collection):
        self.saves += 1
        current = self.stored[collection.id]
        if self.interfere:
            self.interfere -= 1
            alice = RoleEntry(IdentityRef("user", f"alice{self.saves}"), "viewer")
            self.stored[collection.id] = replace(current, roles=(*current.roles, alice),
                                                 revision=current.revision + 1)
            raise StaleCollection(collection.id)
        if current.revision != collection.revision:
            raise StaleCollection(collection.id)
        self.stored[collection.id] = replace(collection, revision=collection.revision + 1)
        return self.stored[collection.id]

    def delete(self, collection_id):
        return self.stored.pop(collection_id, None) is not None


def admin(collections):
    return CollectionAdmin(collections, clock=lambda: NOW, new_id=lambda: "c1")


def test_a_change_decided_on_a_stale_collection_is_decided_again_and_keeps_the_other_change():
    collections = FakeCollections(interfere=2)
    admin(collections).create(BOB, "Sales")
    renamed = admin(collections).rename(BOB, "c1", "Sales EMEA")
    assert renamed.name == "Sales EMEA"
    assert [role.identity.id for role in collections.get("c1").roles] == ["bob", "alice1", "alice2"]
    assert collections.saves == 3


def test_a_collection_that_keeps_changing_is_a_conflict_after_three_attempts():
    collections = FakeCollections(interfere=3)
    admin(collections).create(BOB, "Sales")
    with pytest.raises(ServiceError) as refused:
        admin(collections).rename(BOB, "c1", "Sales EMEA")
    assert (refused.value.status, refused.value.code.value) == (409, "conflictError")
    assert collections.get("c1").name == "Sales"


def test_only_a_manager_changes_and_an_unknown_collection_or_role_is_not_found():
    collections = FakeCollections()
    admin(collections).create(BOB, "Sales")
    with pytest.raises(ServiceError) as forbidden:
        admin(collections).rename(User("eve"), "c1", "Mine")
    with pytest.raises(ServiceError) as unknown:
        admin(collections).rename(BOB, "nope", "Mine")
    with pytest.raises(ServiceError) as bad_role:
        admin(collections).remove_role(BOB, "c1", "robot:x")
    assert [error.value.status for error in (forbidden, unknown, bad_role)] == [403, 404, 404]
