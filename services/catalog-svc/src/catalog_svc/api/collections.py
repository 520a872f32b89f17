"""/api/collection: collections, their scope (data sources) and roles. Anyone may create one and becomes
its manager; reading needs a role in it; changing it needs the manager role (or being a superuser)."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from catalog_svc.adapters.mongo_catalog import StaleCollection
from catalog_svc.api.caller import catalog, current_user
from catalog_svc.api.schemas import (
    CollectionCreateSchema,
    CollectionRenameSchema,
    CollectionSchema,
    IdSchema,
    RoleChangeSchema,
    RoleSchema,
    ScopeEntrySchema,
    ScopeTenantsSchema,
)
from catalog_svc.domain import collections as rules
from catalog_svc.domain.model import Collection, IdentityRef, RoleEntry, ScopeEntry, User
from contracts.errors import ErrorCode, ServiceError, not_found
from optimize_runtime.http import Blueprint

blueprint = Blueprint("collections", __name__, url_prefix="/api/collection",
                      description="Collections with their scope and roles")

# A concurrent change makes a write stale; deciding again on the fresh collection is always safe.
ATTEMPTS = 3


def scope_entry_from(item: dict) -> ScopeEntry:
    return ScopeEntry(item["definitionType"], item["definitionKey"], tuple(item["tenants"]))


def role_from(item: dict) -> RoleEntry:
    return RoleEntry(IdentityRef(item["identity"]["type"], item["identity"]["id"]), item["role"])


def scope_view(collection: Collection) -> list[dict]:
    return [{"id": e.id, "definitionType": e.definition_type, "definitionKey": e.definition_key,
             "tenants": list(e.tenants)} for e in collection.scope]


def roles_view(collection: Collection) -> list[dict]:
    return [{"id": r.id, "identity": {"id": r.identity.id, "type": r.identity.type}, "role": r.role}
            for r in collection.roles]


def collection_view(collection: Collection, user: User) -> dict:
    return {"id": collection.id, "name": collection.name, "owner": collection.owner,
            "created": collection.created, "lastModified": collection.last_modified,
            "lastModifier": collection.last_modifier, "currentUserRole": rules.role_of(collection, user),
            "scope": scope_view(collection), "roles": roles_view(collection)}


def readable(collection_id: str) -> Collection:
    collection = catalog().collections.get(collection_id)
    if collection is None:
        raise not_found("Collection", collection_id)
    rules.require_access(collection, current_user())
    return collection


def change(collection_id: str, decide: Callable[[Collection], dict]) -> Collection:
    """Applies a manager's change: `decide` returns the changed fields of the collection as read."""
    user = current_user()
    for _ in range(ATTEMPTS):
        collection = catalog().collections.get(collection_id)
        if collection is None:
            raise not_found("Collection", collection_id)
        rules.require_manager(collection, user)
        changed = rules.modified(collection, user, datetime.now(UTC), **decide(collection))
        try:
            return catalog().collections.save(changed)
        except StaleCollection:
            continue
    raise ServiceError(ErrorCode.CONFLICT, f"Collection '{collection_id}' is being changed concurrently",
                       "Try again")


def parsed_role_id(role_id: str) -> str:
    identity = IdentityRef.parse(role_id)
    if identity is None:
        raise not_found("Role", role_id)
    return identity.ref_id


@blueprint.post("")
@blueprint.arguments(CollectionCreateSchema, required=False)  # no body: "New Collection", as in Optimize
@blueprint.response(200, IdSchema)
def create(body: dict):
    """Creates a collection; its creator becomes its manager."""
    collection = rules.new_collection(str(uuid.uuid4()), body["name"], current_user(), datetime.now(UTC))
    catalog().collections.add(collection)
    return {"id": collection.id}


@blueprint.get("/<collection_id>")
@blueprint.response(200, CollectionSchema)
def read(collection_id: str):
    return collection_view(readable(collection_id), current_user())


@blueprint.put("/<collection_id>")
@blueprint.arguments(CollectionRenameSchema)
@blueprint.response(204)
def rename(body: dict, collection_id: str):
    change(collection_id, lambda _: {"name": body["name"]})


@blueprint.delete("/<collection_id>")
@blueprint.response(204)
def delete(collection_id: str):
    collection = catalog().collections.get(collection_id)
    if collection is None:
        raise not_found("Collection", collection_id)
    rules.require_manager(collection, current_user())
    catalog().collections.delete(collection_id)


@blueprint.get("/<collection_id>/scope")
@blueprint.response(200, ScopeEntrySchema(many=True))
def read_scope(collection_id: str):
    return scope_view(readable(collection_id))


@blueprint.post("/<collection_id>/scope")
@blueprint.arguments(ScopeEntrySchema(many=True))
@blueprint.response(204)
def add_scope(items: list[dict], collection_id: str):
    """Adds scope entries; an entry for a key already in scope gains the given tenants."""
    entries = [scope_entry_from(item) for item in items]
    change(collection_id, lambda c: {"scope": rules.with_scope_added(c, entries)})


@blueprint.put("/<collection_id>/scope/<entry_id>")
@blueprint.arguments(ScopeTenantsSchema)
@blueprint.response(204)
def replace_scope_tenants(body: dict, collection_id: str, entry_id: str):
    """Replaces the tenants of one scope entry (`{definitionType}:{definitionKey}`)."""
    change(collection_id, lambda c: {"scope": rules.with_scope_tenants(c, entry_id, body["tenants"])})


@blueprint.delete("/<collection_id>/scope/<entry_id>")
@blueprint.response(204)
def remove_scope_entry(collection_id: str, entry_id: str):
    change(collection_id, lambda c: {"scope": rules.without_scope_entry(c, entry_id)})


@blueprint.get("/<collection_id>/role")
@blueprint.response(200, RoleSchema(many=True))
def read_roles(collection_id: str):
    return roles_view(readable(collection_id))


@blueprint.post("/<collection_id>/role")
@blueprint.arguments(RoleSchema(many=True))
@blueprint.response(204)
def add_roles(items: list[dict], collection_id: str):
    roles = [role_from(item) for item in items]
    change(collection_id, lambda c: {"roles": rules.with_roles_added(c, roles)})


@blueprint.put("/<collection_id>/role/<path:role_id>")
@blueprint.arguments(RoleChangeSchema)
@blueprint.response(204)
def change_role(body: dict, collection_id: str, role_id: str):
    """Changes the role of one identity (`{type}:{id}`, e.g. `user:demo`)."""
    change(collection_id,
           lambda c: {"roles": rules.with_role_changed(c, parsed_role_id(role_id), body["role"])})


@blueprint.delete("/<collection_id>/role/<path:role_id>")
@blueprint.response(204)
def remove_role(collection_id: str, role_id: str):
    change(collection_id, lambda c: {"roles": rules.without_role(c, parsed_role_id(role_id))})
