"""/api/authorization: which users and groups may read which definitions. Superusers only."""


from catalog_svc.api.caller import catalog
from catalog_svc.api.schemas import (
    AuthorizationQuerySchema,
    AuthorizationRevokeQuerySchema,
    AuthorizationSchema,
)
from catalog_svc.domain.model import Authorization, IdentityRef
from contracts.errors import not_found
from optimize_runtime.http import Blueprint, require_superuser, superusers_only

blueprint = Blueprint("authorizations", __name__, url_prefix="/api/authorization",
                      description="Definition authorizations of users and groups (superusers only)")
blueprint.before_request(superusers_only)  # before any body is parsed


def authorization_from(item: dict) -> Authorization:
    identity = IdentityRef(item["identity"]["type"], item["identity"]["id"])
    return Authorization(identity, item["definitionType"], item["definitionKey"], tuple(item["tenants"]))


def authorization_view(authorization: Authorization) -> dict:
    return {"id": authorization.id,
            "identity": {"id": authorization.identity.id, "type": authorization.identity.type},
            "definitionType": authorization.definition_type, "definitionKey": authorization.definition_key,
            "tenants": list(authorization.tenants)}


@blueprint.post("")
@blueprint.arguments(AuthorizationSchema(many=True))
@blueprint.response(200, AuthorizationSchema(many=True))
def grant(items: list[dict]):
    """Grants each authorization: its tenants are added to those the identity already has for the same
    type and key (as Optimize's authorizations add up); answers the authorizations as they now stand."""
    require_superuser()
    authorizations = [authorization_from(item) for item in items]
    return [authorization_view(a) for a in catalog().authorizations.grant(authorizations)]


@blueprint.get("")
@blueprint.arguments(AuthorizationQuerySchema, location="query")
@blueprint.response(200, AuthorizationSchema(many=True))
def listing(query: dict):
    require_superuser()
    return [authorization_view(a) for a in catalog().authorizations.listing(**query)]


@blueprint.delete("/<path:authorization_id>")
@blueprint.arguments(AuthorizationRevokeQuerySchema, location="query")
@blueprint.response(204)
def revoke(query: dict, authorization_id: str):
    """Revokes one authorization, by the id the listing gives (`{identityType}:{identityId}:{type}:{key}`),
    or only some of its tenants (`?tenant=t1&tenant=`; an empty value is the no-tenant null)."""
    require_superuser()
    tenants = None if "tenant" not in query else [tenant or None for tenant in query["tenant"]]
    if not catalog().authorizations.revoke(authorization_id, tenants):
        raise not_found("Authorization", authorization_id)
