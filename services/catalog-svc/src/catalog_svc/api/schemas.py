"""The catalog's HTTP shapes, in and out. The seed file uses the same shapes."""

from marshmallow import Schema, fields, validate

from contracts.catalog_rpc import DEFINITION_TYPES, ROLES, VARIABLE_TYPES

DEFINITION_TYPE = validate.OneOf(DEFINITION_TYPES)
IDENTITY_TYPE = validate.OneOf(("user", "group"))
ROLE = validate.OneOf(ROLES)
NON_EMPTY = validate.Length(min=1)
VERSION = validate.Regexp(r"^[0-9]+$", error="A version is a number written as a string, such as \"1\".")


def tenant_list(**kwargs) -> fields.List:
    """A list of tenant ids; null is the "not defined" tenant (a definition deployed without tenant)."""
    return fields.List(fields.String(allow_none=True, validate=NON_EMPTY), **kwargs)


class VariableSchema(Schema):
    name = fields.String(required=True, validate=NON_EMPTY)
    type = fields.String(required=True, validate=validate.OneOf(VARIABLE_TYPES),
                         metadata={"description": "Optimize's VariableType id"})


class DefinitionSchema(Schema):
    type = fields.String(required=True, validate=DEFINITION_TYPE)
    key = fields.String(required=True, validate=NON_EMPTY)
    name = fields.String(allow_none=True, load_default=None)
    version = fields.String(required=True, validate=VERSION)
    tenantId = fields.String(allow_none=True, load_default=None, validate=NON_EMPTY)
    xml = fields.String(allow_none=True, load_default=None, load_only=True)
    variables = fields.List(
        fields.Nested(VariableSchema), allow_none=True, load_default=None,
        metadata={"description": (
            "The process variables of this deployment, as Optimize knows them from its instances. An import "
            "refuses a dashboard variable filter that no definition of the dashboard's reports has; a "
            "dashboard reading a definition registered without `variables` is not checked. Omitted on a "
            "later registration: what was recorded stays.")})


class RegisteredSchema(Schema):
    registered = fields.Integer(required=True)


class DeploymentSchema(Schema):
    version = fields.String()
    tenantId = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    hasXml = fields.Boolean()
    variables = fields.List(fields.Nested(VariableSchema), allow_none=True,
                            metadata={"description": "null: none recorded"})


class DefinitionKeySchema(Schema):
    """One key with every version and tenant it is deployed for."""

    type = fields.String()
    key = fields.String()
    name = fields.String(allow_none=True)
    versions = fields.List(fields.String())
    tenantIds = tenant_list()
    deployments = fields.List(fields.Nested(DeploymentSchema))


class DefinitionQuerySchema(Schema):
    type = fields.String(validate=DEFINITION_TYPE)
    key = fields.String(validate=NON_EMPTY)


class DefinitionDeleteQuerySchema(Schema):
    version = fields.String(validate=VERSION)
    # Absent: every tenant; empty (`?tenantId=`): the "not defined" tenant.
    tenantId = fields.String()


class IdentitySchema(Schema):
    id = fields.String(required=True, validate=NON_EMPTY)
    type = fields.String(required=True, validate=IDENTITY_TYPE)


class IdSchema(Schema):
    id = fields.String(required=True)


# As long as an entity's name may be (OPTIMIZE_ENTITY_NAME_MAX_LENGTH's default, Optimize's editor limit).
COLLECTION_NAME = validate.Length(min=1, max=100)


class CollectionCreateSchema(Schema):
    name = fields.String(load_default="New Collection", validate=COLLECTION_NAME)


class CollectionRenameSchema(Schema):
    name = fields.String(required=True, validate=COLLECTION_NAME)


class ScopeEntrySchema(Schema):
    id = fields.String(dump_only=True)
    definitionType = fields.String(required=True, validate=DEFINITION_TYPE)
    definitionKey = fields.String(required=True, validate=NON_EMPTY)
    tenants = tenant_list(load_default=lambda: [None])


class ScopeTenantsSchema(Schema):
    tenants = tenant_list(required=True)


class RoleSchema(Schema):
    id = fields.String(dump_only=True)
    identity = fields.Nested(IdentitySchema, required=True)
    role = fields.String(required=True, validate=ROLE)


class RoleChangeSchema(Schema):
    role = fields.String(required=True, validate=ROLE)


class CollectionSchema(Schema):
    id = fields.String()
    name = fields.String()
    owner = fields.String()
    created = fields.DateTime()
    lastModified = fields.DateTime()
    lastModifier = fields.String()
    currentUserRole = fields.String(allow_none=True)
    scope = fields.List(fields.Nested(ScopeEntrySchema))
    roles = fields.List(fields.Nested(RoleSchema))


class AuthorizationSchema(Schema):
    """`definitionKey` "*" is every key of the type; a tenant "*" is every tenant."""

    id = fields.String(dump_only=True)
    identity = fields.Nested(IdentitySchema, required=True)
    definitionType = fields.String(required=True, validate=DEFINITION_TYPE)
    definitionKey = fields.String(required=True, validate=NON_EMPTY)
    tenants = tenant_list(load_default=lambda: [None])


class AuthorizationRevokeQuerySchema(Schema):
    tenant = fields.List(fields.String(allow_none=True), metadata={
        "description": "Revoke only these tenants (repeat the parameter; an empty value is the "
                       "no-tenant null); without it the whole authorization is revoked"})


class AuthorizationQuerySchema(Schema):
    identityId = fields.String()
    identityType = fields.String(validate=IDENTITY_TYPE)
    definitionType = fields.String(validate=DEFINITION_TYPE)
    definitionKey = fields.String()
