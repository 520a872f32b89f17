"""The plain checks of an event pass only what EventSchema finds nothing wrong with, so that skipping the
schema never lets a broken event through; and the events the services make do pass them (the fast path is
taken)."""

import json

import pytest

from contracts.events import (
    COLLECTION_DELETED,
    ENTITY_CREATED,
    ENTITY_DELETED,
    ENTITY_EXPORTED,
    ENTITY_IMPORTED,
    ENTITY_UPDATED,
    EVENT_SCHEMA,
    EVENT_TYPES,
    IMPORT_REJECTED,
    _conforms,
    event_problems,
    new_event,
)

DETAILS = {
    ENTITY_IMPORTED: {"importId": "i1", "sourceIds": ["s1", "s2"]},
    ENTITY_UPDATED: {"importId": "i1", "sourceIds": ["s1", "s2"], "cause": "import.revoked",
                     "causeEventId": "12345678-1234-4234-8234-123456789abc"},
    ENTITY_CREATED: {"entityType": "report", "exportEntityType": "single_process_report", "name": "R"},
    ENTITY_DELETED: {"entityType": "dashboard", "exportEntityType": "dashboard", "name": None,
                     "cause": COLLECTION_DELETED, "causeEventId": "12345678-1234-4234-8234-123456789abc"},
    ENTITY_EXPORTED: {"entityType": "dashboard", "requested": ["d1"], "collectionIds": ["c1"]},
    IMPORT_REJECTED: {"errorCode": "importFileInvalid"},
    COLLECTION_DELETED: {"name": "Sales"},
}
ODD_VALUES = [None, "", "x", "report", 0, 1, 2, True, 1.5, [], ["a"], [1], [None], {}, {"a": 1},
              "12345678-1234-4234-8234-123456789abc", "12345678-1234-4234-8234-123456789ABC",
              "2026-11-30T01:02:03.456Z", "2026-13-30T01:02:03.456Z", "2026-11-30T01:02:03.456+02:00",
              "2026-11-30T01:02:03Z", COLLECTION_DELETED]


def _event(event_type: str) -> dict:
    return new_event(event_type, "demo", ["e1", "e2"], collection_id="c1", request_id="r1",
                     details=DETAILS[event_type])


def _mutations(event: dict):
    for key in [*event, "unexpected"]:
        for replacement in [*ODD_VALUES, KeyError]:
            copy = json.loads(json.dumps(event))
            if replacement is KeyError:
                copy.pop(key, None)
            else:
                copy[key] = replacement
            yield copy
    for key in [*event["details"], "more"]:
        for replacement in [*ODD_VALUES, KeyError]:
            copy = json.loads(json.dumps(event))
            if replacement is KeyError:
                copy["details"].pop(key, None)
            else:
                copy["details"][key] = replacement
            yield copy


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_passing_the_plain_checks_means_the_schema_finds_nothing(event_type):
    event = _event(event_type)
    assert _conforms(event) and event_problems(event) == {}
    refused = 0
    for mutated in _mutations(event):
        if _conforms(mutated):
            assert EVENT_SCHEMA.validate(mutated) == {}, mutated
        else:
            refused += 1
            assert event_problems(mutated) == EVENT_SCHEMA.validate(mutated)
    assert refused > 50  # the mutations do reach the checks


def test_every_type_the_contract_knows_has_its_plain_checks():
    assert set(DETAILS) == set(EVENT_TYPES)
