"""The import's response: an outcome is written as it is, not dumped by ImportedEntitySchema, and must read
exactly as the schema's dump of it (same fields, same values, same order); what the schema would change
goes through it."""

import json
from itertools import product

import pytest
from flask import Flask

from import_svc.api.imports import ImportedEntitySchema, _listed
from import_svc.domain.importing.overwrite import CREATED, NEW_COPIES, OVERWRITE, UNCHANGED, UPDATED
from import_svc.domain.importing.plan import ImportPlan, PlannedEntity
from optimize_runtime.http.json_provider import FastJSONProvider

SCHEMA = ImportedEntitySchema(many=True)


@pytest.fixture
def app():
    app = Flask(__name__)
    app.json = FastJSONProvider(app)
    app.json.sort_keys = False  # as every service's app (optimize_runtime.http.app)
    with app.app_context():
        yield app


def planned(index: int, action: str, upgraded_from: int | None, warnings: tuple[str, ...]) -> PlannedEntity:
    return PlannedEntity(f"source-{index}", f"new-{index}", "report" if index % 2 else "dashboard", {},
                         upgraded_from, warnings, action)


VARIANTS = list(product([CREATED, UPDATED, UNCHANGED], [None, 9], [(), ("Version 2 was removed.",)]))


@pytest.mark.parametrize(("mode", "dry_run"), [(NEW_COPIES, False), (NEW_COPIES, True), (OVERWRITE, False),
                                               (OVERWRITE, True)])
def test_every_outcome_is_answered_as_the_schema_dumps_it(app, mode, dry_run):
    entities = [planned(index, *variant) for index, variant in enumerate(VARIANTS)]
    outcome = ImportPlan("import-1", "demo", None, entities, mode=mode).outcome(dry_run=dry_run)
    response = _listed(outcome)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_data() == app.json.response(SCHEMA.dump(outcome)).get_data()
    assert [list(item) for item in json.loads(response.get_data())] == [list(item) for item in
                                                                       SCHEMA.dump(outcome)]


def test_an_outcome_with_a_field_the_schema_does_not_list_goes_through_the_schema(app):
    outcome = [{"id": "new-1", "entityType": "report", "sourceId": "source-1", "internal": "x"}]
    assert _listed(outcome) is outcome  # flask-smorest dumps it with the schema, dropping `internal`
    assert SCHEMA.dump(outcome) == [{"id": "new-1", "entityType": "report", "sourceId": "source-1"}]
