"""/api/definition: the deployed process and decision definitions the catalog knows. Superusers only."""

from itertools import groupby

from catalog_svc.api.caller import catalog
from catalog_svc.api.schemas import (
    DefinitionDeleteQuerySchema,
    DefinitionKeySchema,
    DefinitionQuerySchema,
    DefinitionSchema,
    RegisteredSchema,
)
from catalog_svc.domain.model import Definition, version_order
from contracts.catalog_rpc import ProcessVariable
from contracts.errors import ErrorCode, ServiceError
from optimize_runtime.http import Blueprint, require_superuser, superusers_only

blueprint = Blueprint("definitions", __name__, url_prefix="/api/definition",
                      description="Process and decision definitions (superusers only)")
blueprint.before_request(superusers_only)  # before any body is parsed


def definitions_from(items: list[dict]) -> list[tuple[Definition, str | None]]:
    return [(Definition(item["type"], item["key"], item["version"], item["tenantId"],
                        item["name"] or item["key"], bool(item["xml"]), _variables(item.get("variables"))),
             item["xml"]) for item in items]


def _variables(items: list[dict] | None) -> tuple[ProcessVariable, ...] | None:
    if items is None:
        return None
    return tuple(dict.fromkeys(ProcessVariable(item["name"], item["type"]) for item in items))


@blueprint.post("")
@blueprint.arguments(DefinitionSchema(many=True))
@blueprint.response(200, RegisteredSchema)
def register(items: list[dict]):
    """Registers definitions or updates them (name, XML, variables); registering the same one again changes
    nothing."""
    require_superuser()
    return {"registered": catalog().definitions.register(definitions_from(items))}


@blueprint.get("")
@blueprint.arguments(DefinitionQuerySchema, location="query")
@blueprint.response(200, DefinitionKeySchema(many=True))
def listing(query: dict):
    """Definitions grouped by type and key, with their versions and tenants."""
    require_superuser()
    deployed = catalog().definitions.listing(query.get("type"), query.get("key"))
    return [_grouped(group) for _, group in groupby(deployed, key=lambda d: (d.type, d.key))]


@blueprint.delete("/<definition_type>/<key>")
@blueprint.arguments(DefinitionDeleteQuerySchema, location="query")
@blueprint.response(204)
def delete(query: dict, definition_type: str, key: str):
    """Deletes the definition: every deployment of the key, or only `version` and/or `tenantId`."""
    require_superuser()
    if definition_type not in ("process", "decision"):
        raise ServiceError(ErrorCode.BAD_REQUEST, f"Unknown definition type '{definition_type}'",
                           "The definition type is 'process' or 'decision'")
    tenant = query.get("tenantId")
    deleted = catalog().definitions.delete(definition_type, key, query.get("version"),
                                           tenant or None, any_tenant="tenantId" not in query)
    if not deleted:
        raise ServiceError(ErrorCode.NOT_FOUND, f"No {definition_type} definition '{key}' matches",
                           "Nothing was deleted", type=definition_type, key=key, **query)


def _grouped(deployments) -> dict:
    deployments = list(deployments)
    latest = max(deployments, key=lambda d: version_order(d.version))
    return {
        "type": latest.type,
        "key": latest.key,
        "name": latest.name,
        "versions": sorted({d.version for d in deployments}, key=version_order),
        "tenantIds": sorted({d.tenant_id for d in deployments}, key=lambda t: (t is not None, t or "")),
        "deployments": [{"version": d.version, "tenantId": d.tenant_id, "name": d.name, "hasXml": d.has_xml,
                         "variables": None if d.variables is None else [v.as_message() for v in d.variables]}
                        for d in deployments],
    }
