"""Who may change a collection, and how its scope and roles change."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from catalog_svc.domain import collections as rules
from catalog_svc.domain.model import IdentityRef, RoleEntry, ScopeEntry, User
from contracts.errors import ErrorCode, ServiceError

NOW = datetime(2024, 5, 1, tzinfo=UTC)
BOB = User("bob")


def test_the_creator_becomes_manager():
    collection = rules.new_collection("c1", "Sales", BOB, NOW)
    assert rules.role_of(collection, BOB) == "manager"
    assert collection.owner == "bob"


def test_a_viewer_may_read_but_not_change():
    collection = rules.new_collection("c1", "Sales", BOB, NOW)
    viewer = User("vic")
    collection = replace(
        collection,
        roles=rules.with_roles_added(collection, [RoleEntry(IdentityRef("user", "vic"), "viewer")]),
    )
    rules.require_access(collection, viewer)
    with pytest.raises(ServiceError) as refused:
        rules.require_manager(collection, viewer)
    assert refused.value.code is ErrorCode.FORBIDDEN


def test_superusers_administer_without_a_role():
    collection = rules.new_collection("c1", "Sales", BOB, NOW)
    root = User("root", superuser=True)
    rules.require_manager(collection, root)
    assert rules.role_of(collection, root) is None


def test_strangers_may_not_read():
    with pytest.raises(ServiceError):
        rules.require_access(rules.new_collection("c1", "Sales", BOB, NOW), User("eve"))


def test_the_last_manager_cannot_go():
    collection = rules.new_collection("c1", "Sales", BOB, NOW)
    for change in (
        lambda: rules.without_role(collection, "user:bob"),
        lambda: rules.with_role_changed(collection, "user:bob", "editor"),
    ):
        with pytest.raises(ServiceError) as refused:
            change()
        assert refused.value.code is ErrorCode.CONFLICT


def test_an_identity_has_one_role():
    collection = rules.new_collection("c1", "Sales", BOB, NOW)
    with pytest.raises(ServiceError) as refused:
        rules.with_roles_added(collection, [RoleEntry(IdentityRef("user", "bob"), "viewer")])
    assert refused.value.code is ErrorCode.CONFLICT


def test_adding_a_scope_entry_again_merges_its_tenants():
    collection = rules.new_collection("c1", "Sales", BOB, NOW)
    scope = rules.with_scope_added(collection, [ScopeEntry("process", "invoice", (None,))])
    collection = replace(collection, scope=scope)
    scope = rules.with_scope_added(collection, [ScopeEntry("process", "invoice", ("t1", None))])
    assert scope == (ScopeEntry("process", "invoice", (None, "t1")),)


def test_unknown_scope_entries_and_roles_are_not_found():
    collection = rules.new_collection("c1", "Sales", BOB, NOW)
    for change in (
        lambda: rules.without_scope_entry(collection, "process:nope"),
        lambda: rules.with_scope_tenants(collection, "process:nope", [None]),
        lambda: rules.without_role(collection, "user:nobody"),
    ):
        with pytest.raises(ServiceError) as refused:
            change()
        assert refused.value.code is ErrorCode.NOT_FOUND
