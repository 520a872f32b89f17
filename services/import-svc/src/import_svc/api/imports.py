"""POST /api/import and /api/public/import: an export file in, the imported entities (or every reason
for refusing them) out."""

from contextlib import closing, nullcontext

from flask import Response, after_this_request, current_app, request
from marshmallow import Schema, fields, validate

from contracts.errors import ErrorCode, ServiceError
from import_svc.domain.importing import MODES, NEW_COPIES, Importer, ImportRequest, payload_too_large
from import_svc.domain.importing.spooled_file import SpooledFile
from optimize_runtime.cyclic_gc import cyclic_gc_paused
from optimize_runtime.http import (
    Blueprint,
    export_import_access_only,
    request_id,
    require_entity_editor,
    require_export_import_access,
)

blueprint = Blueprint("import", __name__, description="Import of Optimize export files")
blueprint.before_request(export_import_access_only)  # before any body is parsed

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
_CHUNK_BYTES = 256 * 1024
_EXPORT_FILE_BODY = {
    "required": True,
    "description": "An export file as Optimize writes it: a JSON array of reports and dashboards",
    "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"},
                                                "minItems": 1}}},
}
_IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header", "name": IDEMPOTENCY_KEY_HEADER, "required": False, "schema": {"type": "string"},
    "description": "Sent again with the same file, returns the first import's result instead of importing "
                   "twice",
}


class ImportQuerySchema(Schema):
    collectionId = fields.String(load_default=None, validate=validate.Length(min=1),
                                 metadata={"description": "Import into this collection (else privately)"})
    dryRun = fields.Boolean(load_default=False,
                            metadata={"description": "Check everything and answer as the import would, "
                                                     "writing nothing"})
    mode = fields.String(load_default=NEW_COPIES, validate=validate.OneOf(MODES), metadata={
        "description": "newCopies (as Optimize): every entity becomes a new copy. overwrite: an entity "
                       "imported here before (same source id, same collection or the same user's private "
                       "entities) is updated in place, keeping its id; the others are created"})
    overwriteModified = fields.Boolean(load_default=False, metadata={
        "description": "With mode=overwrite: also overwrite entities changed here since their import "
                       "(otherwise a 409 importConflict names them)"})


class PublicImportQuerySchema(ImportQuerySchema):
    collectionId = fields.String(required=True, validate=validate.Length(min=1))


class ImportedEntitySchema(Schema):
    id = fields.String(allow_none=True, metadata={"description": "The new id (null in a dry run), or the "
                                                                 "kept id of an updated or unchanged entity"})
    entityType = fields.String(metadata={"description": "report or dashboard"})
    sourceId = fields.String(metadata={"description": "The id the entity has in the file"})
    action = fields.String(metadata={"description": "With mode=overwrite: created, updated (in place, id "
                                                    "kept) or unchanged (nothing written)"})
    upgradedFrom = fields.Integer(metadata={"description": "The sourceIndexVersion it was upgraded from"})
    warnings = fields.List(fields.String())


_LISTED_FIELDS = frozenset(ImportedEntitySchema().fields)


def _listed(outcome: list[dict]) -> Response | list[dict]:
    """The response: an outcome has the schema's shape already (`PlannedEntity.outcome`, or the copy the
    journal recorded), so it is written as it is rather than dumped again item by item (a 1,000-entity
    import's 1,000 items cost 4 ms there); anything with a field the schema does not list goes through it."""
    if all(item.keys() <= _LISTED_FIELDS for item in outcome):
        return current_app.json.response(outcome)
    return outcome


def _importer() -> Importer:
    return current_app.extensions["import"].importer


def _read_body(max_bytes: int, spool_bytes: int) -> bytearray | SpooledFile:
    """The body, refused as soon as it is known to exceed `max_bytes`: from Content-Length before
    reading anything, else while it streams in. Beyond `spool_bytes` it goes to a temporary file (the
    caller closes it), read from there entity by entity."""
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        raise payload_too_large(max_bytes, declared, "bytes")
    stream, body, spooled, size = request.stream, bytearray(), None, 0
    try:
        while chunk := stream.read(_CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                body.clear()
                # Read to the end, only counting, so that the limit and the real size can both be named.
                while chunk := stream.read(_CHUNK_BYTES):
                    size += len(chunk)
                raise payload_too_large(max_bytes, size, "bytes")
            if spooled is None and size > spool_bytes:
                spooled = SpooledFile()
                spooled.write(body)
                body.clear()
            if spooled is None:
                body += chunk
            else:
                spooled.write(chunk)
    except BaseException:
        if spooled is not None:
            spooled.close()
        raise
    return body if spooled is None else spooled


def _import(collection_id: str | None, dry_run: bool, mode: str,
            overwrite_modified: bool) -> Response | list[dict]:
    identity = require_export_import_access()
    if collection_id is None:
        require_entity_editor()
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is not None and not 1 <= len(key) <= 255:
        raise ServiceError(ErrorCode.BAD_REQUEST, f"The {IDEMPOTENCY_KEY_HEADER} header must have 1 to 255 "
                                                  "characters")
    importer = _importer()
    import_request = ImportRequest(identity, collection_id, dry_run=dry_run, idempotency_key=key,
                                   request_id=request_id(), mode=mode, overwrite_modified=overwrite_modified)
    config = current_app.extensions["import"].config
    try:
        body = _read_body(config.max_import_bytes, config.spool_import_bytes)
    except ServiceError as refusal:  # too large: refused before the file is read
        importer.announce_rejection(import_request, refusal)
        raise
    held = _HeldUntilAnswered()
    after_this_request(held.until_sent)
    with closing(body) if isinstance(body, SpooledFile) else nullcontext():
        outcome = importer.run(import_request, body, retain=held.objects.append)
    return _listed(outcome)


class _HeldUntilAnswered:
    """What an import made (its documents), freed once its answer is sent (the HTTP front closes a response
    then), and the cyclic collector paused until then: the file becomes many objects, without cycles, and
    a collector running again while they live would walk every one of them."""

    def __init__(self) -> None:
        self.objects: list[object] = []
        self._pause = cyclic_gc_paused()
        self._pause.__enter__()
        self._released = False

    def until_sent(self, response: Response) -> Response:
        response.call_on_close(self.release)
        return response

    def release(self) -> None:
        if not self._released:
            self._released = True
            self.objects.clear()
            self._pause.__exit__(None, None, None)

    __del__ = release  # a response never closed (or none made) still ends the pause when it is let go


@blueprint.route("/api/import", methods=["POST"])
@blueprint.arguments(ImportQuerySchema(), location="query", as_kwargs=True)  # made once, not per request
@blueprint.doc(requestBody=_EXPORT_FILE_BODY, parameters=[_IDEMPOTENCY_KEY_PARAMETER])
@blueprint.response(200, ImportedEntitySchema(many=True))
def import_entities(collectionId: str | None, dryRun: bool, mode: str,  # noqa: N803 - named as in the query
                    overwriteModified: bool):  # noqa: N803
    """Import an export file privately, or into a collection (superusers with editor or manager role)."""
    return _import(collectionId, dryRun, mode, overwriteModified)


@blueprint.route("/api/public/import", methods=["POST"])
@blueprint.arguments(PublicImportQuerySchema(), location="query", as_kwargs=True)
@blueprint.doc(requestBody=_EXPORT_FILE_BODY, parameters=[_IDEMPOTENCY_KEY_PARAMETER])
@blueprint.response(200, ImportedEntitySchema(many=True))
def import_entities_public(collectionId: str, dryRun: bool, mode: str,  # noqa: N803 - named as in the query
                           overwriteModified: bool):  # noqa: N803
    """Import an export file into a collection, as System User (public API token)."""
    return _import(collectionId, dryRun, mode, overwriteModified)
