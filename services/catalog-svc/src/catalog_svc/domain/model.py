"""What the catalog knows: deployed definitions, collections with their scope and roles, and the
definition authorizations of users and groups. Plain values; the rules live beside them. What the
catalog answers about a collection or a forbidden key has the contract's shapes
(`contracts.catalog_rpc.CollectionAccess`, `ForbiddenDefinition`)."""

import json
from dataclasses import dataclass
from datetime import datetime

from contracts.catalog_rpc import CollectionAccess, ForbiddenDefinition, ProcessVariable

PROCESS, DECISION = "process", "decision"
USER, GROUP = "user", "group"
VIEWER, EDITOR, MANAGER = "viewer", "editor", "manager"
ROLE_RANK = {VIEWER: 1, EDITOR: 2, MANAGER: 3}

ALL_VERSIONS, LATEST_VERSION = "all", "latest"
ANY_KEY = "*"  # an authorization for every key of its definition type
ANY_TENANT = "*"  # an authorization for every tenant, the "not defined" one included

# A null tenant is Optimize's "not defined" tenant: a definition deployed without a tenant.
Tenant = str | None


def version_order(version: str) -> tuple[int, int | str]:
    """Numeric versions sort as numbers, anything else after them."""
    return (0, int(version)) if version.isdigit() else (1, version)


@dataclass(frozen=True)
class IdentityRef:
    """A user or a group, as roles and authorizations name them."""

    type: str
    id: str

    @property
    def ref_id(self) -> str:
        return f"{self.type}:{self.id}"

    @classmethod
    def parse(cls, ref_id: str) -> "IdentityRef | None":
        identity_type, separator, identity_id = ref_id.partition(":")
        if not separator or identity_type.lower() not in (USER, GROUP) or not identity_id:
            return None
        return cls(identity_type.lower(), identity_id)


@dataclass(frozen=True)
class User:
    id: str
    groups: frozenset[str] = frozenset()
    superuser: bool = False

    @property
    def identities(self) -> frozenset[IdentityRef]:
        return frozenset({IdentityRef(USER, self.id), *(IdentityRef(GROUP, group) for group in self.groups)})


@dataclass(frozen=True)
class Definition:
    """One deployed version of a process or decision definition, for one tenant (or none)."""

    type: str
    key: str
    version: str
    tenant_id: Tenant
    name: str | None = None
    has_xml: bool = False
    # None: none recorded (unknown), as for every definition registered without them
    variables: tuple[ProcessVariable, ...] | None = None

    @property
    def id(self) -> str:
        return definition_id(self.type, self.key, self.version, self.tenant_id)


def definition_id(definition_type: str, key: str, version: str, tenant_id: Tenant) -> str:
    # Tenant None and "" must not collide, nor keys with separators in them: a JSON list says it exactly.
    return json.dumps([definition_type, key, version, tenant_id], separators=(",", ":"))


@dataclass(frozen=True)
class DefinitionRef:
    """A definition as an entity uses it: `versions` may hold "all" or "latest"."""

    type: str
    key: str
    versions: tuple[str, ...]
    tenant_ids: tuple[Tenant, ...]

    @property
    def tenants(self) -> tuple[Tenant, ...]:
        """No tenant listed means the "not defined" tenant, as in Optimize."""
        return self.tenant_ids or (None,)

    @property
    def any_version(self) -> bool:
        return any(version.lower() in (ALL_VERSIONS, LATEST_VERSION) for version in self.versions)


@dataclass(frozen=True)
class ScopeEntry:
    definition_type: str
    definition_key: str
    tenants: tuple[Tenant, ...] = (None,)

    @property
    def id(self) -> str:
        return scope_entry_id(self.definition_type, self.definition_key)


def scope_entry_id(definition_type: str, definition_key: str) -> str:
    return f"{definition_type}:{definition_key}"


@dataclass(frozen=True)
class RoleEntry:
    identity: IdentityRef
    role: str

    @property
    def id(self) -> str:
        return self.identity.ref_id


@dataclass(frozen=True)
class Collection:
    id: str
    name: str
    owner: str
    created: datetime
    last_modified: datetime
    last_modifier: str
    scope: tuple[ScopeEntry, ...] = ()
    roles: tuple[RoleEntry, ...] = ()
    revision: int = 0  # optimistic concurrency: a write applies only to the revision it was decided on


@dataclass(frozen=True)
class Authorization:
    """Grants an identity read access to definitions of one key (or every key) for some tenants."""

    identity: IdentityRef
    definition_type: str
    definition_key: str
    tenants: tuple[Tenant, ...] = (None,)

    @property
    def id(self) -> str:
        return f"{self.identity.ref_id}:{self.definition_type}:{self.definition_key}"

    def grants(self, definition_type: str, key: str, tenant: Tenant) -> bool:
        return (self.definition_type == definition_type
                and self.definition_key in (key, ANY_KEY)
                and (tenant in self.tenants or ANY_TENANT in self.tenants))


@dataclass(frozen=True)
class DefinitionVerdict:
    """The catalog's answer on one definition reference of an entity."""

    ref: DefinitionRef
    exists: bool
    name: str | None = None
    missing_tenants: tuple[Tenant, ...] = ()
    existing_versions: tuple[str, ...] = ()
    missing_versions: tuple[str, ...] = ()
    authorized: bool = True
    forbidden_tenants: tuple[Tenant, ...] = ()
    in_scope: bool | None = None
    tenants_out_of_scope: tuple[Tenant, ...] = ()
    xml_source: Definition | None = None  # the deployment whose XML the importer should use
    # of the deployments the reference reads; None when any of them has none recorded
    variables: tuple[ProcessVariable, ...] | None = None


@dataclass(frozen=True)
class PrerequisiteCheck:
    definitions: tuple[DefinitionVerdict, ...]
    forbidden: tuple[ForbiddenDefinition, ...] = ()
    collection: CollectionAccess | None = None
