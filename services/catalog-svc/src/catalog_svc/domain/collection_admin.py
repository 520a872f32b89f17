"""The collection use cases of the catalog's HTTP API: create, read, rename, delete a collection, and
change its scope and roles, each deciding on the collection as read and written only if nobody changed
it meanwhile (optimistic concurrency: a stale write is decided again on the fresh collection)."""

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from catalog_svc.domain import collections as rules
from catalog_svc.domain.model import Collection, IdentityRef, RoleEntry, ScopeEntry, User
from contracts.errors import ErrorCode, ServiceError, not_found
from contracts.events import COLLECTION_DELETED, new_event

# A concurrent change makes a write stale; deciding again on the fresh collection is always safe.
ATTEMPTS = 3


class StaleCollection(Exception):
    """The collection changed between reading it and writing the change decided on it."""


class CollectionRepository(Protocol):
    def get(self, collection_id: str) -> Collection | None: ...
    def add(self, collection: Collection) -> None: ...

    def save(self, collection: Collection) -> Collection:
        """Writes the collection if nobody changed it since it was read; raises StaleCollection otherwise."""

    def delete(self, collection_id: str, events: Sequence[dict] = ()) -> bool:
        """Deletes the collection and records `events` with it (both or neither); whether there was one."""


@dataclass
class CollectionAdmin:
    collections: CollectionRepository
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))

    def create(self, user: User, name: str) -> Collection:
        """A new collection; its creator becomes its manager."""
        collection = rules.new_collection(self.new_id(), name, user, self.clock())
        self.collections.add(collection)
        return collection

    def readable(self, user: User, collection_id: str) -> Collection:
        """The collection, for a user with a role in it (or a superuser)."""
        collection = self._existing(collection_id)
        rules.require_access(collection, user)
        return collection

    def delete(self, user: User, collection_id: str, request_id: str | None = None) -> None:
        """Deletes the collection and announces `collection.deleted` (recorded with the deletion): import-svc
        deletes the collection's entities when it hears of it."""
        collection = self._existing(collection_id)
        rules.require_manager(collection, user)
        deleted = new_event(COLLECTION_DELETED, user.id, [], collection_id=collection_id,
                            request_id=request_id, details={"name": collection.name})
        if not self.collections.delete(collection_id, [deleted]):
            raise not_found("Collection", collection_id)  # deleted meanwhile

    def rename(self, user: User, collection_id: str, name: str) -> Collection:
        return self._change(user, collection_id, lambda _: {"name": name})

    def add_scope(self, user: User, collection_id: str, entries: Iterable[ScopeEntry]) -> Collection:
        """Adds scope entries; an entry for a key already in scope gains the given tenants."""
        entries = list(entries)
        return self._change(user, collection_id, lambda c: {"scope": rules.with_scope_added(c, entries)})

    def replace_scope_tenants(self, user: User, collection_id: str, entry_id: str,
                              tenants: Iterable) -> Collection:
        tenants = list(tenants)
        return self._change(user, collection_id,
                            lambda c: {"scope": rules.with_scope_tenants(c, entry_id, tenants)})

    def remove_scope_entry(self, user: User, collection_id: str, entry_id: str) -> Collection:
        return self._change(user, collection_id, lambda c: {"scope": rules.without_scope_entry(c, entry_id)})

    def add_roles(self, user: User, collection_id: str, roles: Iterable[RoleEntry]) -> Collection:
        roles = list(roles)
        return self._change(user, collection_id, lambda c: {"roles": rules.with_roles_added(c, roles)})

    def change_role(self, user: User, collection_id: str, role_id: str, role: str) -> Collection:
        """Changes the role of one identity (`{type}:{id}`, e.g. `user:demo`)."""
        return self._change(user, collection_id, lambda c: {
            "roles": rules.with_role_changed(c, parsed_role_id(role_id), role)})

    def remove_role(self, user: User, collection_id: str, role_id: str) -> Collection:
        return self._change(user, collection_id,
                            lambda c: {"roles": rules.without_role(c, parsed_role_id(role_id))})

    def _existing(self, collection_id: str) -> Collection:
        collection = self.collections.get(collection_id)
        if collection is None:
            raise not_found("Collection", collection_id)
        return collection

    def _change(self, user: User, collection_id: str, decide: Callable[[Collection], dict]) -> Collection:
        """Applies a manager's change: `decide` returns the changed fields of the collection as read."""
        for _ in range(ATTEMPTS):
            collection = self._existing(collection_id)
            rules.require_manager(collection, user)
            changed = rules.modified(collection, user, self.clock(), **decide(collection))
            try:
                return self.collections.save(changed)
            except StaleCollection:
                continue
        raise ServiceError(ErrorCode.CONFLICT, f"Collection '{collection_id}' is being changed concurrently",
                           "Try again")


def parsed_role_id(role_id: str) -> str:
    identity = IdentityRef.parse(role_id)
    if identity is None:
        raise not_found("Role", role_id)
    return identity.ref_id
