"""The layout shows the architecture, and these rules keep it so: services share only `contracts` (and
the service plumbing in `optimize_runtime`), domain code decides without Flask, pika or pymongo,
`contracts` and `optimize_runtime` depend on no service, and no production package (everything under a
`src/` folder) imports pytest or the test support, which lives in its own workspace member `testing/`."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"catalog_svc": "services/catalog-svc/src/catalog_svc",
            "export_svc": "services/export-svc/src/export_svc",
            "import_svc": "services/import-svc/src/import_svc"}
SHARED = {"contracts": "contracts/src/contracts", "optimize_runtime": "runtime/src/optimize_runtime"}
INFRASTRUCTURE = {"flask", "flask_smorest", "pika", "pymongo", "bson", "gunicorn", "werkzeug"}
TEST_SUPPORT = {"pytest", "_pytest", "optimize_testing"}
_DYNAMIC_IMPORTS = {"import_module", "__import__"}


def imported_packages(folder: Path) -> dict[str, set[str]]:
    """Top-level package of every import, per module file below `folder`: import statements, and
    `importlib.import_module("...")` / `__import__("...")` with a literal name."""
    found = {}
    for path in folder.rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.Call) and _called_name(node) in _DYNAMIC_IMPORTS and node.args \
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                names.add(node.args[0].value.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def _called_name(call: ast.Call) -> str | None:
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)


def offending_imports(folder: Path, forbidden: set[str]) -> dict[str, set[str]]:
    return {path: names & forbidden for path, names in imported_packages(folder).items() if names & forbidden}


def production_source_folders() -> list[Path]:
    """Every `src/` folder of the workspace: the code the image installs."""
    patterns = ("*/src", "services/*/src", "clients/*/src")
    return sorted(path for pattern in patterns for path in ROOT.glob(pattern))


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_never_imports_another_service(service):
    assert offending_imports(ROOT / SERVICES[service], set(SERVICES) - {service}) == {}


@pytest.mark.parametrize("package", sorted(SHARED))
def test_contracts_and_runtime_import_no_service(package):
    assert offending_imports(ROOT / SHARED[package], set(SERVICES)) == {}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_domain_code_decides_without_web_framework_broker_or_database(service):
    assert offending_imports(ROOT / SERVICES[service] / "domain", INFRASTRUCTURE) == {}


def test_contracts_depend_on_nothing_of_ours_nor_on_infrastructure():
    ours = set(SERVICES) | {"optimize_runtime", "optimize_testing"}
    assert offending_imports(ROOT / SHARED["contracts"], ours | INFRASTRUCTURE) == {}


def test_no_production_package_imports_pytest_or_the_test_support():
    folders = production_source_folders()
    # The rule is only as good as the folders it reads: every package the image installs, and only those.
    assert [str(folder.relative_to(ROOT)) for folder in folders] == [
        "clients/python/src", "contracts/src", "runtime/src", "services/catalog-svc/src",
        "services/export-svc/src",
        "services/import-svc/src"]
    offending = {}
    for folder in folders:
        offending.update(offending_imports(folder, TEST_SUPPORT))
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


def test_the_client_talks_to_the_services_over_http_only():
    """Other services use optimize_client: it shares only `contracts` (the file format) with the services."""
    forbidden = set(SERVICES) | {"optimize_runtime", "optimize_testing"} | INFRASTRUCTURE
    assert offending_imports(ROOT / "clients/python/src/optimize_client", forbidden) == {}
