"""The entity list and single entities, as Optimize's REST API returns them."""

from flask import current_app
from marshmallow import Schema, fields

from export_svc.api.schemas import DashboardSchema, EntitySummarySchema, ReportSchema, seen_as_dict
from export_svc.domain.reading import VisibleEntities
from optimize_runtime.http import Blueprint, current_identity

blueprint = Blueprint("entities", __name__, url_prefix="/api",
                      description="Reports and dashboards a user sees")


def _reading() -> VisibleEntities:
    return current_app.extensions["export"].reading


@blueprint.get("/entities")
@blueprint.response(200, EntitySummarySchema(many=True))
def entity_list():
    """The user's private entities and those of every collection the user has a role in."""
    return [seen_as_dict(seen) for seen in _reading().entity_list(current_identity())]


@blueprint.get("/collection/<collection_id>/entities")
@blueprint.response(200, EntitySummarySchema(many=True))
def collection_entities(collection_id: str):
    return [seen_as_dict(seen) for seen in _reading().collection_entities(current_identity(), collection_id)]


@blueprint.get("/report/<report_id>")
@blueprint.response(200, ReportSchema)
def report(report_id: str):
    return seen_as_dict(_reading().entity(current_identity(), "report", report_id))


@blueprint.get("/dashboard/<dashboard_id>")
@blueprint.response(200, DashboardSchema)
def dashboard(dashboard_id: str):
    return seen_as_dict(_reading().entity(current_identity(), "dashboard", dashboard_id))


class PublicListQuerySchema(Schema):
    collectionId = fields.String(load_default=None, metadata={"description": "The collection (required)"})


class IdAndNameSchema(Schema):
    id = fields.String()
    name = fields.String()


public_blueprint = Blueprint("public_entities", __name__, url_prefix="/api/public",
                   description="Ids of a collection's reports and dashboards, for other services")


@public_blueprint.get("/report")
@public_blueprint.arguments(PublicListQuerySchema, location="query", as_kwargs=True)
@public_blueprint.response(200, IdAndNameSchema(many=True))
def public_report_ids(collectionId: str | None):  # noqa: N803 - named as in the query
    """The ids (and names) of a collection's reports, oldest first, as Optimize's public API lists them."""
    return _reading().in_collection_for_services("report", collectionId)


@public_blueprint.get("/dashboard")
@public_blueprint.arguments(PublicListQuerySchema, location="query", as_kwargs=True)
@public_blueprint.response(200, IdAndNameSchema(many=True))
def public_dashboard_ids(collectionId: str | None):  # noqa: N803 - named as in the query
    """The ids (and names) of a collection's dashboards, oldest first."""
    return _reading().in_collection_for_services("dashboard", collectionId)
