"""marshmallow schemas of the entities at their current versions.

They only validate: the entity itself is kept exactly as given, and every field they do not name
(configuration, filter, view, groupBy, visualization, BPMN xml, ...) passes untouched.
"""

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from contracts.export_file.versions import ENTITY_TYPES

TILE_TYPES = ("optimize_report", "external_url", "text")


class _OpenSchema(Schema):
    class Meta:
        unknown = INCLUDE


class DefinitionSchema(_OpenSchema):
    key = fields.String(required=True)
    versions = fields.List(fields.String(), required=True)
    tenantIds = fields.List(fields.String(allow_none=True), required=True)
    identifier = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    displayName = fields.String(allow_none=True)


class EntityEnvelopeSchema(_OpenSchema):
    """The fields every entity has, at any version: enough to know what it is and how to upgrade it."""

    id = fields.String(required=True, validate=validate.Length(min=1))
    exportEntityType = fields.String(required=True, validate=validate.OneOf(ENTITY_TYPES))
    name = fields.String(required=True)
    description = fields.String(allow_none=True)
    sourceIndexVersion = fields.Integer(required=True, strict=True)
    collectionId = fields.String(allow_none=True)


class _CurrentEntitySchema(EntityEnvelopeSchema):
    description = fields.String(required=True, allow_none=True)


class SingleReportDataSchema(_OpenSchema):
    """The fields Optimize reads by type; the rest of `data` is kept exactly as given."""

    definitions = fields.List(fields.Nested(DefinitionSchema), required=True)
    configuration = fields.Dict(allow_none=True)
    filter = fields.List(fields.Dict(), allow_none=True)
    view = fields.Dict(allow_none=True)
    groupBy = fields.Dict(allow_none=True)
    distributedBy = fields.Dict(allow_none=True)
    visualization = fields.String(allow_none=True)
    managementReport = fields.Boolean(allow_none=True, truthy={True}, falsy={False})
    instantPreviewReport = fields.Boolean(allow_none=True, truthy={True}, falsy={False})


class SingleReportSchema(_CurrentEntitySchema):
    data = fields.Nested(SingleReportDataSchema, required=True)


class CombinedReportItemSchema(_OpenSchema):
    id = fields.String(required=True, validate=validate.Length(min=1))
    color = fields.String(allow_none=True)


class CombinedReportDataSchema(_OpenSchema):
    reports = fields.List(fields.Nested(CombinedReportItemSchema), required=True)
    configuration = fields.Dict(allow_none=True)
    visualization = fields.String(allow_none=True)


class CombinedReportSchema(_CurrentEntitySchema):
    data = fields.Nested(CombinedReportDataSchema, required=True)


def _java_int() -> fields.Integer:
    """A field Optimize reads into a Java `int`: a string, a fraction or a number beyond 32 bits is refused
    or misread there, so it is refused here (null reads as 0 there, as does a missing one)."""
    return fields.Integer(strict=True, allow_none=True, validate=validate.Range(-(2**31), 2**31 - 1))


class TilePositionSchema(_OpenSchema):
    x = _java_int()
    y = _java_int()


class TileDimensionsSchema(_OpenSchema):
    width = _java_int()
    height = _java_int()


class TileSchema(_OpenSchema):
    id = fields.String(required=True)
    type = fields.String(required=True, validate=validate.OneOf(TILE_TYPES))
    position = fields.Nested(TilePositionSchema, required=True)
    dimensions = fields.Nested(TileDimensionsSchema, required=True)
    configuration = fields.Raw(allow_none=True)

    @validates_schema
    def configuration_fits_type(self, tile, **kwargs):
        configuration = tile.get("configuration")
        if tile["type"] == "external_url":
            if not isinstance(configuration, dict) or not isinstance(configuration.get("external"), str):
                raise ValidationError(
                    {"configuration": {"external": ["An external_url tile needs its URL as a string."]}}
                )
        elif tile["type"] == "text":
            if (
                not isinstance(configuration, dict)
                or "text" not in configuration
                or not isinstance(configuration["text"], dict | None)
            ):
                raise ValidationError(
                    {
                        "configuration": {
                            "text": ["A text tile needs its rich-text state (an object or null)."]
                        }
                    }
                )


class DashboardSchema(_CurrentEntitySchema):
    tiles = fields.List(fields.Nested(TileSchema), required=True)
    availableFilters = fields.List(fields.Dict())


CURRENT_SCHEMAS = {
    "single_process_report": SingleReportSchema,
    "single_decision_report": SingleReportSchema,
    "combined_report": CombinedReportSchema,
    "dashboard": DashboardSchema,
}
