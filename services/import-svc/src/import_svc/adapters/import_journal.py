"""Writing an import plan so that it becomes visible whole or never, whatever kills the writer.

1. The journal record is inserted `pending` (for a retry-safe import its id is the user's key, so
   inserting it claims the key) with this process as owner and a lease it keeps renewing. The importer
   claims it while the catalog's verdict is on its way (`claim`, then `write` with that claim), so the two
   round trips overlap; a refused import removes its record (`release`) having written nothing else.
2. The entities are inserted carrying `importId` and a `pending` marker: invisible to every reader. An
   overwrite replaces the entities it updates by new versions with the same marker, each holding the
   version it replaces under `previous`: readers keep showing that one.
3. ONE update of the record, conditional on this attempt still owning it, commits the import: from
   then on every reader shows all of its entities.
4. The markers are cleared later, by one thread for every import the process committed meanwhile
   (`MarkerClearer`; only to keep the sweeper's index small: readers ask the record).

A process killed anywhere (also between the claim and the verdict) leaves a pending record whose owner is
dead, or no record, plus marked entities: readers never show them (an overwritten entity shows its
previous version), a retry with the same key takes the record over, and the sweeper removes the rest (and
puts previous versions back).
No multi-document transaction is involved, so this holds on the embedded server and
on MongoDB alike, for imports of any size the limits allow. The record's fields: `contracts.import_journal`.
"""

import functools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, InvalidOperation, PyMongoError

from contracts.errors import ErrorCode, ServiceError, service_unavailable
from contracts.import_journal import (
    COMMITTED,
    IMPORT_ID,
    JOURNAL_COLLECTION,
    LEASE_UNTIL_MS,
    PENDING,
    STATE,
    commit_filter,
    commit_update,
    owner_is_dead,
    pending_record,
    record_id,
)
from import_svc.adapters.entity_store import EntityStore
from import_svc.adapters.pause_points import PausePoints
from import_svc.domain.importing import Claim, EarlierCopy, Idempotency, ImportPlan
from optimize_runtime.store.write_gate import WriteGate

log = logging.getLogger(__name__)

_CLAIM_ATTEMPTS = 3


def now_ms() -> int:
    return int(time.time() * 1000)


def _process_started(pid: int) -> str | None:
    """When the process started (clock ticks since boot, from /proc), to tell a reused pid apart;
    None where /proc does not say."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    # after the command: state is field 3, starttime field 22 of proc(5)
    return None if fields[0] == b"Z" else fields[19].decode()


def process_alive(pid: object, started: object) -> bool:
    """Whether the process of a record's owner still runs on this host."""
    if not isinstance(pid, int):
        return False
    if os.path.isdir("/proc/self"):
        now_started = _process_started(pid)
        return now_started is not None and (started is None or now_started == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


HOST = socket.gethostname()


@functools.cache
def _owner(pid: int) -> dict:
    return {"host": HOST, "pid": pid, "started": _process_started(pid)}


def this_process() -> dict:
    """This process as the owner of a record: /proc is read once per process (a forked child has its
    own pid, so it is asked again)."""
    return dict(_owner(os.getpid()))


class _Lost(Exception):
    """This attempt no longer owns its record: taken over by a retry, or removed by the sweeper."""


def _store_down(error: PyMongoError) -> ServiceError:
    log.warning("the entity store failed during an import: %r", error)
    return service_unavailable("The entity store is not available; nothing was imported. Try again later.")


def _in_progress(key: str, retry_after_s: int) -> ServiceError:
    return ServiceError(ErrorCode.CONFLICT, f"An import with the Idempotency-Key '{key}' is in progress",
                        "Retry with the same Idempotency-Key when it has ended: you will get its result",
                        headers={"Retry-After": str(retry_after_s)})


@dataclass
class SweepResult:
    removed_records: list[str] = field(default_factory=list)
    deleted_entities: int = 0
    cleared_imports: list[str] = field(default_factory=list)


class ImportJournal:
    """The importer's AtomicImports: the journal records (commit records) and the entities they decide."""

    def __init__(self, db: Database, entities: EntityStore, gate: WriteGate, *, lease_s: float = 60.0,
                 marker_clear_delay_s: float = 0.2, pause: PausePoints | None = None) -> None:
        self._journal = db[JOURNAL_COLLECTION]
        self._entities = entities
        self._gate = gate
        self.lease_ms = int(lease_s * 1000)
        self._pause = pause or PausePoints()
        self._leases = _LeaseRenewer(self)
        self.markers = MarkerClearer(entities, delay_s=marker_clear_delay_s)
        # Runs after the entity writes, before the commit record; raising fails the import (tests use it).
        self.before_commit: Callable[[ImportPlan], None] | None = None

    def ensure_indexes(self) -> None:
        with self._gate.hold():
            self._journal.create_index([(IMPORT_ID, ASCENDING)], name=IMPORT_ID)
            self._journal.create_index([(STATE, ASCENDING)], name=STATE)

    # --- the importer's side -------------------------------------------------------------------

    def recorded_outcome(self, idempotency: Idempotency) -> list[dict] | None:
        try:
            record = self._journal.find_one({"_id": _key_record_id(idempotency)})
        except PyMongoError as error:
            raise _store_down(error) from error
        if record is None:
            return None
        if record[STATE] == COMMITTED:
            return _outcome_of(record, idempotency)
        if owner_is_dead(record, now_ms(), HOST, process_alive):
            return None  # the write takes it over
        _check_same_request(record, idempotency)
        raise _in_progress(idempotency.key, self._retry_after_s(record))

    def claim(self, import_id: str, owner: str, idempotency: Idempotency | None,
              entity_counts: dict[str, int]) -> Claim:
        """The record inserted pending (its lease renewed from now on until `write` or `release` ends)."""
        key = None if idempotency is None else idempotency.key
        record = record_id(owner if idempotency is None else idempotency.user_id, key, import_id)
        try:
            recorded = self._claim(record, import_id, owner, idempotency, entity_counts)
        except PyMongoError as error:
            raise _store_down(error) from error
        if recorded is None:
            self._leases.start(record, import_id)
        return Claim(import_id, record, idempotency, recorded)

    def release(self, claim: Claim) -> None:
        """Only the record: no entity was written under a claim released before `write`. Best effort: a
        record left here has a lease no longer renewed, and the sweeper removes it once that ran out."""
        self._leases.stop(claim.import_id)
        try:
            with self._gate.hold():
                self._journal.delete_one(commit_filter(claim.record, claim.import_id))
        except (PyMongoError, OSError) as error:
            log.warning("could not remove the record of refused import %s; the sweeper will: %r",
                        claim.import_id, error)

    def write(self, plan: ImportPlan, outcome: list[dict], idempotency: Idempotency | None,
              events: list[dict] | None = None, recheck: Callable[[], None] | None = None,
              claim: Claim | None = None) -> list[dict]:
        """`events`: recorded in the commit record by the same single-document write that commits (the
        place of the transactional outbox: they exist exactly when the import does). `recheck()`: called
        after the entities are written, just before the commit; raising abandons the import. `claim`: the
        plan's record as `claim` inserted it (else it is claimed here first)."""
        if claim is None:
            claim = self.claim(plan.import_id, plan.owner, idempotency, plan.written_counts())
        if claim.recorded is not None:
            return claim.recorded
        record = claim.record
        try:
            return self._write_claimed(record, plan, outcome, events or [], recheck)
        except _Lost:
            return self._after_losing(record, plan, idempotency)
        except PyMongoError as error:
            self._abandon(record, plan.import_id)
            raise _store_down(error) from error
        except BaseException:
            self._abandon(record, plan.import_id)
            raise
        finally:
            self._leases.stop(plan.import_id)

    def revoke(self, plan: ImportPlan, events: list[dict]) -> None:
        """Undoes a committed import: the entities it created are deleted, those it overwrote get their
        previous version back, `events` recorded with that. Its record stays committed (a replay of its
        Idempotency-Key answers the outcome, whose entities are gone or back as they were)."""
        try:
            self._entities.delete_import(plan.import_id, events)
        except PyMongoError as error:
            raise _store_down(error) from error

    def settle(self, plan: ImportPlan) -> None:
        """After a committed overwrite was verified: the versions it replaced are dropped. Best effort: one
        left behind is never shown (its import is committed) and goes with the entity's next change."""
        try:
            self._entities.settle(plan.import_id, plan.updated_ids_by_collection())
        except PyMongoError as error:
            log.warning("could not drop the versions committed import %s replaced: %r", plan.import_id, error)

    def storage_problem(self, entity: dict) -> str | None:
        return self._entities.storage_problem(entity)

    def earlier_copies(self, source_ids: list[str], collection_id: str | None,
                       owner: str) -> list[EarlierCopy]:
        """As the entity store finds them; when some are held by an overwrite that died, what it left is
        swept first (a retry right after a crash need not wait for the sweeper)."""
        try:
            copies = self._entities.earlier_copies(source_ids, collection_id, owner)
            if any(copy.being_overwritten for copy in copies) and self.sweep().deleted_entities:
                copies = self._entities.earlier_copies(source_ids, collection_id, owner)
            return copies
        except PyMongoError as error:
            raise _store_down(error) from error

    def _claim(self, record: str, import_id: str, owner: str, idempotency: Idempotency | None,
               entity_counts: dict[str, int]) -> list[dict] | None:
        """Inserts the pending record, or takes over the record of a dead attempt with the same key;
        the outcome instead when an attempt with this key committed meanwhile."""
        mine = pending_record(
            record=record, import_id=import_id, owner=this_process(), now_ms=now_ms(),
            lease_ms=self.lease_ms, entity_count=entity_counts,
            user_id=owner if idempotency is None else idempotency.user_id,
            key=None if idempotency is None else idempotency.key,
            digest=None if idempotency is None else idempotency.digest)
        for _ in range(_CLAIM_ATTEMPTS):
            try:
                with self._gate.hold():
                    self._journal.insert_one(mine)
            except DuplicateKeyError:
                pass
            else:
                self._pause("claimed")
                return None
            existing = self._journal.find_one({"_id": record})
            if existing is None:
                continue  # removed meanwhile (the dead attempt was swept): insert again
            if existing[STATE] == COMMITTED:
                return _outcome_of(existing, idempotency)
            if not owner_is_dead(existing, now_ms(), HOST, process_alive):
                _check_same_request(existing, idempotency)
                raise _in_progress(idempotency.key, self._retry_after_s(existing))
            taken = {"_id": record, IMPORT_ID: existing[IMPORT_ID], STATE: PENDING,
                     LEASE_UNTIL_MS: existing[LEASE_UNTIL_MS]}
            with self._gate.hold():
                taken_over = self._journal.replace_one(taken, mine).matched_count == 1
            if taken_over:
                log.warning("import %s takes over the Idempotency-Key of import %s, whose process died",
                            import_id, existing[IMPORT_ID])
                # The dead attempt's entities are unreachable now (no record names them); free them.
                self._entities.delete_pending([existing[IMPORT_ID]])
                self._pause("claimed")
                return None
        raise _in_progress(idempotency.key, 1)

    def _write_claimed(self, record: str, plan: ImportPlan, outcome: list[dict],
                       events: list[dict], recheck: Callable[[], None] | None) -> list[dict]:
        lease = self._leases.lease_of(plan.import_id)
        written = self._entities.insert_pending(
            plan.created, plan.import_id, after_batch=lambda name: self._pause("batch-written"),
            after_part=lambda name: self._pause("part-written"))
        overwritten = self._entities.overwrite_pending(
            plan.overwrites, plan.import_id, after_batch=lambda name: self._pause("batch-written"),
            after_part=lambda name: self._pause("part-written"))
        if self.before_commit is not None:
            self.before_commit(plan)
        self._pause("entities-written")
        if recheck is not None:
            recheck()  # raising abandons the import: nothing of it becomes visible
        if lease.lost:
            raise _Lost()
        commit = commit_update(outcome, events, now_ms())
        # Claimed with the file's entities by type: an overwrite leaves those unchanged unwritten.
        commit["$set"]["entityCount"] = plan.written_counts()
        with self._gate.hold():
            committed = self._journal.update_one(commit_filter(record, plan.import_id), commit).matched_count
        self._leases.stop(plan.import_id)
        if not committed:
            raise _Lost()
        self._entities.visibility.remember_committed(plan.import_id)
        self._pause("committed")
        self.markers.clear_later(plan.import_id, written, overwritten)
        return outcome

    def _after_losing(self, record: str, plan: ImportPlan, idempotency: Idempotency | None) -> list[dict]:
        """The record was taken over by a retry or removed by a sweeper (this process looked dead): what
        this attempt wrote goes, and a retry that committed meanwhile gives its outcome."""
        try:
            self._entities.delete_pending([plan.import_id])
            recorded = self._journal.find_one({"_id": record}) if idempotency is not None else None
        except PyMongoError as error:
            raise _store_down(error) from error
        if recorded is not None and recorded[STATE] == COMMITTED:
            return _outcome_of(recorded, idempotency)
        raise service_unavailable("The import was interrupted (its record was taken over or swept as "
                                  "dead); nothing of it is visible. Try again.")

    def _abandon(self, record: str, import_id: str) -> None:
        """After a failure: the record first (so nothing takes the attempt for alive), then the entities.
        Best effort: what a store failure leaves here, the sweeper removes."""
        try:
            with self._gate.hold():
                self._journal.delete_one(commit_filter(record, import_id))
            self._entities.delete_pending([import_id])
        except PyMongoError as error:
            log.warning("could not remove what failed import %s wrote; the sweeper will: %r",
                        import_id, error)

    def renew(self, record: str, import_id: str) -> bool:
        """Extends this attempt's lease; False when it no longer owns the record."""
        with self._gate.hold():
            renewed = self._journal.update_one(commit_filter(record, import_id),
                                               {"$set": {LEASE_UNTIL_MS: now_ms() + self.lease_ms}})
        return renewed.matched_count == 1

    def _retry_after_s(self, record: dict) -> int:
        return max(1, min(60, (record.get(LEASE_UNTIL_MS, 0) - now_ms()) // 1000 + 1))

    # --- the sweeper ---------------------------------------------------------------------------

    def sweep(self) -> SweepResult:
        """Removes what dead attempts left and clears the markers of committed imports. Idempotent, and
        safe while imports run and while other processes sweep: every removal is conditional on the
        record being as read (dead owner, same lease), and a marked entity is only deleted when no
        record names its import."""
        result = SweepResult()
        dead: list[str] = []
        for record in self._journal.find({STATE: PENDING}):
            if owner_is_dead(record, now_ms(), HOST, process_alive):
                gone = {"_id": record["_id"], IMPORT_ID: record[IMPORT_ID], STATE: PENDING,
                        LEASE_UNTIL_MS: record[LEASE_UNTIL_MS]}
                with self._gate.hold():
                    if self._journal.delete_one(gone).deleted_count:
                        dead.append(record[IMPORT_ID])
                        result.removed_records.append(record["_id"])
        # Read after the removals: a record is always inserted before its entities, so a marker that
        # no record names belongs to an attempt that was removed or taken over.
        marked = self._entities.pending_import_ids()
        states = {record[IMPORT_ID]: record[STATE] for record in self._journal.find(
            {IMPORT_ID: {"$in": list(marked)}}, {IMPORT_ID: True, STATE: True})} if marked else {}
        dead += [import_id for import_id in marked if import_id not in states]
        result.cleared_imports = [import_id for import_id in marked if states.get(import_id) == COMMITTED]
        if dead:
            result.deleted_entities = self._entities.delete_pending(dead)
        if result.cleared_imports:
            self._entities.clear_pending(result.cleared_imports)
        if dead or result.cleared_imports:
            log.info("swept imports: removed %d dead (%d entities), cleared %d committed",
                     len(set(dead)), result.deleted_entities, len(result.cleared_imports))
        return result


@dataclass
class _Lease:
    record: str
    import_id: str
    lost: bool = False


class _LeaseRenewer:
    """Renews the leases of every import this process is writing, from one thread for all of them (a long
    write must not look dead; a thread per import cost each import a thread start and join). It runs
    while imports are in flight and ends after a round that found none."""

    def __init__(self, journal: "ImportJournal") -> None:
        self._journal = journal
        self._lock = threading.Lock()
        self._leases: dict[str, _Lease] = {}
        self._thread: threading.Thread | None = None

    def start(self, record: str, import_id: str) -> None:
        """Renews the lease of this attempt from now until `stop`; its `lost` is set once a renewal found
        the record no longer this attempt's."""
        with self._lock:
            self._leases[import_id] = _Lease(record, import_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="import-leases", daemon=True)
                self._thread.start()

    def lease_of(self, import_id: str) -> _Lease:
        with self._lock:
            return self._leases[import_id]

    def stop(self, import_id: str) -> None:
        with self._lock:
            self._leases.pop(import_id, None)

    def _run(self) -> None:
        # A lease is renewed at most a third of a lease after it was taken or last renewed.
        interval_s = self._journal.lease_ms / 3000
        while True:
            time.sleep(interval_s)
            with self._lock:
                leases = list(self._leases.values())
                if not leases:
                    self._thread = None
                    return
            for lease in leases:
                try:
                    if not self._journal.renew(lease.record, lease.import_id):
                        lease.lost = True
                except PyMongoError as error:
                    log.warning("could not renew the lease of import %s: %r", lease.import_id, error)


class MarkerClearer:
    """Clears the pending markers of committed imports off the request path, many imports per command.

    The markers only keep the sweeper's index small: every reader asks the commit record, so a marker left
    on a committed import changes nothing anyone sees. A committed import is handed over here and its
    markers are cleared by one thread, after `delay_s` and together with those of every import committed
    meanwhile: one update per collection for all of them. A process killed before it cleared them leaves
    markers of committed imports, which the sweeper clears (`ImportJournal.sweep`). The thread waits
    `idle_s` for the next import before it ends: imports coming one at a time do not each start one (a
    thread start on the request path)."""

    def __init__(self, entities: EntityStore, delay_s: float, idle_s: float = 30.0) -> None:
        self._entities = entities
        self._delay_s = delay_s
        self._idle_s = idle_s
        self._lock = threading.Lock()
        self._handed_over = threading.Condition(self._lock)
        self._import_ids: list[str] = []
        self._ids: dict[str, list[str]] = {}  # by collection
        self._thread: threading.Thread | None = None

    def clear_later(self, import_id: str, *ids_by_collection: Mapping[str, list[str]]) -> None:
        """The entities of a committed import (ids by collection, as the entity store wrote them)."""
        with self._lock:
            self._import_ids.append(import_id)
            for written in ids_by_collection:
                for name, ids in written.items():
                    self._ids.setdefault(name, []).extend(ids)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="import-markers", daemon=True)
                self._thread.start()
            else:
                self._handed_over.notify()

    def flush(self) -> None:
        """Clears what was handed over so far, now (tests; a store failure is logged: the sweeper clears
        those later)."""
        with self._lock:
            import_ids, ids, self._import_ids, self._ids = self._import_ids, self._ids, [], {}
        if not import_ids:
            return
        try:
            # The versions an overwrite replaced stay (`settle` drops them): a revoke right after the
            # commit puts them back. Only the marker goes, and only from entities still marked by one of
            # these imports (a later import may have marked one since).
            self._entities.clear_pending(import_ids, ids, keep_previous=True)
        except (PyMongoError, OSError) as error:  # the store, or the write gate's lock file, unreachable
            log.warning("could not clear the pending markers of %d committed imports; the sweeper will: %r",
                        len(import_ids), error)

    def _run(self) -> None:
        try:
            while True:
                time.sleep(self._delay_s)
                self.flush()
                with self._lock:
                    # Checked and given up under one lock: none is left behind.
                    if not self._import_ids and not self._handed_over.wait(self._idle_s) \
                            and not self._import_ids:
                        self._thread = None
                        return
        except BaseException:  # flush failed unexpectedly: the next committed import starts a thread again
            with self._lock:
                self._thread = None
            raise


class Sweeper:
    """Runs the journal's sweep now and then every `interval_s`, in a daemon thread of this process."""

    def __init__(self, journal: ImportJournal, interval_s: float) -> None:
        self._journal = journal
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="import-sweeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self._journal.sweep()
            except InvalidOperation:  # the client was closed: this process (or test app) is ending
                return
            except PyMongoError as error:
                log.warning("the import sweep failed; it runs again in %.0f s: %r", self._interval_s, error)


def _key_record_id(idempotency: Idempotency) -> str:
    return record_id(idempotency.user_id, idempotency.key, "")


def _check_same_request(record: dict, idempotency: Idempotency | None) -> None:
    if idempotency is not None and record.get("digest") != idempotency.digest:
        raise ServiceError(
            ErrorCode.CONFLICT,
            f"The Idempotency-Key '{idempotency.key}' was already used for another import",
            "Send a new Idempotency-Key for a different file or collection",
            importId=record[IMPORT_ID])


def _outcome_of(record: dict, idempotency: Idempotency) -> list[dict]:
    _check_same_request(record, idempotency)
    return record["outcome"]
