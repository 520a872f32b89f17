"""Export files: downloads for users, JSON answers for other services (Optimize's paths; the
collection paths follow them, for what Optimize promised and never shipped)."""

import json

from flask import Response, current_app
from marshmallow import ValidationError, fields, validate

from contracts.errors import ErrorCode, ServiceError
from export_svc.domain.exporting import Exporter
from optimize_runtime.http import (
    Blueprint,
    export_import_access_only,
    request_id,
    require_export_import_access,
)
from optimize_runtime.http.content_disposition import attachment
from optimize_runtime.http.json_body import json_body

blueprint = Blueprint("export_files", __name__, url_prefix="/api",
                description="Reports, dashboards and whole collections as export files")
blueprint.before_request(export_import_access_only)  # before any body is parsed

_ID_LIST = fields.List(fields.String(validate=validate.Length(min=1)), required=True,
                       validate=validate.Length(min=1))


def _exporter() -> Exporter:
    return current_app.extensions["export"].exporter


def _counted(entity_type: str, api: str, entities: list[dict]) -> list[dict]:
    current_app.extensions["export"].metrics.exported(entity_type, api, entities)
    return entities


def _download(entity_type: str, entity_id: str, file_name: str) -> Response:
    user = require_export_import_access()
    disposition = attachment(file_name)  # a name that cannot be used is refused before anything is exported
    entities = _counted(entity_type, "user", _exporter().export(
        user, entity_type, [entity_id], request_id=request_id()))
    return _attachment(entities, disposition)


def _attachment(entities: list[dict], disposition: str) -> Response:
    response = current_app.json.response(entities)
    response.headers["Content-Disposition"] = disposition
    return response


def _ids_in_body() -> list[str]:
    try:
        return _ID_LIST.deserialize(json_body())
    except json.JSONDecodeError as error:
        raise ServiceError(ErrorCode.BAD_REQUEST, "The body must be a non-empty JSON array of ids",
                           validationErrors={"json": ["Invalid JSON body."]}) from error
    except ValidationError as error:
        raise ServiceError(ErrorCode.BAD_REQUEST, "The body must be a non-empty JSON array of ids",
                           validationErrors={"json": error.messages}) from error


def _public_export(entity_type: str) -> Response:
    user = require_export_import_access()
    entity_ids = _ids_in_body()
    # As in Optimize, the public API is trusted with every definition; it reads collection entities only.
    entities = _counted(entity_type, "public", _exporter().export(
        user, entity_type, entity_ids, request_id=request_id()))
    return current_app.json.response(entities)


@blueprint.get("/export/report/json/<report_id>/<file_name>")
@blueprint.response(200, description="The report, after the single reports of a combined report")
def export_report(report_id: str, file_name: str):
    return _download("report", report_id, file_name)


@blueprint.get("/export/dashboard/json/<dashboard_id>/<file_name>")
@blueprint.response(200, description="Every report the dashboard shows, each once, then the dashboard")
def export_dashboard(dashboard_id: str, file_name: str):
    return _download("dashboard", dashboard_id, file_name)


@blueprint.post("/public/export/report/definition/json")
@blueprint.response(200, description="The reports, each after what it needs")
def public_export_reports():
    return _public_export("report")


@blueprint.post("/public/export/dashboard/definition/json")
@blueprint.response(200, description="The dashboards, each after its reports")
def public_export_dashboards():
    return _public_export("dashboard")


@blueprint.get("/export/collection/json/<collection_id>/<file_name>")
@blueprint.response(200, description="Every report and dashboard of the collection, each after what it "
                                     "needs: import it into another collection with POST "
                                     "/api/import?collectionId=")
def export_collection(collection_id: str, file_name: str):
    user = require_export_import_access()
    disposition = attachment(file_name)
    entities = _counted("collection", "user", _exporter().export_collections(
        user, [collection_id], request_id=request_id()))
    return _attachment(entities, disposition)


@blueprint.post("/public/export/collection/definition/json")
@blueprint.response(200, description="Every report and dashboard of the collections, each once, each "
                                     "after what it needs")
def public_export_collections():
    user = require_export_import_access()
    collection_ids = _ids_in_body()
    # The public API acts for no user: it needs no role in the collections, nor definition authorizations.
    entities = _counted("collection", "public", _exporter().export_collections(
        user, collection_ids, request_id=request_id()))
    return current_app.json.response(entities)
