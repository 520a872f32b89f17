"""optimize-transfer as a person or a script runs it, against two installations side by side over HTTP:
copy the real Optimize file's dashboard from A to B, then fail with exit 2 when B lacks its definition.
The copy test runs two installations as `make run` does (gunicorn, the catalog worker, the gateway, the
demo seed, each its own processes); the others serve the apps over HTTP in the test process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from optimize_client import OptimizeClient
from optimize_runtime.identity import issue_token
from optimize_runtime.infra.local_run import LocalInstallation
from optimize_runtime.infra.ports import free_port, port_answers
from optimize_testing.pytest_plugin import (
    REAL_OPTIMIZE_EXPORT,
    TEST_JWT_SECRET,
    isolated_names,
    service_environ,
)

CLI = str(Path(sys.executable).parent / "optimize-transfer")
NASA = "NasaImageProcessing"


def transfer(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OPTIMIZE_")}
    environ.update(env or {})
    return subprocess.run([CLI, *args], env=environ, capture_output=True, text=True, timeout=120)


def deploy_nasa(client: OptimizeClient) -> None:
    client.register_definitions([{"type": "process", "key": NASA, "name": NASA, "version": "1",
                                  "tenantId": None}])
    client.grant_authorizations([{"identity": {"id": "demo", "type": "user"}, "definitionType": "process",
                                  "definitionKey": "*", "tenants": [None]}])


def nasa_collection(client: OptimizeClient, name: str) -> str:
    collection_id = client.create_collection(name)["id"]
    client.add_scope(collection_id, [{"definitionType": "process", "definitionKey": NASA, "tenants": [None]}])
    return collection_id


@pytest.fixture
def a_with_the_dashboard(served_pair):
    """A holds the real Optimize file (imported privately); B has the definition and a collection."""
    a, b = served_pair
    source = OptimizeClient(a.url, token=a.token())
    deploy_nasa(source)
    dashboard_id = source.import_file(REAL_OPTIMIZE_EXPORT.read_bytes())[-1].id
    target = OptimizeClient(b.url, token=b.token())
    deploy_nasa(target)
    return a, b, dashboard_id, target, nasa_collection(target, "Mars")


def four_free_ports() -> int:
    for _ in range(50):
        base = free_port()
        if base < 65532 and not any(port_answers("127.0.0.1", base + offset) for offset in range(1, 4)):
            return base
    raise AssertionError("no four free ports in a row")


def make_run_like(servers, label: str, home: Path) -> LocalInstallation:
    """An installation as `make run` starts it, on the test servers with its own names and free ports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTIMIZE_")}
    env.update(service_environ(servers, isolated_names(label)))
    operations = four_free_ports()  # make run gives its workers, relays and consumer base + 0 to 3
    free = (port for port in iter(free_port, None) if not operations <= port < operations + 4)
    env.update({variable: str(next(free)) for variable in (
        "OPTIMIZE_CATALOG_PORT", "OPTIMIZE_EXPORT_PORT", "OPTIMIZE_IMPORT_PORT", "OPTIMIZE_GATEWAY_PORT")})
    env["OPTIMIZE_OPERATIONS_PORT"] = str(operations)
    env.update(OPTIMIZE_HTTP_WORKERS="1", OPTIMIZE_HTTP_THREADS="4", OPTIMIZE_GRACEFUL_TIMEOUT_S="2",
               HOME=str(home))
    return LocalInstallation(env)


@pytest.fixture
def two_local_runs(servers, tmp_path):
    """Installations A and B as two `make run`s, each with the demo seed (NasaImageProcessing, the
    collection demo-collection, demo its manager)."""
    runs = [make_run_like(servers, label, tmp_path / label) for label in ("ra", "rb")]
    try:
        for run in runs:
            run.start()
        assert all(run.wait_ready(90) for run in runs), "an installation did not become ready in 90 s"
        yield runs
    finally:
        for run in runs:
            run.stop()


def test_copy_moves_the_dashboard_with_progress_then_exits_2_naming_a_missing_definition(two_local_runs):
    a, b = (run.urls()["gateway"] for run in two_local_runs)
    token = issue_token(TEST_JWT_SECRET, "demo")
    dashboard_id = OptimizeClient(a, token=token).import_file(
        REAL_OPTIMIZE_EXPORT.read_bytes(), collection_id="demo-collection")[-1].id
    target = OptimizeClient(b, token=token)
    env = {"OPTIMIZE_FROM_URL": a, "OPTIMIZE_FROM_TOKEN": token,
           "OPTIMIZE_TO_URL": b, "OPTIMIZE_TO_TOKEN": token}

    copied = transfer("copy", "--dashboard", dashboard_id, "--into", "demo-collection", env=env)

    assert copied.returncode == 0, copied.stderr + copied.stdout
    for step in ("Exporting", "Dry run of the import into collection demo-collection",
                 "Importing into collection demo-collection"):
        assert f"{step} ..." in copied.stderr and f"{step}: done in" in copied.stderr, copied.stderr
    assert "Copied to" in copied.stdout
    listed = target.entities("demo-collection")
    assert sorted(entity["entityType"] for entity in listed) == ["dashboard"] + ["report"] * 6
    assert "Mars Image Processing" in {entity["name"] for entity in listed}

    target.delete_definition("process", NASA)
    refused = transfer("copy", "--dashboard", dashboard_id, "--into", "demo-collection", env=env)

    assert refused.returncode == 2, refused.stderr + refused.stdout
    assert "importDefinitionDoesNotExist" in refused.stderr
    assert f"process definition {NASA}" in refused.stdout, refused.stdout
    assert "Importing into" not in refused.stderr, "the dry run refused: no import is tried"
    assert len(target.entities("demo-collection")) == 7, "nothing more was written"


def test_copy_as_json_for_scripts(a_with_the_dashboard):
    a, b, dashboard_id, target, _ = a_with_the_dashboard

    result = transfer("--json", "copy", "--from-url", a.url, "--from-token", a.token(), "--to-url", b.url,
                      "--to-token", b.token(), "--dashboard", dashboard_id)

    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["exported"] == 7
    assert [item["entityType"] for item in answer["imported"]] == ["report"] * 6 + ["dashboard"]
    assert {entity["id"] for entity in target.entities()} == {item["id"] for item in answer["imported"]}


def test_export_then_dry_run_then_import_a_file(a_with_the_dashboard, tmp_path):
    a, b, dashboard_id, target, collection_id = a_with_the_dashboard
    file = tmp_path / "mars.json"
    env_a = {"OPTIMIZE_URL": a.url, "OPTIMIZE_TOKEN": a.token()}
    env_b = {"OPTIMIZE_URL": b.url, "OPTIMIZE_TOKEN": b.token()}

    exported = transfer("export", "--dashboard", dashboard_id, "-o", str(file), env=env_a)
    assert exported.returncode == 0, exported.stderr
    source = OptimizeClient(a.url, token=a.token())
    assert json.loads(file.read_text()) == source.export_dashboard(dashboard_id)

    preview = transfer("--json", "import", str(file), "--collection", collection_id, "--dry-run", env=env_b)
    assert preview.returncode == 0, preview.stderr
    assert [item["id"] for item in json.loads(preview.stdout)] == [None] * 7
    assert target.entities(collection_id) == []

    imported = transfer("--json", "import", str(file), "--collection", collection_id, env=env_b)
    assert imported.returncode == 0, imported.stderr
    assert sorted(item["id"] for item in json.loads(imported.stdout)) == sorted(
        entity["id"] for entity in target.entities(collection_id))

    listed = transfer("--json", "list", "--collection", collection_id, env=env_b)
    assert len(json.loads(listed.stdout)) == 7


def test_check_tells_offline_what_an_import_would_upgrade_and_every_problem(tmp_path):
    checked = transfer("--json", "check", str(REAL_OPTIMIZE_EXPORT))

    assert checked.returncode == 0, checked.stderr
    answer = json.loads(checked.stdout)
    dashboard = answer["entities"][-1]
    versions = dashboard["sourceIndexVersion"], dashboard["currentVersion"], dashboard["upgraded"]
    assert versions == (6, 8, True)
    assert dashboard["dropped"] == ["reports"], "the dashboard's reports become tiles"
    assert [definition["key"] for definition in answer["definitions"]] == [NASA]

    broken = json.loads(REAL_OPTIMIZE_EXPORT.read_text())
    del broken[0]["name"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    refused = transfer("check", str(tmp_path / "broken.json"))
    assert refused.returncode == 2
    assert f"entity {broken[0]['id']}" in refused.stdout and "name" in refused.stdout


def test_exit_codes_for_unreachable_unauthenticated_and_wrong_usage(served):
    assert transfer("list", "--url", "http://127.0.0.1:9", "--token", "t").returncode == 3
    unauthenticated = transfer("list", "--url", served.url, "--token", "wrong")
    assert unauthenticated.returncode == 4 and "unauthorizedError" in unauthenticated.stderr
    assert transfer("copy", "--dashboard", "d").returncode == 64
    assert transfer("export", "-o", "x.json", "--url", served.url).returncode == 64


def test_copy_again_with_mode_overwrite_updates_the_earlier_copy_and_refuses_what_was_changed_there(
        a_with_the_dashboard):
    """Promotion: copied with --mode overwrite three times, B keeps one set of the seven entities; an entity
    edited in B stops the next promotion (exit 2, named) until --overwrite-modified."""
    a, b, dashboard_id, target, collection_id = a_with_the_dashboard
    env = {"OPTIMIZE_FROM_URL": a.url, "OPTIMIZE_FROM_TOKEN": a.token(),
           "OPTIMIZE_TO_URL": b.url, "OPTIMIZE_TO_TOKEN": b.token()}
    promote = ("--json", "copy", "--dashboard", dashboard_id, "--into", collection_id, "--mode", "overwrite")

    first = transfer(*promote, env=env)
    assert first.returncode == 0, first.stderr
    ids = [item["id"] for item in json.loads(first.stdout)["imported"]]
    again = transfer(*promote, env=env)
    assert again.returncode == 0, again.stderr
    assert [(item["id"], item["action"]) for item in json.loads(again.stdout)["imported"]] == [
        (entity_id, "unchanged") for entity_id in ids]

    report_id = ids[0]
    target._send_json("import", "PUT", f"/api/report/{report_id}", {"name": "Edited in B"})
    refused = transfer("copy", "--dashboard", dashboard_id, "--into", collection_id, "--mode", "overwrite",
                       env=env)
    assert refused.returncode == 2, refused.stderr + refused.stdout
    assert "importConflict" in refused.stderr and "Edited in B" in refused.stdout, refused.stdout
    forced = transfer(*promote, "--overwrite-modified", env=env)
    assert forced.returncode == 0, forced.stderr
    actions = [item["action"] for item in json.loads(forced.stdout)["imported"]]
    assert actions == ["updated"] + ["unchanged"] * 6
    assert sorted(entity["id"] for entity in target.entities(collection_id)) == sorted(ids)
