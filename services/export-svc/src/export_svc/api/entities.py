"""The entity list and single entities, as Optimize's REST API returns them."""

from urllib.parse import urlencode

from flask import current_app, request
from marshmallow import Schema, fields, validate

from export_svc.api.schemas import DashboardSchema, EntitySummarySchema, ReportSchema, seen_as_dict
from export_svc.domain.reading import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, VisibleEntities
from optimize_runtime.http import Blueprint, current_identity

_PAGE_HEADERS = {
    "X-Total-Count": {"description": "How many entities the whole list holds", "schema": {"type": "integer"}},
    "X-Next-Cursor": {"description": "The cursor of the next page; absent on the last page",
                      "schema": {"type": "string"}},
    "Link": {"description": 'The next page as `<url>; rel="next"` (RFC 8288); absent on the last page',
             "schema": {"type": "string"}},
}
_PAGING = ("Paged: the body stays a JSON array (as Optimize returns it); the order is stable "
           "(lastModified descending, then id descending). Ask with `limit` (default 1000, at most "
           "10000) and, for the next page, the `cursor` the previous answer gave in X-Next-Cursor (or "
           "follow its Link rel=\"next\").")


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE),
                           metadata={"description": f"Entities per page, 1 to {MAX_PAGE_SIZE}"})
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=512),
                           metadata={"description": "X-Next-Cursor of the previous page (opaque)"})


def _paged(page: Page, limit: int):
    headers = {"X-Total-Count": str(page.total)}
    if page.next_cursor is not None:
        headers["X-Next-Cursor"] = page.next_cursor
        next_url = f"{request.base_url}?{urlencode({'limit': limit, 'cursor': page.next_cursor})}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    return [seen_as_dict(seen) for seen in page.items], headers

blueprint = Blueprint("entities", __name__, url_prefix="/api",
                      description="Reports and dashboards a user sees")


def _reading() -> VisibleEntities:
    return current_app.extensions["export"].reading


@blueprint.get("/entities")
@blueprint.arguments(PageQuerySchema, location="query", as_kwargs=True)
@blueprint.response(200, EntitySummarySchema(many=True), headers=_PAGE_HEADERS, description=_PAGING)
def entity_list(limit: int, cursor: str | None):
    """The user's private entities and those of every collection the user has a role in."""
    return _paged(_reading().entity_list(current_identity(), limit, cursor), limit)


@blueprint.get("/collection/<collection_id>/entities")
@blueprint.arguments(PageQuerySchema, location="query", as_kwargs=True)
@blueprint.response(200, EntitySummarySchema(many=True), headers=_PAGE_HEADERS, description=_PAGING)
def collection_entities(collection_id: str, limit: int, cursor: str | None):
    """The entities of one collection the user has a role in."""
    return _paged(_reading().collection_entities(current_identity(), collection_id, limit, cursor), limit)


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
