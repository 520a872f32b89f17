"""The import journal: one document per import, the commit record that decides whether its entities exist.

import-svc writes it; every reader of the entity store (export-svc and import-svc) reads it to decide
what it may show. The journal lives in the entity store's database, collection `import_journal`.

An imported entity document carries `importId` (always) and `pending: <importId>` (until its import is
committed and the marker is cleared). A reader shows an entity that has an `importId` only when the
journal holds a record in state `committed` with that `importId`. Entities without `importId`
(authored one at a time) are always shown: each of them is one single-document write.

An import with mode=overwrite changes entities an earlier import made without ever showing a mix: it
replaces each one's document by the new version (its own `importId` and `pending` marker) that keeps the
version shown until then whole under `previous` (`PREVIOUS_VERSION`). A reader shows the top version when
its import is committed, else the `previous` one by the same rule (`visible_version`). So the commit
record switches every entity of the import at once; an import that dies before it leaves the previous
versions shown, and whoever removes its entities (the import itself, a retry taking over, the sweeper)
puts the previous version back instead of deleting. Once committed, `previous` is dropped with the marker.

The record (field names are the constants below):

    {
      _id:         the record's id: for a retry-safe import `json.dumps([userId, idempotencyKey])`
                   (so that the key is claimed by inserting it: one record per user and key), otherwise
                   the importId,
      importId:    the attempt that owns the record now; its entities carry it. A retry that takes over a
                   dead attempt writes its own importId here, which makes the dead attempt's entities
                   unreachable at once (no record names their importId any more),
      state:       "pending" -> "committed" (final). A pending record is removed when its attempt fails
                   or is found dead; nothing else ever changes a committed record but the outbox below,
      userId, key, digest:  for a retry-safe import: who, which Idempotency-Key, and a digest of the
                   request (a key reused for another file is refused),
      owner:       {host, pid, started}: the process writing the import (`started` tells a reused pid
                   apart),
      leaseUntilMs: epoch milliseconds until which the owner is taken to be alive; the owner renews it
                   while it writes (a number, not a date: the embedded server stores a `$set` date as text),
      createdMs, committedMs: epoch milliseconds,
      entityCount: {reports: n, dashboards: m}: what the attempt writes,
      outcome:     the response of the import, written with the commit (what a replay answers),
      events:      the events of the write (entity.imported), written by the same single-document commit:
                   the transactional outbox of imports,
      eventsRelayed: false at the commit while `events` is not empty; import-svc's relay copies the events
                   into its outbox (`outbox`, ids = eventIds, so copying twice is harmless) and then sets
                   it true,
      relayDueMs:  = committedMs while the events wait for that copy, removed with it: what the relay
                   asks for (an integer range, answered from an index holding only these records, also on
                   the embedded server, where asking for `eventsRelayed: false` reads every record).
                   Readers only ever look at `importId` and `state`.
    }

Who moves an import between the states: the importing process inserts the record (`pending`), writes
the entities, then commits with ONE update of this document, conditional on `importId` and `state`
still being its own (`commit_filter`). A retry with the same key takes over a pending record whose
owner is dead (`owner_is_dead`), with an update conditional on the importId and lease it read. The
sweeper removes pending records whose owner is dead, with a delete conditional on the same, and then
deletes every entity whose `pending` marker names no live or committed record. Every one of these is a
compare-and-set on one document, so two processes can never both win.
"""

import json
from collections.abc import Callable

JOURNAL_COLLECTION = "import_journal"

PENDING = "pending"
COMMITTED = "committed"

# Fields of the record that readers and writers rely on.
IMPORT_ID = "importId"
STATE = "state"
LEASE_UNTIL_MS = "leaseUntilMs"
OWNER = "owner"
OUTCOME = "outcome"
EVENTS = "events"
EVENTS_RELAYED = "eventsRelayed"
RELAY_DUE_MS = "relayDueMs"

# The field an entity document carries while its import is not known to be committed.
PENDING_MARKER = "pending"
# The version an overwriting import replaced, shown until that import commits.
PREVIOUS_VERSION = "previous"


def visible_version(document: dict, committed: Callable[[str], bool]) -> dict | None:
    """The version of an entity document a reader shows (without `previous`), or None: the top one when
    it was authored or its import is committed, else the previous version by the same rule."""
    version: dict | None = document
    while version is not None:
        import_id = version.get(IMPORT_ID)
        if import_id is None or committed(import_id):
            return {name: value for name, value in version.items() if name != PREVIOUS_VERSION} \
                if PREVIOUS_VERSION in version else version
        version = version.get(PREVIOUS_VERSION)
    return None


def import_ids_of(document: dict) -> list[str]:
    """Every import id a document's versions name: the top one's and the previous versions'."""
    ids = []
    version: dict | None = document
    while version is not None:
        if (import_id := version.get(IMPORT_ID)) is not None:
            ids.append(import_id)
        version = version.get(PREVIOUS_VERSION)
    return ids


def record_id(user_id: str, idempotency_key: str | None, import_id: str) -> str:
    """The journal record's id: one per user and key for a retry-safe import, else the import's own."""
    if idempotency_key is None:
        return import_id
    return json.dumps([user_id, idempotency_key])


def pending_record(*, record: str, import_id: str, owner: dict, now_ms: int, lease_ms: int,
                   entity_count: dict[str, int], user_id: str, key: str | None,
                   digest: str | None) -> dict:
    return {
        "_id": record, IMPORT_ID: import_id, STATE: PENDING, "userId": user_id, "key": key,
        "digest": digest, OWNER: owner, LEASE_UNTIL_MS: now_ms + lease_ms, "createdMs": now_ms,
        "entityCount": entity_count, OUTCOME: None, EVENTS: [],
    }


def commit_filter(record: str, import_id: str) -> dict:
    """Matches the record only while this attempt still owns it and has not been committed or removed."""
    return {"_id": record, IMPORT_ID: import_id, STATE: PENDING}


def commit_update(outcome: list[dict], events: list[dict], now_ms: int) -> dict:
    committed = {STATE: COMMITTED, OUTCOME: outcome, EVENTS: events, EVENTS_RELAYED: not events,
                 "committedMs": now_ms}
    if events:
        committed[RELAY_DUE_MS] = now_ms
    return {"$set": committed}


def owner_is_dead(record: dict, now_ms: int, host: str, process_alive: Callable[[int, object], bool]) -> bool:
    """A pending record's owner is dead when its lease ran out, or when it ran on this host and its
    process is gone (so a retry right after a crash need not wait for the lease)."""
    if record.get(STATE) != PENDING:
        return False
    if record.get(LEASE_UNTIL_MS, 0) < now_ms:
        return True
    owner = record.get(OWNER) or {}
    return owner.get("host") == host and not process_alive(owner.get("pid"), owner.get("started"))
