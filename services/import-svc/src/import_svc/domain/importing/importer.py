"""An import from start to end: read the file, ask the catalog once, refuse with every reason or write
every entity so that it becomes visible whole (one commit record) or never, and tell other services what
happened.

The import's journal record is claimed (inserted pending) while the catalog's answer is on its way: the
request is sent, the record inserted, then the answer awaited, so that the two round trips overlap. A
pending record shows nothing to anyone (readers ask for committed records); a refusal, whatever its reason,
removes the record it claimed and writes nothing else; what the claim met (a retry in progress, the
store down) is said after the verdict, as when the claim came after it. A dry run claims nothing."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from contracts.catalog_rpc import DefinitionRef, ImportCheck
from contracts.entities import EDIT_ROLES, ENTITY_TYPE_OF
from contracts.entity_ids import new_entity_id
from contracts.errors import ErrorCode, ServiceError, not_found
from contracts.events import ENTITY_DELETED, ENTITY_IMPORTED, ENTITY_UPDATED, IMPORT_REJECTED, new_event
from contracts.export_file import read_export_file
from contracts.export_file.json_path import json_path
from contracts.json_limits import MAX_ARRAY_LENGTH
from import_svc.domain.importing.dashboard_variables import needs_variables, unknown_variable_filter_errors
from import_svc.domain.importing.entity_outline import entity_outline
from import_svc.domain.importing.entity_rules import (
    description_problems,
    instant_preview_problem,
    management_report_problem,
    name_problem,
)
from import_svc.domain.importing.import_file import ImportBody, body_digest, import_file_entities
from import_svc.domain.importing.overwrite import (
    CREATED,
    NEW_COPIES,
    OVERWRITE,
    UPDATED,
    EarlierCopy,
    kept_copies,
    modified_conflict,
)
from import_svc.domain.importing.plan import ImportPlan, plan_import
from import_svc.domain.importing.prerequisites import (
    CatalogVerdict,
    distinct_references,
    prerequisite_problems,
)
from import_svc.domain.importing.refusal import (
    ImportProblem,
    ImportRefused,
    file_invalid,
    index_version_mismatch,
)
from import_svc.domain.importing.spooled_file import SpooledEntities
from optimize_runtime.identity import Identity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportRequest:
    identity: Identity
    collection_id: str | None = None
    dry_run: bool = False
    idempotency_key: str | None = None
    request_id: str | None = None
    # newCopies (Optimize's way: every entity a new copy) or overwrite (update what an earlier import of
    # the same entities made here); overwriting copies users changed since needs overwrite_modified.
    mode: str = NEW_COPIES
    overwrite_modified: bool = False


@dataclass(frozen=True)
class Idempotency:
    """A retry-safe import: the same user sending the same key gets the first result."""

    user_id: str
    key: str
    digest: str  # of the request, so that a key reused for another file is noticed


class Catalog(Protocol):
    def check_import(self, user: Identity, collection_id: str | None, definitions: list[DefinitionRef], *,
                     check_authorization: bool, with_variables: bool = False,
                     meanwhile: Callable[[], None] | None = None) -> ImportCheck:
        """The catalog's verdict on every reference, the collection and the user, in one call (with each
        definition's recorded variables when `with_variables`). `meanwhile()` runs once the question is
        sent, while the answer is on its way (not when the question could not be sent)."""


@dataclass
class Claim:
    """An import's journal record, inserted pending before its entities are written: `record` is its id.
    `recorded`: instead, the outcome of an attempt with the same Idempotency-Key that committed meanwhile."""

    import_id: str
    record: str
    idempotency: "Idempotency | None" = None
    recorded: list[dict] | None = None


class AtomicImports(Protocol):
    """Where an import is written all or nothing and its outcome remembered under its Idempotency-Key (the
    import journal, `adapters/import_journal.py`)."""

    def recorded_outcome(self, idempotency: Idempotency) -> list[dict] | None:
        """The outcome of the import first made with this key, or None; refuses a key reused for
        another request."""

    def claim(self, import_id: str, owner: str, idempotency: Idempotency | None,
              entity_counts: dict[str, int]) -> Claim:
        """Inserts the import's journal record, pending (no reader shows anything of a pending import), or
        takes over the record of a dead attempt with the same key. When an attempt with the key committed
        meanwhile, the claim holds its outcome instead; while one is still in progress, a 409 conflict."""

    def release(self, claim: Claim) -> None:
        """Removes the record of a claim whose import wrote nothing (refused, or failed before its writes);
        what cannot be removed now the sweeper removes once the claim's lease ran out."""

    def write(self, plan: ImportPlan, outcome: list[dict], idempotency: Idempotency | None,
              events: list[dict] | None = None, recheck: Callable[[], None] | None = None,
              claim: Claim | None = None) -> list[dict]:
        """Writes every document, visible to readers all at once or never (a killed write leaves nothing
        visible; an overwritten entity shows its previous version until then): invisible first, then
        `recheck()` (raising refuses the import and removes what it wrote), then one commit that also
        records `events`. `claim`: the plan's record, claimed already (else it is claimed first). Returns
        `outcome` itself; when the key was recorded meanwhile, writes nothing and returns the recorded
        outcome; when an import with the key is still in progress, a 409 conflict."""

    def earlier_copies(self, source_ids: list[str], collection_id: str | None,
                       owner: str) -> list[EarlierCopy]:
        """The visible entities earlier imports made from these source ids in the collection (or, for
        None, among the owner's private entities)."""

    def revoke(self, plan: ImportPlan, events: list[dict]) -> None:
        """Undoes a committed import (the entities it created deleted, those it overwrote back to their
        previous version) and records `events` with that."""

    def settle(self, plan: ImportPlan) -> None:
        """After an overwrite is committed and verified: the versions it replaced are dropped."""

    def storage_problem(self, entity: dict) -> str | None:
        """Why the store could not hold this entity as one document (too large, say), or None."""


class ImportCounts(Protocol):
    """What the importer reports for the service's metrics, once per import request."""

    def imported(self, outcome: list[dict]) -> None: ...
    def replayed(self) -> None: ...
    def dry_run(self) -> None: ...
    def refused(self, error: ServiceError) -> None: ...
    def failed(self) -> None: ...


class Importer:
    def __init__(self, catalog: Catalog, store: AtomicImports, publish: Callable[[dict], None], *,
                 max_entities: int, max_name_length: int, counts: ImportCounts,
                 platform: str = "c7",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 new_id: Callable[[], str] = new_entity_id) -> None:
        self.catalog = catalog
        self.store = store
        self.publish = publish
        self.max_entities = max_entities
        self.max_name_length = max_name_length
        self.counts = counts
        self.platform = platform
        self.clock = clock
        self.new_id = new_id

    def run(self, request: ImportRequest, body: ImportBody,
            retain: Callable[[object], None] | None = None) -> list[dict]:
        """The outcome in file order: `[{id, entityType, sourceId, upgradedFrom?, warnings?}]`. A body
        given as a bytearray is emptied once it is parsed. `retain`: given the import's plan (with the
        documents of its entities) once it is made, so that the caller chooses when they are freed (the
        HTTP view: once the answer is sent; freeing 1,000 documents takes some milliseconds)."""
        try:
            return self._run(request, body, retain)
        except ServiceError as error:
            self.counts.refused(error)
            raise
        except Exception:
            self.counts.failed()
            raise

    def _run(self, request: ImportRequest, body: ImportBody,
             retain: Callable[[object], None] | None) -> list[dict]:
        idempotency = self._idempotency(request, body)
        if idempotency is not None:
            recorded = self.store.recorded_outcome(idempotency)
            if recorded is not None:
                self.counts.replayed()
                return recorded
        claiming = None if request.dry_run else _Claiming(self.store, request.identity.user_id, idempotency,
                                                          self.new_id())
        try:
            plan = self.plan(request, body, claiming)
            if retain is not None:
                retain(plan)
            claim = None if claiming is None else claiming.result(plan)
        except BaseException as failure:
            if claiming is not None:
                claiming.release()
            if isinstance(failure, ServiceError):
                self.announce_rejection(request, failure)
            raise
        if claim is None:
            self.counts.dry_run()
            return plan.outcome(dry_run=True)
        if claim.recorded is not None:  # an attempt with the key committed meanwhile: its result is ours
            self.counts.replayed()
            return claim.recorded
        planned = plan.outcome()
        # The events are recorded by the import's commit record itself, and relayed from there.
        events = self._events_of(request, plan)
        try:
            outcome = self.store.write(plan, planned, idempotency, events=events,
                                       recheck=lambda: self.recheck(request, plan), claim=claim)
        except ServiceError as refusal:
            self.announce_rejection(request, refusal)
            raise
        if outcome is planned:  # not the recorded outcome of an earlier attempt with the key
            self._verify_committed(request, plan, events)
            if plan.ids_of(UPDATED):
                self.store.settle(plan)
            self.counts.imported(outcome)
        else:  # a concurrent retry with the same key committed first: its result is ours
            self.counts.replayed()
        return outcome

    def _events_of(self, request: ImportRequest, plan: ImportPlan) -> list[dict]:
        """entity.imported for the created entities, entity.updated for the overwritten ones."""
        events = []
        for event_type, action in ((ENTITY_IMPORTED, CREATED), (ENTITY_UPDATED, UPDATED)):
            entities = [entity for entity in plan.entities if entity.action == action]
            if entities:
                events.append(self._event(request, event_type, [entity.id for entity in entities], {
                    "importId": plan.import_id, "sourceIds": [entity.source_id for entity in entities]}))
        return events

    def announce_rejection(self, request: ImportRequest, refusal: ServiceError) -> None:
        """`import.rejected` for a refusal of the import itself (not for a dry run, nor when a store or
        the catalog was down: then nothing was decided)."""
        if refusal.code != ErrorCode.SERVICE_UNAVAILABLE and not request.dry_run:
            self._announce(request, IMPORT_REJECTED, [], {"errorCode": refusal.code.value})

    def plan(self, request: ImportRequest, body: ImportBody,
             claiming: "_Claiming | None" = None) -> ImportPlan:
        """What the import would write; raises ImportRefused naming every problem, or the error that
        stops the import before its checks (collection unknown or not editable, limits). `claiming`: claims
        the import's record while the catalog's answer is on its way (the caller releases it on a refusal).

        The entities are read twice, one at a time for a spooled file: once to check them (keeping only
        their outlines), once to write them (`ImportPlan.build`)."""
        source = import_file_entities(body, max_entities=self.max_entities, check_arrays=False)
        # The arrays of a file parsed whole are checked by the walk that checks each entity's structure.
        longest = MAX_ARRAY_LENGTH if isinstance(source, list) else None
        storage_problems: dict[str, str] = {}

        def outline(entity: dict) -> dict:
            problem = self.store.storage_problem(entity)  # the only check that needs the whole entity
            if problem is not None:
                storage_problems[entity["id"]] = problem
            return entity_outline(entity)

        reading = read_export_file(source, self.platform, keep=outline, max_array_length=longest)
        meanwhile = None if claiming is None else lambda: claiming.claim(entity_counts(reading.entities))
        verdict = self._ask_catalog(request, reading.entities, meanwhile)

        positions = {entity["id"]: (position,) for entity, position in zip(reading.entities,
                                                                             reading.positions, strict=True)}
        validation_errors = list(reading.validation_errors)
        validation_errors += [{"entityId": entity["id"], "path": json_path(positions[entity["id"]]),
                               "message": storage_problems[entity["id"]]}
                              for entity in reading.entities if entity["id"] in storage_problems]
        validation_errors += unknown_variable_filter_errors(reading.entities, verdict, positions)
        problems: list[ImportProblem | None] = []
        if validation_errors:
            problems.append(file_invalid(validation_errors))
        problems.append(management_report_problem(reading.entities))
        if request.identity.public_api:
            problems.append(instant_preview_problem(reading.entities))
        if reading.mismatching_indices:
            problems.append(index_version_mismatch(reading.mismatching_indices))
        problems += prerequisite_problems(reading.entities, verdict)
        problems.append(name_problem(reading.entities, self.max_name_length))
        problems += description_problems(reading.entities)
        problems = [problem for problem in problems if problem is not None]
        if problems:
            raise ImportRefused(problems)

        owner = request.identity.user_id
        kept = {}
        if request.mode == OVERWRITE:
            copies = self.store.earlier_copies([entity["id"] for entity in reading.entities],
                                               request.collection_id, owner)
            kept = kept_copies(reading.entities, copies)
        plan = plan_import(reading.entities, reading.upgraded_entities, verdict, owner=owner,
                           import_id=None if claiming is None else claiming.import_id,
                           collection_id=request.collection_id, now=self.clock(),
                           upgraded_from=reading.upgraded_from, reading_warnings=reading.warnings,
                           mode=request.mode, kept=kept,
                           hold_documents=not isinstance(source, SpooledEntities), new_id=self.new_id)
        changed = [(entity.source_id, entity.replaces) for entity in plan.entities
                   if entity.action == UPDATED and kept[entity.source_id].modified_since_import]
        if changed and not request.overwrite_modified:
            raise ImportRefused([modified_conflict(changed)])
        return plan

    def _ask_catalog(self, request: ImportRequest, entities: list[dict],
                     meanwhile: Callable[[], None] | None = None) -> CatalogVerdict:
        if not entities and request.collection_id is None:
            return CatalogVerdict()
        identity = request.identity
        verdict = CatalogVerdict.of(self.catalog.check_import(
            identity, request.collection_id, distinct_references(entities),
            check_authorization=not identity.public_api, with_variables=needs_variables(entities),
            meanwhile=meanwhile))
        if request.collection_id is not None:
            collection = verdict.collection
            if collection is None or not collection.exists:
                raise not_found("Collection", request.collection_id)
            if not identity.public_api and collection.role not in EDIT_ROLES:
                raise ServiceError(
                    ErrorCode.FORBIDDEN,
                    f"User '{identity.user_id}' may not import into collection '{collection.name}'",
                    "Importing into a collection needs the editor or manager role in it",
                    collectionId=request.collection_id)
        return verdict

    def _idempotency(self, request: ImportRequest, body: ImportBody) -> Idempotency | None:
        if request.idempotency_key is None or request.dry_run:
            return None
        how = f"{request.collection_id}\n"
        if request.mode != NEW_COPIES:  # a key reused with another mode is another request
            how += f"{request.mode} {request.overwrite_modified}\n"
        return Idempotency(request.identity.user_id, request.idempotency_key, body_digest(how.encode(), body))

    def recheck(self, request: ImportRequest, plan: ImportPlan) -> None:
        """Just before the commit, for an import into a collection: is the collection still there, does
        the user still have an editing role in it, does its scope still cover every definition? The
        catalog is asked again (one more RPC, whatever the number of entities); what changed since the
        plan refuses the import, and nothing of it becomes visible."""
        if request.collection_id is None:
            return
        entities = [entity.outline for entity in plan.entities]
        problems = prerequisite_problems(entities, self._ask_catalog(request, entities))
        if problems:
            raise ImportRefused(problems)

    def _verify_committed(self, request: ImportRequest, plan: ImportPlan, events: list[dict]) -> None:
        """Right after the commit, for an import into a collection: the catalog is asked once more, and a
        change made before the commit that the re-check could not see (the collection deleted, its scope
        narrowed, the user demoted, between the re-check and the commit record) undoes the import: the
        entities it created are deleted with `entity.deleted`, those it overwrote get their previous
        version back with `entity.updated`, and the refusal is answered. A change after this answer came
        after the commit, like any later change. A catalog that does not answer now leaves the import
        (logged): nothing was decided."""
        if request.collection_id is None:
            return
        try:
            self.recheck(request, plan)
        except ServiceError as refusal:
            if refusal.code == ErrorCode.SERVICE_UNAVAILABLE:
                log.warning("import %s into %s could not be verified after its commit: %s", plan.import_id,
                            request.collection_id, refusal)
                return
            undone = {ENTITY_IMPORTED: ENTITY_DELETED, ENTITY_UPDATED: ENTITY_UPDATED}
            self.store.revoke(plan, [self._event(request, undone[event["type"]], event["entityIds"], {
                "cause": "import.revoked", "causeEventId": event["eventId"]}) for event in events])
            self.announce_rejection(request, refusal)
            raise

    def _announce(self, request: ImportRequest, event_type: str, entity_ids: list[str],
                  details: dict) -> None:
        self.publish(self._event(request, event_type, entity_ids, details))

    @staticmethod
    def _event(request: ImportRequest, event_type: str, entity_ids: list[str], details: dict) -> dict:
        return new_event(event_type, request.identity.user_id, entity_ids,
                         collection_id=request.collection_id, request_id=request.request_id,
                         details=details)


def entity_counts(outlines: list[dict]) -> dict[str, int]:
    """How many entities of each entityType a file holds."""
    counts: dict[str, int] = {}
    for outline in outlines:
        entity_type = ENTITY_TYPE_OF[outline["exportEntityType"]]
        counts[entity_type] = counts.get(entity_type, 0) + 1
    return counts


class _Claiming:
    """The claim of one import's journal record, made while the catalog's answer is on its way. What the
    claim met (a retry in progress, the store down) is kept and raised once the plan is made, so that a
    refusal of the file or the catalog's failure is answered first, as when the claim came after them."""

    def __init__(self, store: AtomicImports, owner: str, idempotency: Idempotency | None,
                 import_id: str) -> None:
        self.store = store
        self.owner = owner
        self.idempotency = idempotency
        self.import_id = import_id
        self.claimed: Claim | None = None
        self.failure: ServiceError | None = None

    def claim(self, counts: dict[str, int]) -> None:
        try:
            self.claimed = self.store.claim(self.import_id, self.owner, self.idempotency, counts)
        except ServiceError as failure:
            self.failure = failure

    def result(self, plan: ImportPlan) -> Claim:
        """The claim, made now when the catalog was not asked (an empty private file)."""
        if self.claimed is None and self.failure is None:
            self.claim(plan.written_counts())
        if self.failure is not None:
            raise self.failure
        return self.claimed

    def release(self) -> None:
        """After a refusal or failure before the writes: the record goes (not a recorded outcome's)."""
        claimed, self.claimed = self.claimed, None
        if claimed is not None and claimed.recorded is None:
            self.store.release(claimed)
