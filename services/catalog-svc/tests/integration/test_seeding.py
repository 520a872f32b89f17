"""`catalog-svc seed`: the demo set lets user demo export and import the real Optimize fixture, and seeding
twice changes nothing."""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from catalog_svc.api.rpc import rpc_handlers
from catalog_svc.bootstrap import wire
from catalog_svc.config import CatalogConfig
from catalog_svc.seeding import SeedInvalid, seed, seed_file

# The definition shared/fixtures/optimize/carbon-reductor-dashboard.json (a real Optimize export) reads.
NASA_FIXTURE_REF = {"type": "process", "key": "NasaImageProcessing", "versions": ["all"], "tenantIds": [None]}
DEMO = {"id": "demo", "groups": [], "superuser": True}


def run_seed(environ, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "catalog_svc.cli", "seed", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def wiring(environ):
    wired = wire(CatalogConfig.from_env(environ))
    yield wired
    wired.mongo.close()


def snapshot(wiring) -> dict:
    return {
        name: sorted(
            wiring.db[name].find({}, {"created": 0, "lastModified": 0, "revision": 0}),
            key=lambda d: str(d["_id"]),
        )
        for name in ("definitions", "collections", "authorizations")
    }


def test_the_demo_seed_is_idempotent_and_lets_demo_import_the_optimize_fixture(environ, wiring):
    first = run_seed(environ, "--demo")
    assert first.returncode == 0, first.stderr
    assert "3 definitions, 1 collections, 2 authorizations" in first.stdout
    before = snapshot(wiring)
    assert run_seed(environ, "--demo").returncode == 0
    assert snapshot(wiring) == before

    refs = [NASA_FIXTURE_REF]
    handlers = rpc_handlers(wiring)
    result = handlers["check_import"](
        {"user": DEMO, "collectionId": "demo-collection", "definitions": refs, "checkAuthorization": True},
        None,
    )
    assert result["collection"] == {
        "id": "demo-collection",
        "exists": True,
        "name": "Demo collection",
        "role": "manager",
    }
    [verdict] = result["definitions"]
    assert (verdict["exists"], verdict["authorized"], verdict["inScope"]) == (True, True, True)
    assert verdict["tenantsOutOfScope"] == [] and 'id="NasaImageProcessing-v2"' in verdict["xml"]
    export = handlers["check_export"](
        {
            "user": DEMO,
            "definitions": refs
            + [{"type": "decision", "key": "invoiceClassification", "versions": ["1"], "tenantIds": [None]}],
        },
        None,
    )
    assert [v["authorized"] for v in export["definitions"]] == [True, True]


def test_reseeding_keeps_what_changed_since_and_adds_what_is_missing(wiring):
    seed_file(wiring, None)
    collection = wiring.collections.get("demo-collection")
    wiring.collections.save(replace(collection, name="Renamed", scope=()))
    seed_file(wiring, None)
    reseeded = wiring.collections.get("demo-collection")
    assert reseeded.name == "Renamed"
    assert [e.id for e in reseeded.scope] == ["process:NasaImageProcessing", "decision:invoiceClassification"]


def test_a_seed_file_is_loaded_and_an_invalid_one_refused(environ, tmp_path, wiring):
    good = tmp_path / "seed.json"
    good.write_text(json.dumps({"definitions": [{"type": "process", "key": "k", "version": "1"}]}))
    assert run_seed(environ, str(good)).returncode == 0
    assert [d.key for d in wiring.definitions.listing()] == ["k"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"definitions": [{"type": "case", "key": "k", "version": "1"}]}))
    refused = run_seed(environ, str(bad))
    assert refused.returncode == 1 and "type" in refused.stderr
    with pytest.raises(SeedInvalid):
        seed(wiring, ["not", "an", "object"])
