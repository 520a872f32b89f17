"""/api/collection: collections, their scope (data sources) and roles. Anyone may create one and becomes
its manager; reading needs a role in it; changing it needs the manager role (or being a superuser). The
use cases live in `catalog_svc.domain.collection_admin`; this module turns HTTP into calls of them."""

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
from catalog_svc.domain.collection_admin import CollectionAdmin
from catalog_svc.domain.model import Collection, IdentityRef, RoleEntry, ScopeEntry, User
from optimize_runtime.http import Blueprint
from optimize_runtime.http.request import request_id

blueprint = Blueprint("collections", __name__, url_prefix="/api/collection",
                      description="Collections with their scope and roles")


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


def admin() -> CollectionAdmin:
    return catalog().collection_admin


@blueprint.post("")
@blueprint.arguments(CollectionCreateSchema, required=False)  # no body: "New Collection", as in Optimize
@blueprint.response(200, IdSchema)
def create(body: dict):
    """Creates a collection; its creator becomes its manager."""
    return {"id": admin().create(current_user(), body["name"]).id}


@blueprint.get("/<collection_id>")
@blueprint.response(200, CollectionSchema)
def read(collection_id: str):
    user = current_user()
    return collection_view(admin().readable(user, collection_id), user)


@blueprint.put("/<collection_id>")
@blueprint.arguments(CollectionRenameSchema)
@blueprint.response(204)
def rename(body: dict, collection_id: str):
    admin().rename(current_user(), collection_id, body["name"])


@blueprint.delete("/<collection_id>")
@blueprint.response(204)
def delete(collection_id: str):
    admin().delete(current_user(), collection_id, request_id())


@blueprint.get("/<collection_id>/scope")
@blueprint.response(200, ScopeEntrySchema(many=True))
def read_scope(collection_id: str):
    return scope_view(admin().readable(current_user(), collection_id))


@blueprint.post("/<collection_id>/scope")
@blueprint.arguments(ScopeEntrySchema(many=True))
@blueprint.response(204)
def add_scope(items: list[dict], collection_id: str):
    """Adds scope entries; an entry for a key already in scope gains the given tenants."""
    admin().add_scope(current_user(), collection_id, [scope_entry_from(item) for item in items])


@blueprint.put("/<collection_id>/scope/<entry_id>")
@blueprint.arguments(ScopeTenantsSchema)
@blueprint.response(204)
def replace_scope_tenants(body: dict, collection_id: str, entry_id: str):
    """Replaces the tenants of one scope entry (`{definitionType}:{definitionKey}`)."""
    admin().replace_scope_tenants(current_user(), collection_id, entry_id, body["tenants"])


@blueprint.delete("/<collection_id>/scope/<entry_id>")
@blueprint.response(204)
def remove_scope_entry(collection_id: str, entry_id: str):
    admin().remove_scope_entry(current_user(), collection_id, entry_id)


@blueprint.get("/<collection_id>/role")
@blueprint.response(200, RoleSchema(many=True))
def read_roles(collection_id: str):
    return roles_view(admin().readable(current_user(), collection_id))


@blueprint.post("/<collection_id>/role")
@blueprint.arguments(RoleSchema(many=True))
@blueprint.response(204)
def add_roles(items: list[dict], collection_id: str):
    admin().add_roles(current_user(), collection_id, [role_from(item) for item in items])


@blueprint.put("/<collection_id>/role/<path:role_id>")
@blueprint.arguments(RoleChangeSchema)
@blueprint.response(204)
def change_role(body: dict, collection_id: str, role_id: str):
    """Changes the role of one identity (`{type}:{id}`, e.g. `user:demo`)."""
    admin().change_role(current_user(), collection_id, role_id, body["role"])


@blueprint.delete("/<collection_id>/role/<path:role_id>")
@blueprint.response(204)
def remove_role(collection_id: str, role_id: str):
    admin().remove_role(current_user(), collection_id, role_id)
