"""The plain-Python conformance checks say True only where the marshmallow schema finds nothing, so that
skipping the schema never hides a problem; and they do say True for ordinary entities (the fast path is
taken), Optimize's own export among them."""

import json

import pytest

from contracts.export_file import read_export_file
from contracts.export_file.conformance import conforms_to_current, conforms_to_envelope
from contracts.export_file.schemas import CURRENT_SCHEMAS, EntityEnvelopeSchema
from optimize_testing.fuzzing import mutated_everywhere
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT

ODD_VALUES = [None, "", "x", 0, -1, 7, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**40, True, False, 1.5,
              [], {}, [None], ["a"], [1], [{}], {"a": 1}, {"external": 1}, {"text": None}, {"text": "x"}]

DEFINITION = {"identifier": "d", "key": "invoice", "name": None, "displayName": None, "versions": ["1"],
              "tenantIds": [None]}


def _report(entity_type: str = "single_process_report", version: int = 11) -> dict:
    return {"id": "r1", "exportEntityType": entity_type, "name": "Report", "description": None,
            "sourceIndexVersion": version, "collectionId": None,
            "data": {"definitions": [dict(DEFINITION)], "configuration": {"xml": None}, "filter": [{}],
                     "view": {}, "groupBy": {}, "distributedBy": None, "visualization": "number",
                     "managementReport": False, "instantPreviewReport": False}}


def _combined() -> dict:
    return {"id": "c1", "exportEntityType": "combined_report", "name": "C", "description": "d",
            "sourceIndexVersion": 5, "collectionId": "col",
            "data": {"reports": [{"id": "r1", "color": "#fff"}], "configuration": {}, "visualization": "bar"}}


def _dashboard() -> dict:
    tile = {"position": {"x": 0, "y": 1}, "dimensions": {"width": 4, "height": 2}}
    return {"id": "d1", "exportEntityType": "dashboard", "name": "D", "description": None,
            "sourceIndexVersion": 8, "collectionId": None, "availableFilters": [{}],
            "refreshRateSeconds": None, "managementDashboard": False, "instantPreviewDashboard": False,
            "tiles": [{"id": "r1", "type": "optimize_report", **tile, "configuration": None},
                      {"id": "", "type": "external_url", **tile, "configuration": {"external": "http://x"}},
                      {"id": "", "type": "text", **tile, "configuration": {"text": {"root": {}}}}]}


def _mutations(entity: dict):
    """The entity with one value replaced by each odd value, or with one key removed, everywhere."""
    return mutated_everywhere(entity, ODD_VALUES, remove_items=False)


@pytest.mark.parametrize("entity", [_report(), _report("single_decision_report", 10), _combined(),
                                    _dashboard()],
                         ids=["process report", "decision report", "combined report", "dashboard"])
def test_conforming_means_the_schemas_find_nothing(entity: dict) -> None:
    current_schema = CURRENT_SCHEMAS[entity["exportEntityType"]]()
    envelope_schema = EntityEnvelopeSchema()
    assert conforms_to_current(entity) and conforms_to_envelope(entity)
    refused = 0
    for mutated in _mutations(entity):
        if conforms_to_current(mutated):
            assert current_schema.validate(mutated) == {}, mutated
        else:
            refused += 1
        if conforms_to_envelope(mutated):
            assert envelope_schema.validate(mutated) == {}, mutated
    assert refused > 50  # the mutations do reach the checks


def test_optimizes_own_export_takes_the_fast_path() -> None:
    entities = read_export_file(json.loads(REAL_OPTIMIZE_EXPORT.read_text())).entities
    assert entities and all(conforms_to_current(entity) for entity in entities)
