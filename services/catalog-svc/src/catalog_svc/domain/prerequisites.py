"""The import and export prerequisites the catalog decides, with Optimize's tenant and version semantics:

- a null tenant is the "not defined" tenant; a reference without tenants means that one;
- a definition deployed without a tenant (shared) satisfies a reference to any tenant;
- a reference to tenants [t1, t2] exists when any of them has the definition (tenants are not pruned);
- listed versions that do not exist are reported, and the reference is missing only when none exists;
  "all" and "latest" need any version;
- the user needs an authorization (own or through a group) for every tenant of the reference; superusers
  are not exempt, as in Optimize;
- in a collection, the key must be in its scope and every tenant of the reference in that scope entry.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from catalog_svc.domain.collections import role_of
from catalog_svc.domain.model import (
    ALL_VERSIONS,
    LATEST_VERSION,
    Authorization,
    Collection,
    Definition,
    DefinitionRef,
    DefinitionVerdict,
    PrerequisiteCheck,
    Tenant,
    User,
    version_order,
)
from contracts.catalog_rpc import CollectionAccess, ForbiddenDefinition, ProcessVariable

DeploymentsByKey = Mapping[tuple[str, str], Sequence[Definition]]


def check_import(user: User, refs: Sequence[DefinitionRef], deployments: DeploymentsByKey,
                 authorizations: Iterable[Authorization], *, collection_id: str | None = None,
                 collection: Collection | None = None, check_authorization: bool = True) -> PrerequisiteCheck:
    """Every prerequisite of one import at once: existence, authorization and collection scope."""
    grants = granted_to(user, authorizations)
    verdicts = []
    for ref in refs:
        verdict = existence(ref, deployments.get((ref.type, ref.key), ()))
        forbidden = forbidden_tenants(ref, grants) if check_authorization else ()
        in_scope, out_of_scope = scope_compliance(ref, collection) if collection else (None, ())
        verdicts.append(replace(verdict, authorized=not forbidden, forbidden_tenants=forbidden,
                                in_scope=in_scope, tenants_out_of_scope=out_of_scope))
    access = None
    if collection_id is not None:
        access = collection_access(collection_id, collection, user)
    return PrerequisiteCheck(tuple(verdicts), forbidden_per_key(verdicts), access)


def check_export(user: User, refs: Sequence[DefinitionRef],
                 authorizations: Iterable[Authorization]) -> PrerequisiteCheck:
    """May the user read the definitions of the entities they export."""
    grants = granted_to(user, authorizations)
    verdicts = []
    for ref in refs:
        forbidden = forbidden_tenants(ref, grants)
        verdicts.append(DefinitionVerdict(ref, exists=True, authorized=not forbidden,
                                          forbidden_tenants=forbidden))
    return PrerequisiteCheck(tuple(verdicts), forbidden_per_key(verdicts))


def existence(ref: DefinitionRef, deployed: Sequence[Definition]) -> DefinitionVerdict:
    """Which tenants and listed versions of the reference the catalog holds."""
    tenants = ref.tenants
    usable = [d for d in deployed if d.type == ref.type and d.key == ref.key
              and (d.tenant_id is None or d.tenant_id in tenants)]
    has_shared = any(d.tenant_id is None for d in usable)
    tenants_with_it = {d.tenant_id for d in usable}
    missing_tenants = tuple(t for t in tenants if not has_shared and t not in tenants_with_it)
    deployed_versions = {d.version for d in usable}
    existing, missing = [], []
    for version in ref.versions:
        any_version = version.lower() in (ALL_VERSIONS, LATEST_VERSION)
        found = bool(deployed_versions) if any_version else version in deployed_versions
        (existing if found else missing).append(version)
    latest = latest_deployment(ref, usable, existing)
    return DefinitionVerdict(
        ref, exists=bool(existing), name=latest.name if latest else None, missing_tenants=missing_tenants,
        existing_versions=tuple(existing), missing_versions=tuple(missing),
        xml_source=latest if latest is not None and latest.has_xml else None,
        variables=variables_read(ref, usable, existing))


def variables_read(ref: DefinitionRef, usable: Sequence[Definition],
                   existing_versions: Sequence[str]) -> tuple[ProcessVariable, ...] | None:
    """The variables of every deployment the reference reads (its listed versions; "all"/"latest": any),
    as Optimize's ProcessVariableNameRequestDto asks them by key, versions and tenants. None when one of
    those deployments has no variables recorded, or none exists: unknown, nothing may be concluded."""
    read = usable if ref.any_version else [d for d in usable if d.version in existing_versions]
    if not read or any(d.variables is None for d in read):
        return None
    return tuple(dict.fromkeys(v for d in read for v in d.variables or ()))


def latest_deployment(ref: DefinitionRef, usable: Sequence[Definition],
                      existing_versions: Sequence[str]) -> Definition | None:
    """The latest existing listed version, from the first listed tenant that has it, else the shared one."""
    if not usable or not existing_versions:
        return None
    candidates = usable if ref.any_version else [d for d in usable if d.version in existing_versions]
    newest = max(version_order(d.version) for d in candidates)
    of_newest = [d for d in candidates if version_order(d.version) == newest]
    tenant_rank = {tenant: rank for rank, tenant in reversed(list(enumerate(ref.tenants)))}
    return min(of_newest, key=lambda d: tenant_rank.get(d.tenant_id, len(tenant_rank)))


def granted_to(user: User, authorizations: Iterable[Authorization]) -> list[Authorization]:
    identities = user.identities
    return [a for a in authorizations if a.identity in identities]


def forbidden_tenants(ref: DefinitionRef, grants: Sequence[Authorization]) -> tuple[Tenant, ...]:
    """The tenants of the reference no grant of the user covers; empty when authorized."""
    return tuple(t for t in ref.tenants if not any(g.grants(ref.type, ref.key, t) for g in grants))


def forbidden_per_key(verdicts: Iterable[DefinitionVerdict]) -> tuple[ForbiddenDefinition, ...]:
    """Each forbidden key once, with every tenant it was refused for, in the order first seen."""
    tenants_by_key: dict[tuple[str, str], list[Tenant]] = {}
    for verdict in verdicts:
        if verdict.authorized:
            continue
        tenants = tenants_by_key.setdefault((verdict.ref.type, verdict.ref.key), [])
        tenants.extend(t for t in verdict.forbidden_tenants if t not in tenants)
    return tuple(ForbiddenDefinition(t, k, tuple(tenants)) for (t, k), tenants in tenants_by_key.items())


def scope_compliance(ref: DefinitionRef, collection: Collection) -> tuple[bool, tuple[Tenant, ...]]:
    """Whether the key is in the collection's scope, and the reference's tenants outside that entry."""
    entry = next((e for e in collection.scope
                  if e.definition_type == ref.type and e.definition_key == ref.key), None)
    if entry is None:
        return False, ()
    return True, tuple(t for t in ref.tenants if t not in entry.tenants)


def collection_access(collection_id: str, collection: Collection | None, user: User) -> CollectionAccess:
    if collection is None:
        return CollectionAccess(collection_id, exists=False)
    return CollectionAccess(collection.id, exists=True, name=collection.name, role=role_of(collection, user))
