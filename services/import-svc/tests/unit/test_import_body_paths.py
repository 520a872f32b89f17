"""A body read in memory and the same body spooled to a file and read entity by entity give the same
answer: property-based (hypothesis, derandomized: a fixed seed), over files mutated from a real export,
in their JSON and in their bytes (whitespace, brackets, quotes, escapes, encodings, long numbers, ...)."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.catalog_rpc import ImportCheck
from contracts.errors import ServiceError
from import_svc.domain.importing import Claim, Importer, ImportRequest, import_file
from import_svc.domain.importing.spooled_file import SpooledFile
from optimize_runtime.identity import Identity
from optimize_testing.fuzzing import JSON, mutated_anywhere
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT

FILES = 150
SAME_ANSWER = settings(derandomize=True, deadline=None, database=None, print_blob=True,
                       max_examples=FILES, suppress_health_check=list(HealthCheck))
DEMO = Identity("demo", superuser=True)

REAL_FILE = json.loads(REAL_OPTIMIZE_EXPORT.read_text())
# What breaks or bends JSON where it is inserted: structure, strings and escapes, whitespace, encodings.
BYTES = st.sampled_from([b"[", b"]", b"{", b"}", b",", b":", b'"', b"\\", b'\\"', b" ", b"\n\t", b"\x00",
                         b"\xff", b"\xef\xbb\xbf", b"\xed\xa0\x80", b"\\ud800", b"1234567890123456789",
                         b"-0", b"1e400", b"null", b'"x"', b"[]", b"{}", b"NaN"])


class EveryDefinition:
    """A catalog that knows every definition (with its XML) and lets the user see it."""

    def check_import(self, user, collection_id, definitions, *, check_authorization, with_variables=False,
                     meanwhile=None):
        if meanwhile is not None:
            meanwhile()
        checks = [{**ref.as_message(), "exists": True, "missingTenants": [], "missingVersions": [],
                   "existingVersions": list(ref.versions), "authorized": True, "forbiddenTenants": [],
                   "inScope": None, "tenantsOutOfScope": [], "xml": f"<{ref.key}/>", "variables": None}
                  for ref in definitions]
        return ImportCheck.from_result({"collection": None, "definitions": checks})


class RecordingStore:
    def __init__(self):
        self.documents = []

    def recorded_outcome(self, idempotency):
        return None

    def claim(self, import_id, owner, idempotency, entity_counts):
        return Claim(import_id, import_id, idempotency)

    def release(self, claim):
        pass

    def write(self, plan, outcome, idempotency, events=None, recheck=None, claim=None):
        recheck()
        self.documents += plan.documents
        return outcome

    def storage_problem(self, entity):
        return "too large" if len(json.dumps(entity)) > 50_000 else None


class Uncounted:
    def __getattr__(self, outcome):
        return lambda *details: None


def answer(body: bytes, spooled: bool, monkeypatch) -> tuple:
    """What the import answers (outcome and documents, or the refusal), with ids numbered in order."""
    ids = iter(range(10**6))
    store = RecordingStore()
    importer = Importer(EveryDefinition(), store, lambda event: None, max_entities=20, max_name_length=100,
                        counts=Uncounted(), clock=lambda: datetime(2026, 11, 30, tzinfo=UTC),
                        new_id=lambda: str(uuid.UUID(int=next(ids))))
    try:
        if not spooled:
            return "imported", importer.run(ImportRequest(DEMO), body), store.documents
        with SpooledFile() as file:
            file.write(body)
            return "imported", importer.run(ImportRequest(DEMO), file), store.documents
    except ServiceError as refusal:
        return "refused", refusal.status, refusal.body()


@st.composite
def json_mutated(draw) -> bytes:
    """The real export with values replaced, removed or added anywhere, entities repeated (identically
    or not), as one object or any JSON at all."""
    if draw(st.integers(0, 14)) == 0:
        return json.dumps(draw(JSON)).encode()
    file = mutated_anywhere(draw, REAL_FILE, st.integers(0, 3))
    if draw(st.booleans()):
        position = draw(st.integers(0, len(file) - 1))
        repeated = json.loads(json.dumps(file[position]))
        if draw(st.booleans()) and isinstance(repeated, dict):
            repeated["name"] = "Another name"
        file.insert(draw(st.integers(0, len(file))), repeated)
    if draw(st.integers(0, 9)) == 0:
        return json.dumps(file[0]).encode()
    separators = draw(st.sampled_from([(", ", ": "), (",", ":"), (" ,\n ", " :\t")]))
    return json.dumps(file, separators=separators, ensure_ascii=draw(st.booleans())).encode()


@st.composite
def import_bodies(draw) -> bytes:
    """A mutated file, then (sometimes) its bytes changed: inserted, cut, or in another encoding."""
    body = draw(json_mutated())
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(BYTES) + body[at + draw(st.sampled_from([0, 0, 1, 5])):]
    kind = draw(st.integers(0, 19))
    if kind == 0:
        body = body[:draw(st.integers(0, len(body)))]
    elif kind == 1:
        body = body.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass")
    elif kind == 2:
        body = b" \r\n" + body + b"\n"
    return body


def test_a_body_in_memory_and_spooled_gets_the_same_answer(monkeypatch):
    streamed = []
    layout = import_file.array_layout
    monkeypatch.setattr(import_file, "array_layout",
                        lambda *args: streamed.append(result := layout(*args)) or result)

    @SAME_ANSWER
    @given(body=import_bodies())
    def same_answer(body):
        assert answer(body, True, monkeypatch) == answer(body, False, monkeypatch)

    same_answer()
    read_entity_by_entity = sum(elements is not None for elements in streamed)
    print(f"{len(streamed)} spooled bodies, {read_entity_by_entity} read entity by entity")
    assert read_entity_by_entity >= len(streamed) // 3 > 0


@pytest.mark.parametrize("body", [
    b"[]", b" [ ] ", b"[1]", b"[[]]", b"[{}, {}]", b"[1,]", b"[,1]", b"[1 2]", b"[1]]", b"[1] x", b"[1}",
    b'["\\ud800"]', b'[12345678901234567890]', b'{"a": 1}', b'"[1]"', b"\xef\xbb\xbf[1]", b"", b" ",
    b'["a\\"]', b'["a\\\\"]', b"[\n1\n,\n2\n]", b"[1e400]",
])
def test_awkward_bodies_get_the_same_answer(body, monkeypatch):
    assert answer(body, True, monkeypatch) == answer(body, False, monkeypatch)


def real_file_with(**fields) -> bytes:
    """The real export, its first report's data configuration given these fields."""
    file = json.loads(json.dumps(REAL_FILE))
    file[0]["data"]["configuration"].update(fields)
    return json.dumps(file).encode()


@pytest.mark.parametrize("body", [
    real_file_with(precision=10**20), real_file_with(precision=2**64), real_file_with(precision=2**63 - 1),
    real_file_with(precision=-0.0),
    real_file_with(label="\ud800"), real_file_with(label="é \u00e9 \ud83d\ude00"),
])
def test_numbers_and_text_are_read_as_the_standard_library_reads_them(body, monkeypatch):
    assert answer(body, True, monkeypatch) == answer(body, False, monkeypatch)


def test_a_string_across_many_chunks_is_read_whole(monkeypatch):
    monkeypatch.setattr("import_svc.domain.importing.spooled_file._CHUNK_BYTES", 7)
    report = json.loads(json.dumps(REAL_FILE[0]))
    report["description"] = 'a "quoted" \\ text, [with] {brackets}' * 3
    body = json.dumps([report, *REAL_FILE[1:]]).encode()
    assert answer(body, True, monkeypatch) == answer(body, False, monkeypatch)
