"""/api/authorization: which users and groups may read which definitions. Superusers only."""


from catalog_svc.api.caller import catalog
from catalog_svc.api.schemas import AuthorizationQuerySchema, AuthorizationSchema
from catalog_svc.domain.model import Authorization, IdentityRef
from contracts.errors import not_found
from optimize_runtime.http import Blueprint, require_superuser

blueprint = Blueprint("authorizations", __name__, url_prefix="/api/authorization",
                      description="Definition authorizations of users and groups (superusers only)")


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
    """Grants each authorization; one for the same identity, type and key replaces its tenants."""
    require_superuser()
    authorizations = [authorization_from(item) for item in items]
    catalog().authorizations.grant(authorizations)
    return [authorization_view(a) for a in authorizations]


@blueprint.get("")
@blueprint.arguments(AuthorizationQuerySchema, location="query")
@blueprint.response(200, AuthorizationSchema(many=True))
def listing(query: dict):
    require_superuser()
    return [authorization_view(a) for a in catalog().authorizations.listing(**query)]


@blueprint.delete("/<path:authorization_id>")
@blueprint.response(204)
def revoke(authorization_id: str):
    """Revokes one authorization, by the id the listing gives (`{identityType}:{identityId}:{type}:{key}`)."""
    require_superuser()
    if not catalog().authorizations.revoke(authorization_id):
        raise not_found("Authorization", authorization_id)
