"""The layout shows the architecture, and these rules keep it so: services share only `contracts` (and
the service plumbing in `optimize_runtime`), domain code decides without Flask, pika or pymongo, and
`contracts` depends on nothing of ours."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"catalog_svc": "services/catalog-svc/src/catalog_svc",
            "export_svc": "services/export-svc/src/export_svc",
            "import_svc": "services/import-svc/src/import_svc"}
INFRASTRUCTURE = {"flask", "flask_smorest", "pika", "pymongo", "bson", "gunicorn", "werkzeug"}


def imported_packages(folder: Path) -> dict[str, set[str]]:
    """Top-level package of every import, per module file below `folder`."""
    found = {}
    for path in folder.rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_never_imports_another_service(service):
    others = set(SERVICES) - {service}
    offending = {path: names & others for path, names in imported_packages(ROOT / SERVICES[service]).items()
                 if names & others}
    assert offending == {}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_domain_code_decides_without_web_framework_broker_or_database(service):
    domain = ROOT / SERVICES[service] / "domain"
    offending = {path: names & INFRASTRUCTURE for path, names in imported_packages(domain).items()
                 if names & INFRASTRUCTURE}
    assert offending == {}


def test_contracts_depend_on_nothing_of_ours_nor_on_infrastructure():
    ours = set(SERVICES) | {"optimize_runtime"}
    offending = {path: names & (ours | INFRASTRUCTURE)
                 for path, names in imported_packages(ROOT / "contracts/src/contracts").items()
                 if names & (ours | INFRASTRUCTURE)}
    assert offending == {}


def test_only_import_svc_writes_entities():
    """export-svc reads the entity store: no MongoDB write call appears in its code."""
    writes = ("insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one",
              "delete_many", "bulk_write", "find_one_and_update", "find_one_and_replace", "drop")
    offending = [f"{path}:{line_number}"
                 for path in (ROOT / SERVICES["export_svc"]).rglob("*.py")
                 for line_number, line in enumerate(path.read_text().splitlines(), 1)
                 if any(f".{call}(" in line for call in writes)]
    assert offending == []
