"""Import with mode=overwrite: which earlier copy each entity of the file replaces, and when it may not.

An entity of the file replaces the copy an earlier import made of the same source id (`sourceId`) in the
same target (the collection, or the importing user's private entities) with the same exportEntityType.
Where earlier imports made several copies (mode=newCopies, Optimize's way), the most recently created
one is kept and the answer says so. A copy a user changed since its import (its content no longer has
the digest the import wrote) is a conflict unless the caller allows overwriting it."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.entities import IMPORT_DIGEST, SOURCE_ID, content_digest
from contracts.errors import ErrorCode, ServiceError
from contracts.import_journal import IMPORT_ID
from import_svc.domain.importing.refusal import ImportProblem

NEW_COPIES = "newCopies"
OVERWRITE = "overwrite"
MODES = (NEW_COPIES, OVERWRITE)

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"


# What the plan and the answers read of an earlier copy; its content is kept only as its digest, so that
# an overwrite of a large file never holds the copies it replaces (the write reads each again, in parts).
COPY_FIELDS = ("_id", "id", SOURCE_ID, "exportEntityType", "entityType", "name", "owner", "created",
               "lastModified", "lastModifier", IMPORT_ID, IMPORT_DIGEST)


@dataclass(frozen=True)
class EarlierCopy:
    """An entity an earlier import made in the target, as readers see it now: its `COPY_FIELDS`, and the
    digest of its content (`contracts.entities.content_digest`)."""

    document: dict
    digest: str
    # Another import is overwriting it right now (or died doing so and is not swept yet).
    being_overwritten: bool = False

    @classmethod
    def of(cls, document: dict, being_overwritten: bool = False) -> "EarlierCopy":
        """What is kept of the visible version of a stored entity."""
        kept = {name: document[name] for name in COPY_FIELDS if name in document}
        return cls(kept, content_digest(document), being_overwritten)


@dataclass(frozen=True)
class Kept:
    """The earlier copy an entity of the file replaces, and what to tell about the choice."""

    copy: EarlierCopy
    warnings: tuple[str, ...] = ()

    @property
    def document(self) -> dict:
        return self.copy.document

    @property
    def modified_since_import(self) -> bool:
        return self.document.get(IMPORT_DIGEST) != self.copy.digest


def kept_copies(entities: Iterable[dict], copies: Iterable[EarlierCopy]) -> dict[str, Kept]:
    """For each entity of the file (by its id there) that has earlier copies, the one it replaces.
    Raises conflictError (with Retry-After) when another import is overwriting one of them now."""
    by_source: dict[tuple[str, str], list[EarlierCopy]] = {}
    for copy in copies:
        document = copy.document
        by_source.setdefault((document[SOURCE_ID], document["exportEntityType"]), []).append(copy)
    kept: dict[str, Kept] = {}
    busy: list[dict] = []
    for entity in entities:
        found = by_source.get((entity["id"], entity["exportEntityType"]), [])
        if not found:
            continue
        newest_first = sorted(found, key=lambda copy: (copy.document["created"], copy.document["id"]),
                              reverse=True)
        chosen = newest_first[0]
        if chosen.being_overwritten:
            busy.append(chosen.document)
        kept[entity["id"]] = Kept(chosen, _several_copies_warning(newest_first))
    if busy:
        named = ", ".join(_named(document) for document in busy)
        raise ServiceError(ErrorCode.CONFLICT, f"Another import is changing {named} right now",
                           "Try again when it has ended", headers={"Retry-After": "5"},
                           ids=[document["id"] for document in busy])
    return kept


def _several_copies_warning(newest_first: list[EarlierCopy]) -> tuple[str, ...]:
    if len(newest_first) < 2:
        return ()
    chosen, others = newest_first[0].document, [copy.document["id"] for copy in newest_first[1:]]
    return (f"{len(newest_first)} earlier imports made copies of this {chosen['entityType']} here; the most "
            f"recent one ({chosen['id']}, created {_iso(chosen['created'])}) is overwritten, "
            f"{'that one is' if len(others) == 1 else 'those are'} left as they are: {', '.join(others)}.",)


def modified_conflict(changed: list[tuple[str, dict]]) -> ImportProblem:
    """The copies users changed since their import, with the source id each would be replaced from."""
    named = ", ".join(_named(document) for _, document in changed)
    return ImportProblem(
        ErrorCode.IMPORT_CONFLICT,
        f"Changed in this installation since they were imported, so not overwritten: {named}. Import them "
        "with overwriteModified=true to replace those changes, or with mode=newCopies to keep both.",
        {"conflictedItems": [
            {"id": document["id"], "sourceId": source_id, "type": document["entityType"],
             "name": document["name"], "lastModifier": document.get("lastModifier"),
             "lastModified": _iso(document.get("lastModified"))}
            for source_id, document in changed]},
    )


def _named(document: dict) -> str:
    return f"{document['entityType']} '{document['name']}' ({document['id']})"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
