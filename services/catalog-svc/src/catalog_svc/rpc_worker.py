"""The catalog's RPC worker: its own process (`catalog-svc rpc`), scaled apart from the HTTP process.

Each handler reads what it needs with a fixed number of MongoDB commands (the definitions of every
reference in one query, the collection in one, the user's authorizations in one), whatever the number of
references, then lets the domain decide."""

import logging
import signal
from datetime import UTC, datetime

from catalog_svc.bootstrap import CatalogWiring, wire
from catalog_svc.config import CatalogConfig
from catalog_svc.domain import prerequisites
from catalog_svc.domain.collections import role_of
from catalog_svc.domain.model import (
    CollectionAccess,
    DefinitionRef,
    DefinitionVerdict,
    ForbiddenDefinition,
    User,
)
from contracts.catalog_rpc import register_catalog_rpc
from optimize_runtime.messaging import RpcServer

log = logging.getLogger(__name__)


def rpc_handlers(wiring: CatalogWiring) -> dict:
    register_catalog_rpc()

    def ping(params: dict, context) -> dict:
        return {"service": "catalog-svc", "time": datetime.now(UTC).isoformat()}

    def check_import(params: dict, context) -> dict:
        user, refs = _user(params["user"]), _refs(params["definitions"])
        keys = {(ref.type, ref.key) for ref in refs}
        deployments = wiring.definitions.deployments_of(keys)
        collection_id = params.get("collectionId")
        collection = wiring.collections.get(collection_id) if collection_id else None
        check_authorization = params["checkAuthorization"]
        authorizations = (wiring.authorizations.of_user(user, {key for _, key in keys})
                          if check_authorization and refs else [])
        check = prerequisites.check_import(user, refs, deployments, authorizations,
                                           collection_id=collection_id, collection=collection,
                                           check_authorization=check_authorization)
        xml = wiring.definitions.xml_of(v.xml_source.id for v in check.definitions if v.xml_source)
        return {
            "collection": _access(check.collection) if check.collection else None,
            "definitions": [_import_verdict(v, xml) for v in check.definitions],
            "forbiddenDefinitions": [_forbidden(f) for f in check.forbidden],
            "collections": accesses_of(user, params.get("collectionIds") or []),
        }

    def check_export(params: dict, context) -> dict:
        user, refs = _user(params["user"]), _refs(params["definitions"])
        authorizations = wiring.authorizations.of_user(user, {ref.key for ref in refs}) if refs else []
        check = prerequisites.check_export(user, refs, authorizations)
        return {
            "definitions": [{**_ref(v.ref), "authorized": v.authorized,
                             "forbiddenTenants": list(v.forbidden_tenants)} for v in check.definitions],
            "forbiddenDefinitions": [_forbidden(f) for f in check.forbidden],
            "collections": accesses_of(user, params.get("collectionIds") or []),
        }

    def accesses_of(user: User, ids: list[str]) -> list[dict]:
        """The user's role in each of these collections (one query; none when there are none)."""
        found = wiring.collections.many(ids) if ids else {}
        return [_access(prerequisites.collection_access(i, found.get(i), user)) for i in ids]

    def collection_access(params: dict, context) -> dict:
        """The user's role in the given collections, or every collection that grants them one (no implicit
        role for superusers, as in Optimize)."""
        user, ids = _user(params["user"]), params.get("collectionIds")
        if ids is None:
            accesses = [CollectionAccess(c.id, True, c.name, role_of(c, user))
                        for c in wiring.collections.with_member(user)]
        else:
            return {"collections": accesses_of(user, ids)}
        return {"collections": [_access(a) for a in accesses]}

    return {"ping": ping, "check_import": check_import, "check_export": check_export,
            "collection_access": collection_access}


def _user(user: dict) -> User:
    return User(user["id"], frozenset(user.get("groups") or ()), bool(user.get("superuser")))


def _refs(definitions: list[dict]) -> list[DefinitionRef]:
    return [DefinitionRef(d["type"], d["key"], tuple(d["versions"]), tuple(d["tenantIds"]))
            for d in definitions]


def _ref(ref: DefinitionRef) -> dict:
    return {"type": ref.type, "key": ref.key, "versions": list(ref.versions),
            "tenantIds": list(ref.tenant_ids)}


def _import_verdict(verdict: DefinitionVerdict, xml: dict[str, str]) -> dict:
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
    }


def _forbidden(forbidden: ForbiddenDefinition) -> dict:
    return {"type": forbidden.type, "key": forbidden.key, "tenantIds": list(forbidden.tenant_ids)}


def _access(access: CollectionAccess) -> dict:
    return {"id": access.id, "exists": access.exists, "name": access.name, "role": access.role}


def run_worker(config: CatalogConfig | None = None) -> None:
    config = config or CatalogConfig.from_env()
    wiring = wire(config)
    server = RpcServer(config.common.amqp_url, config.common.rpc_queue, rpc_handlers(wiring),
                       prefetch=config.rpc_prefetch)

    def stop(signum, frame):
        log.info("signal %s: finishing the message in hand and stopping", signum)
        server.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("catalog RPC worker consuming %s", config.common.rpc_queue)
    server.serve_forever()
    wiring.mongo.close()
