"""The catalog's RPC API, beside its HTTP API: one handler per method of `contracts.catalog_rpc`, each
reading what it needs with a fixed number of MongoDB commands (the definitions of every reference in one
query, the collection in one, the user's authorizations in one), whatever the number of references, then
letting the domain decide. Those reads are remembered while the catalog does not change
(`RememberedCatalog`): a call asks the store for the catalog's version stamp, and reads only what it
has not read under that stamp. The worker process (`catalog_svc.rpc_worker`) serves them."""

from datetime import UTC, datetime

from catalog_svc.adapters.remembered_catalog import CatalogAsOf, RememberedCatalog
from catalog_svc.bootstrap import CatalogWiring
from catalog_svc.domain import prerequisites
from catalog_svc.domain.collections import role_of
from catalog_svc.domain.model import DefinitionRef, DefinitionVerdict, User
from contracts.catalog_rpc import CollectionAccess
from optimize_runtime.messaging import RpcContext, RpcHandler


class CatalogRpc:
    def __init__(self, wiring: CatalogWiring) -> None:
        self.catalog = RememberedCatalog(wiring.version, wiring.definitions, wiring.collections,
                                         wiring.authorizations)

    def handlers(self) -> dict[str, RpcHandler]:
        return {"ping": self.ping, "check_import": self.check_import, "check_export": self.check_export,
                "collection_access": self.collection_access}

    def ping(self, params: dict, context: RpcContext) -> dict:
        return {"service": "catalog-svc", "time": datetime.now(UTC).isoformat()}

    def check_import(self, params: dict, context: RpcContext) -> dict:
        user, refs = _user(params["user"]), _refs(params["definitions"])
        catalog = self.catalog.now()
        keys = {(ref.type, ref.key) for ref in refs}
        deployments = catalog.deployments_of(keys)
        collection_id = params.get("collectionId")
        collection = catalog.collection(collection_id) if collection_id else None
        check_authorization = params["checkAuthorization"]
        authorizations = (catalog.authorizations_of(user, {key for _, key in keys})
                          if check_authorization and refs else [])
        check = prerequisites.check_import(user, refs, deployments, authorizations,
                                           collection_id=collection_id, collection=collection,
                                           check_authorization=check_authorization)
        xml = catalog.xml_of(v.xml_source.id for v in check.definitions if v.xml_source)
        return {
            "collection": check.collection.as_message() if check.collection else None,
            "definitions": [_import_verdict(v, xml, params.get("withVariables", False))
                            for v in check.definitions],
            "forbiddenDefinitions": [f.as_message() for f in check.forbidden],
            "collections": _accesses(catalog, user, params.get("collectionIds") or []),
        }

    def check_export(self, params: dict, context: RpcContext) -> dict:
        user, refs = _user(params["user"]), _refs(params["definitions"])
        catalog = self.catalog.now()
        authorizations = catalog.authorizations_of(user, {ref.key for ref in refs}) if refs else []
        check = prerequisites.check_export(user, refs, authorizations)
        return {
            "definitions": [{**_ref(v.ref), "authorized": v.authorized,
                             "forbiddenTenants": list(v.forbidden_tenants)} for v in check.definitions],
            "forbiddenDefinitions": [f.as_message() for f in check.forbidden],
            "collections": _accesses(catalog, user, params.get("collectionIds") or []),
        }

    def collection_access(self, params: dict, context: RpcContext) -> dict:
        """The user's role in the given collections, or every collection that grants them one (no implicit
        role for superusers, as in Optimize)."""
        user, ids = _user(params["user"]), params.get("collectionIds")
        catalog = self.catalog.now()
        if ids is not None:
            return {"collections": _accesses(catalog, user, ids)}
        return {"collections": [CollectionAccess(c.id, True, c.name, role_of(c, user)).as_message()
                                for c in catalog.with_member(user)]}


def rpc_handlers(wiring: CatalogWiring) -> dict[str, RpcHandler]:
    return CatalogRpc(wiring).handlers()


def _accesses(catalog: CatalogAsOf, user: User, ids: list[str]) -> list[dict]:
    """The user's role in each of these collections (one query; none when there are none)."""
    found = catalog.collections(ids) if ids else {}
    return [prerequisites.collection_access(i, found.get(i), user).as_message() for i in ids]


def _user(user: dict) -> User:
    return User(user["id"], frozenset(user.get("groups") or ()), bool(user.get("superuser")))


def _refs(definitions: list[dict]) -> list[DefinitionRef]:
    return [DefinitionRef(d["type"], d["key"], tuple(d["versions"]), tuple(d["tenantIds"]))
            for d in definitions]


def _ref(ref: DefinitionRef) -> dict:
    return {"type": ref.type, "key": ref.key, "versions": list(ref.versions),
            "tenantIds": list(ref.tenant_ids)}


def _import_verdict(verdict: DefinitionVerdict, xml: dict[str, str], with_variables: bool) -> dict:
    variables = verdict.variables if with_variables else None
    return {
        **_ref(verdict.ref),
        "name": verdict.name,
        "exists": verdict.exists,
        "missingTenants": list(verdict.missing_tenants),
        "existingVersions": list(verdict.existing_versions),
        "missingVersions": list(verdict.missing_versions),
        "authorized": verdict.authorized,
        "forbiddenTenants": list(verdict.forbidden_tenants),
        "inScope": verdict.in_scope,
        "tenantsOutOfScope": list(verdict.tenants_out_of_scope),
        "xml": xml.get(verdict.xml_source.id) if verdict.xml_source else None,
        "variables": None if variables is None else [v.as_message() for v in variables],
    }
