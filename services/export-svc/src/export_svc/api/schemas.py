"""Response bodies of export-svc: entities as Optimize's REST API returns them."""

from datetime import UTC, datetime

from marshmallow import Schema, fields


class OptimizeDateTime(fields.DateTime):
    """Optimize's date format: `2024-05-17T09:30:12.345+0000`."""

    def __init__(self, **kwargs) -> None:
        # Documented as what it is: RFC 3339's date-time would need `+00:00`, which Optimize does not write.
        kwargs.setdefault("metadata", {"format": "optimize-date-time",
                                       "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$",
                                       "example": "2024-05-17T09:30:12.345+0000"})
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if isinstance(value, str):  # the embedded server stores a `$set` date as text, in UTC
            value = datetime.fromisoformat(value)
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


class _EntitySchema(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    owner = fields.String()
    lastModifier = fields.String()
    created = OptimizeDateTime()
    lastModified = OptimizeDateTime()
    collectionId = fields.String(allow_none=True)
    currentUserRole = fields.String()


class EntitySummarySchema(_EntitySchema):
    """An item of the entity list."""

    entityType = fields.String()
    reportType = fields.String(allow_none=True)
    combined = fields.Boolean()


class ReportSchema(_EntitySchema):
    reportType = fields.String()
    combined = fields.Boolean()
    data = fields.Raw()


class DashboardSchema(_EntitySchema):
    tiles = fields.Raw()
    availableFilters = fields.Raw()
    refreshRateSeconds = fields.Raw()
    managementDashboard = fields.Raw()
    instantPreviewDashboard = fields.Raw()


def seen_as_dict(seen) -> dict:
    return {**seen.document, "currentUserRole": seen.role}
