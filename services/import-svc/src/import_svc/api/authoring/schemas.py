"""Request and response bodies of authoring, as Optimize's editor sends them. Only the envelope is
checked here; the content is checked against the export format by the domain."""

from marshmallow import EXCLUDE, Schema, fields


class _Body(Schema):
    class Meta:
        # Optimize's frontend sends the whole entity back (owner, created, ...): what we set is ignored.
        unknown = EXCLUDE


class _Envelope(_Body):
    description = fields.String(allow_none=True, load_default=None)
    collectionId = fields.String(allow_none=True, load_default=None)


class ReportBodySchema(_Envelope):
    name = fields.String(load_default="New Report")
    data = fields.Dict(keys=fields.String(), required=True)


class DashboardBodySchema(_Envelope):
    name = fields.String(load_default="New Dashboard")
    tiles = fields.List(fields.Dict(keys=fields.String()), load_default=list)
    availableFilters = fields.List(fields.Dict(keys=fields.String()), load_default=list)
    refreshRateSeconds = fields.Integer(allow_none=True)


class ReportChangesSchema(_Body):
    name = fields.String()
    description = fields.String(allow_none=True)
    data = fields.Dict(keys=fields.String())


class DashboardChangesSchema(_Body):
    name = fields.String()
    description = fields.String(allow_none=True)
    tiles = fields.List(fields.Dict(keys=fields.String()))
    availableFilters = fields.List(fields.Dict(keys=fields.String()))
    refreshRateSeconds = fields.Integer(allow_none=True)


class IdSchema(Schema):
    id = fields.String(required=True)
