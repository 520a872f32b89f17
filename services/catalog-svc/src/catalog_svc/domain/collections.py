"""Who may do what with a collection, and how its scope and roles change.

The creator becomes its manager; only managers (and superusers) change its name, scope and roles; a
collection always keeps at least one manager. Superusers have no implicit role in a collection, as in
Optimize: they may administer it, but `role_of` reports only the roles it grants them."""

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from catalog_svc.domain.model import (
    MANAGER,
    ROLE_RANK,
    USER,
    Collection,
    IdentityRef,
    RoleEntry,
    ScopeEntry,
    User,
)
from contracts.errors import ErrorCode, ServiceError, forbidden, not_found


def role_of(collection: Collection, user: User) -> str | None:
    """The highest role the collection grants the user, directly or through a group."""
    identities = user.identities
    roles = [entry.role for entry in collection.roles if entry.identity in identities]
    return max(roles, key=ROLE_RANK.__getitem__, default=None)


def require_access(collection: Collection, user: User) -> None:
    """Reading a collection needs a role in it, or being a superuser."""
    if not user.superuser and role_of(collection, user) is None:
        raise forbidden(f"User '{user.id}' has no role in collection '{collection.id}'")


def require_manager(collection: Collection, user: User) -> None:
    if not user.superuser and role_of(collection, user) != MANAGER:
        raise ServiceError(ErrorCode.FORBIDDEN,
                           f"User '{user.id}' is not a manager of collection '{collection.id}'",
                           "Only managers of a collection (and superusers) may change it")


def new_collection(collection_id: str, name: str, creator: User, now: datetime) -> Collection:
    return Collection(collection_id, name, owner=creator.id, created=now, last_modified=now,
                      last_modifier=creator.id, roles=(RoleEntry(IdentityRef(USER, creator.id), MANAGER),))


def modified(collection: Collection, by: User, now: datetime, **changes) -> Collection:
    return replace(collection, last_modified=now, last_modifier=by.id, **changes)


def with_scope_added(collection: Collection, entries: Iterable[ScopeEntry]) -> tuple[ScopeEntry, ...]:
    """Adds entries; an entry for a key already in scope gains the new tenants."""
    scope = {entry.id: entry for entry in collection.scope}
    for entry in entries:
        known = scope.get(entry.id)
        if known is None:
            scope[entry.id] = replace(entry, tenants=_unique(entry.tenants))
        else:
            scope[entry.id] = replace(known, tenants=_unique((*known.tenants, *entry.tenants)))
    return tuple(scope.values())


def with_scope_tenants(collection: Collection, entry_id: str, tenants: Iterable) -> tuple[ScopeEntry, ...]:
    _scope_entry(collection, entry_id)
    return tuple(replace(e, tenants=_unique(tenants)) if e.id == entry_id else e for e in collection.scope)


def without_scope_entry(collection: Collection, entry_id: str) -> tuple[ScopeEntry, ...]:
    _scope_entry(collection, entry_id)
    return tuple(e for e in collection.scope if e.id != entry_id)


def with_roles_added(collection: Collection, roles: Iterable[RoleEntry]) -> tuple[RoleEntry, ...]:
    """Adds roles; an identity that already has a role in the collection is a conflict, as in Optimize."""
    result = list(collection.roles)
    for role in roles:
        if any(known.identity == role.identity for known in result):
            raise ServiceError(ErrorCode.CONFLICT, f"'{role.id}' already has a role in collection "
                               f"'{collection.id}'", "Change an existing role with PUT", roleId=role.id)
        result.append(role)
    return tuple(result)


def with_role_changed(collection: Collection, role_id: str, role: str) -> tuple[RoleEntry, ...]:
    _role_entry(collection, role_id)
    return _keeping_a_manager(collection, tuple(
        replace(e, role=role) if e.id == role_id else e for e in collection.roles))


def without_role(collection: Collection, role_id: str) -> tuple[RoleEntry, ...]:
    _role_entry(collection, role_id)
    return _keeping_a_manager(collection, tuple(e for e in collection.roles if e.id != role_id))


def _keeping_a_manager(collection: Collection, roles: tuple[RoleEntry, ...]) -> tuple[RoleEntry, ...]:
    if not any(entry.role == MANAGER for entry in roles):
        raise ServiceError(ErrorCode.CONFLICT, f"Collection '{collection.id}' would have no manager left",
                           "A collection keeps at least one manager; make someone else manager first")
    return roles


def _scope_entry(collection: Collection, entry_id: str) -> ScopeEntry:
    entry = next((e for e in collection.scope if e.id == entry_id), None)
    if entry is None:
        raise not_found("Scope entry", entry_id)
    return entry


def _role_entry(collection: Collection, role_id: str) -> RoleEntry:
    entry = next((e for e in collection.roles if e.id == role_id), None)
    if entry is None:
        raise not_found("Role", role_id)
    return entry


def _unique(values: Iterable) -> tuple:
    return tuple(dict.fromkeys(values))
