"""The catalog's RPC methods: what import-svc and export-svc ask, and what the catalog answers.

One `check_import` answers a whole import (every definition of the file, the collection, the user);
one `check_export` a whole export; one `collection_access` the collections an entity list or an
authoring call needs.

The schemas check the messages on both sides; the dataclasses below are the answers as a caller's domain
reads them, made from a checked result. A process that speaks these methods registers them with
`register_catalog_rpc()` where it is wired (importing this module registers nothing)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from contracts.plain_checks import are_texts, is_text, is_text_or_null
from contracts.rpc import RpcMethod, register_rpc_method

DEFINITION_TYPES = ("process", "decision")
ROLES = ("viewer", "editor", "manager")
# Optimize's VariableType ids (its JSON spelling); Optimize compares them ignoring case.
VARIABLE_TYPES = ("String", "Short", "Long", "Double", "Integer", "Boolean", "Date", "Object", "Json")


class _Message(Schema):
    class Meta:
        unknown = EXCLUDE


class RpcUserSchema(_Message):
    id = fields.String(required=True)
    groups = fields.List(fields.String(), load_default=list)
    superuser = fields.Boolean(load_default=False)


class DefinitionRefSchema(_Message):
    """A definition as an entity uses it: `versions` may hold "all" or "latest"; a null tenant is the
    "not defined" tenant."""

    type = fields.String(required=True, validate=validate.OneOf(DEFINITION_TYPES))
    key = fields.String(required=True)
    versions = fields.List(fields.String(), required=True)
    tenantIds = fields.List(fields.String(allow_none=True), required=True)


class CollectionAccessSchema(_Message):
    id = fields.String(required=True)
    exists = fields.Boolean(required=True)
    name = fields.String(allow_none=True, load_default=None)
    role = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(ROLES))


class CheckImportParams(_Message):
    user = fields.Nested(RpcUserSchema, required=True)
    collectionId = fields.String(allow_none=True, load_default=None)
    # more collections to answer the user's role in (authoring: those of the reports an entity shows)
    collectionIds = fields.List(fields.String(), load_default=list)
    definitions = fields.List(fields.Nested(DefinitionRefSchema), required=True)
    checkAuthorization = fields.Boolean(load_default=True)  # false on the public API, as in Optimize
    # true when the file's dashboards have variable filters: each check then carries the variables
    withVariables = fields.Boolean(load_default=False)


class ProcessVariableSchema(_Message):
    """A process variable a definition has: its name and Optimize's VariableType id."""

    name = fields.String(required=True, validate=validate.Length(min=1))
    type = fields.String(required=True, validate=validate.OneOf(VARIABLE_TYPES))


class DefinitionCheckSchema(DefinitionRefSchema):
    """The catalog's verdict on one reference of the file."""

    name = fields.String(allow_none=True, load_default=None)
    # The reference passes: some listed tenant (or a shared deployment) has the key, and some listed version
    # exists ("all"/"latest": any version). [t1, t2] where only t1 has it exists; [t2] alone does not.
    exists = fields.Boolean(required=True)
    missingTenants = fields.List(fields.String(allow_none=True), load_default=list)  # listed, without the key
    existingVersions = fields.List(fields.String(), load_default=list)
    missingVersions = fields.List(fields.String(), load_default=list)
    authorized = fields.Boolean(required=True)
    forbiddenTenants = fields.List(fields.String(allow_none=True), load_default=list)
    inScope = fields.Boolean(allow_none=True, load_default=None)  # null when not importing into a collection
    tenantsOutOfScope = fields.List(fields.String(allow_none=True), load_default=list)
    # the target's XML of the latest existing listed version, when the catalog holds it
    xml = fields.String(allow_none=True, load_default=None)
    # asked withVariables: the variables of the deployments the reference reads; null when any of them
    # has none recorded in the catalog (unknown: nothing may be concluded from it)
    variables = fields.List(fields.Nested(ProcessVariableSchema), allow_none=True, load_default=None)


class ForbiddenDefinitionSchema(_Message):
    """A key the user may not read, once per key, with every tenant it was refused for."""

    type = fields.String(required=True, validate=validate.OneOf(DEFINITION_TYPES))
    key = fields.String(required=True)
    tenantIds = fields.List(fields.String(allow_none=True), required=True)


class CheckImportResult(_Message):
    collection = fields.Nested(CollectionAccessSchema, allow_none=True, load_default=None)
    # one per reference, in the order of the params
    definitions = fields.List(fields.Nested(DefinitionCheckSchema), required=True)
    forbiddenDefinitions = fields.List(fields.Nested(ForbiddenDefinitionSchema), load_default=list)
    collections = fields.List(fields.Nested(CollectionAccessSchema), load_default=list)  # of collectionIds


class CheckExportParams(_Message):
    user = fields.Nested(RpcUserSchema, required=True)
    definitions = fields.List(fields.Nested(DefinitionRefSchema), required=True)
    # the collections of the entities read: the user's role in each comes back in the same reply
    collectionIds = fields.List(fields.String(), load_default=list)


class ExportDefinitionCheckSchema(DefinitionRefSchema):
    authorized = fields.Boolean(required=True)
    forbiddenTenants = fields.List(fields.String(allow_none=True), load_default=list)


class CheckExportResult(_Message):
    definitions = fields.List(fields.Nested(ExportDefinitionCheckSchema), required=True)  # one per reference
    forbiddenDefinitions = fields.List(fields.Nested(ForbiddenDefinitionSchema), load_default=list)
    collections = fields.List(fields.Nested(CollectionAccessSchema), load_default=list)  # of collectionIds


class CollectionAccessParams(_Message):
    user = fields.Nested(RpcUserSchema, required=True)
    # null: every collection the user has a role in (for the entity list)
    collectionIds = fields.List(fields.String(), allow_none=True, load_default=None)


class CollectionAccessResult(_Message):
    collections = fields.List(fields.Nested(CollectionAccessSchema), required=True)


CHECK_IMPORT = "check_import"
CHECK_EXPORT = "check_export"
COLLECTION_ACCESS = "collection_access"
CATALOG_RPC_METHODS: dict[str, tuple[type[Schema], type[Schema]]] = {
    CHECK_IMPORT: (CheckImportParams, CheckImportResult),
    CHECK_EXPORT: (CheckExportParams, CheckExportResult),
    COLLECTION_ACCESS: (CollectionAccessParams, CollectionAccessResult),
}


def register_catalog_rpc() -> dict[str, RpcMethod]:
    """Adds the catalog's methods to this process's RPC contract (safe to call again)."""
    return {name: register_rpc_method(name, params, result, *_PLAIN_CHECKS.get(name, ()))
            for name, (params, result) in CATALOG_RPC_METHODS.items()}


# --- Plain checks of check_import's messages (the catalog worker's every call) ---------------------------
# Each passes only exact JSON types in the shapes the services make, and answers None / False whenever in
# doubt, so that marshmallow decides (and words the problems) then;
# `contracts/tests/unit/test_catalog_rpc_conformance.py` holds them against the schemas.

def _tenants(value: Any) -> bool:
    return type(value) is list and all(item is None or type(item) is str for item in value)


def _flag(value: Any) -> bool:
    return type(value) is bool


def _fields(message: Any, schema: type[Schema]) -> bool:
    """A dict with no field the schema does not know (it would drop them: in doubt)."""
    return type(message) is dict and _KNOWN_FIELDS[schema].issuperset(message)


def _plain_ref(ref: Any, schema: type[Schema] = DefinitionRefSchema) -> bool:
    return (_fields(ref, schema) and ref.get("type") in DEFINITION_TYPES and is_text(ref.get("type"))
            and is_text(ref.get("key")) and are_texts(ref.get("versions")) and _tenants(ref.get("tenantIds")))


def _load_user(user: Any) -> dict[str, Any] | None:
    if not _fields(user, RpcUserSchema) or not is_text(user.get("id")):
        return None
    groups, superuser = user.get("groups", []), user.get("superuser", False)
    if not are_texts(groups) or not _flag(superuser):
        return None
    return {"id": user["id"], "groups": list(groups), "superuser": superuser}


def _load_check_import_params(params: Any) -> dict[str, Any] | None:
    """The params as CheckImportParams loads them, or None when in doubt."""
    if not _fields(params, CheckImportParams) or "definitions" not in params:
        return None
    user = _load_user(params.get("user"))
    collection_id, collection_ids = params.get("collectionId"), params.get("collectionIds", [])
    definitions = params["definitions"]
    check_authorization = params.get("checkAuthorization", True)
    with_variables = params.get("withVariables", False)
    if (user is None or not is_text_or_null(collection_id) or not are_texts(collection_ids)
            or type(definitions) is not list or not all(_plain_ref(ref) for ref in definitions)
            or not _flag(check_authorization) or not _flag(with_variables)):
        return None
    return {"user": user, "collectionId": collection_id, "collectionIds": list(collection_ids),
            "definitions": [{"type": ref["type"], "key": ref["key"], "versions": list(ref["versions"]),
                             "tenantIds": list(ref["tenantIds"])} for ref in definitions],
            "checkAuthorization": check_authorization, "withVariables": with_variables}


def _plain_access(access: Any) -> bool:
    return (_fields(access, CollectionAccessSchema) and is_text(access.get("id"))
            and _flag(access.get("exists")) and is_text_or_null(access.get("name"))
            and (access.get("role") is None or (is_text(access["role"]) and access["role"] in ROLES)))


def _plain_variables(variables: Any) -> bool:
    return variables is None or (type(variables) is list and all(
        _fields(v, ProcessVariableSchema) and is_text(v.get("name")) and v["name"] != ""
        and is_text(v.get("type")) and v["type"] in VARIABLE_TYPES for v in variables))


def _plain_verdict(verdict: Any) -> bool:
    return (_plain_ref(verdict, DefinitionCheckSchema) and _flag(verdict.get("exists"))
            and _flag(verdict.get("authorized")) and is_text_or_null(verdict.get("name"))
            and all(_tenants(verdict.get(name, [])) for name in ("missingTenants", "forbiddenTenants",
                                                                   "tenantsOutOfScope"))
            and are_texts(verdict.get("existingVersions", []))
            and are_texts(verdict.get("missingVersions", []))
            and (verdict.get("inScope") is None or _flag(verdict["inScope"]))
            and is_text_or_null(verdict.get("xml")) and _plain_variables(verdict.get("variables")))


def _plain_forbidden(forbidden: Any) -> bool:
    return (_fields(forbidden, ForbiddenDefinitionSchema) and forbidden.get("type") in DEFINITION_TYPES
            and is_text(forbidden.get("type")) and is_text(forbidden.get("key"))
            and _tenants(forbidden.get("tenantIds")))


def _check_import_result_conforms(result: Any) -> bool:
    """True only for a result CheckImportResult finds nothing wrong with."""
    if not _fields(result, CheckImportResult):
        return False
    definitions, forbidden = result.get("definitions"), result.get("forbiddenDefinitions", [])
    collection, collections = result.get("collection"), result.get("collections", [])
    return (type(definitions) is list and all(_plain_verdict(v) for v in definitions)
            and type(forbidden) is list and all(_plain_forbidden(f) for f in forbidden)
            and (collection is None or _plain_access(collection))
            and type(collections) is list and all(_plain_access(c) for c in collections))


_KNOWN_FIELDS = {schema: frozenset(schema().fields) for schema in (
    RpcUserSchema, DefinitionRefSchema, CheckImportParams, CollectionAccessSchema, ProcessVariableSchema,
    DefinitionCheckSchema, ForbiddenDefinitionSchema, CheckImportResult)}
_PLAIN_CHECKS = {CHECK_IMPORT: (_load_check_import_params, _check_import_result_conforms)}


# --- The answers as a caller reads them --------------------------------------------------------------------

@dataclass(frozen=True)
class DefinitionRef:
    """A definition as entities use it: versions may hold "all" or "latest"; a None tenant is the
    "not defined" tenant."""

    type: str
    key: str
    versions: tuple[str, ...]
    tenant_ids: tuple[str | None, ...]

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> "DefinitionRef":
        return cls(message["type"], message["key"], tuple(message["versions"]), tuple(message["tenantIds"]))

    def as_message(self) -> dict[str, Any]:
        return {"type": self.type, "key": self.key, "versions": list(self.versions),
                "tenantIds": list(self.tenant_ids)}


@dataclass(frozen=True)
class CollectionAccess:
    """What the catalog says about one collection for one user: whether it exists, its name, the
    user's role in it (None: no role)."""

    id: str
    exists: bool
    name: str | None = None
    role: str | None = None

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> "CollectionAccess":
        return cls(message["id"], message["exists"], message.get("name"), message.get("role"))

    def as_message(self) -> dict[str, Any]:
        return {"id": self.id, "exists": self.exists, "name": self.name, "role": self.role}


@dataclass(frozen=True)
class ForbiddenDefinition:
    """A key the user may not read, with every tenant it was refused for."""

    type: str
    key: str
    tenant_ids: tuple[str | None, ...]

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> "ForbiddenDefinition":
        return cls(message["type"], message["key"], tuple(message["tenantIds"]))

    def as_message(self) -> dict[str, Any]:
        return {"type": self.type, "key": self.key, "tenantIds": list(self.tenant_ids)}


@dataclass(frozen=True)
class ProcessVariable:
    """A variable of a process definition: its name and Optimize's VariableType id."""

    name: str
    type: str

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> "ProcessVariable":
        return cls(message["name"], message["type"])

    def as_message(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type}


@dataclass(frozen=True)
class DefinitionCheck:
    """The catalog's verdict on one reference of an import (see DefinitionCheckSchema)."""

    ref: DefinitionRef
    exists: bool
    authorized: bool
    name: str | None = None
    missing_tenants: tuple[str | None, ...] = ()
    existing_versions: tuple[str, ...] = ()
    missing_versions: tuple[str, ...] = ()
    forbidden_tenants: tuple[str | None, ...] = ()
    in_scope: bool | None = None
    tenants_out_of_scope: tuple[str | None, ...] = ()
    xml: str | None = None
    variables: tuple[ProcessVariable, ...] | None = None  # None: not asked, or not recorded in the catalog

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> "DefinitionCheck":
        variables = message.get("variables")
        return cls(
            DefinitionRef.from_message(message), message["exists"], message["authorized"],
            name=message.get("name"),
            missing_tenants=tuple(message.get("missingTenants") or ()),
            existing_versions=tuple(message.get("existingVersions") or ()),
            missing_versions=tuple(message.get("missingVersions") or ()),
            forbidden_tenants=tuple(message.get("forbiddenTenants") or ()),
            in_scope=message.get("inScope"),
            tenants_out_of_scope=tuple(message.get("tenantsOutOfScope") or ()),
            xml=message.get("xml"),
            variables=None if variables is None else tuple(map(ProcessVariable.from_message, variables)),
        )


@dataclass(frozen=True)
class ImportCheck:
    """What `check_import` answered: the collection (None when importing privately), one check per
    reference in the order asked, and each forbidden key once."""

    collection: CollectionAccess | None
    definitions: tuple[DefinitionCheck, ...]
    forbidden: tuple[ForbiddenDefinition, ...] = ()
    collections: dict[str, CollectionAccess] = field(default_factory=dict)  # of the collectionIds asked

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> "ImportCheck":
        collection = result.get("collection")
        return cls(CollectionAccess.from_message(collection) if collection else None,
                   tuple(DefinitionCheck.from_message(check) for check in result["definitions"]),
                   _forbidden(result), collection_accesses(result))


@dataclass(frozen=True)
class ExportDefinitionCheck:
    ref: DefinitionRef
    authorized: bool
    forbidden_tenants: tuple[str | None, ...] = ()


@dataclass(frozen=True)
class ExportCheck:
    """What `check_export` answered: one check per reference in the order asked, each forbidden key once,
    and the user's access to each collection asked about."""

    definitions: tuple[ExportDefinitionCheck, ...]
    forbidden: tuple[ForbiddenDefinition, ...] = ()
    collections: dict[str, CollectionAccess] = field(default_factory=dict)  # of the collectionIds asked

    @classmethod
    def from_result(cls, result: Mapping[str, Any]) -> "ExportCheck":
        return cls(
            tuple(ExportDefinitionCheck(DefinitionRef.from_message(check), check["authorized"],
                                        tuple(check.get("forbiddenTenants") or ()))
                  for check in result["definitions"]),
            _forbidden(result), collection_accesses(result))


def _forbidden(result: Mapping[str, Any]) -> tuple[ForbiddenDefinition, ...]:
    return tuple(ForbiddenDefinition.from_message(item) for item in result.get("forbiddenDefinitions") or ())


def collection_accesses(result: Mapping[str, Any]) -> dict[str, CollectionAccess]:
    """The `collections` of an answer, by collection id."""
    return {item["id"]: CollectionAccess.from_message(item) for item in result.get("collections") or ()}
