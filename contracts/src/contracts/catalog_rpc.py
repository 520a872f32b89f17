"""The catalog's RPC methods: what import-svc and export-svc ask, and what the catalog answers.

One `check_import` answers a whole import (every definition of the file, the collection, the user);
one `check_export` a whole export; one `collection_access` the collections an entity list or an
authoring call needs."""

from marshmallow import EXCLUDE, Schema, fields, validate

from contracts.rpc import register_rpc_method

DEFINITION_TYPES = ("process", "decision")
ROLES = ("viewer", "editor", "manager")


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


CHECK_IMPORT = register_rpc_method("check_import", CheckImportParams(), CheckImportResult())
CHECK_EXPORT = register_rpc_method("check_export", CheckExportParams(), CheckExportResult())
COLLECTION_ACCESS = register_rpc_method("collection_access", CollectionAccessParams(),
                                        CollectionAccessResult())
