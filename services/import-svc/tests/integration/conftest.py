"""The import tests run twice: with the body parsed in memory, and spooled to a temporary file and read
entity by entity (`OPTIMIZE_IMPORT_SPOOL_BYTES=0`: every body is large). Both must answer the same."""

from pathlib import Path

import pytest

from optimize_testing.installation import start_installation

IN_MEMORY, SPOOLED = "in-memory", "spooled"


def pytest_generate_tests(metafunc):
    import_tests = Path(metafunc.module.__file__).name.startswith("test_import_")
    if import_tests and "installation" in metafunc.fixturenames:
        metafunc.parametrize("import_body", [IN_MEMORY, SPOOLED], indirect=True)


@pytest.fixture
def import_body(request) -> str:
    return getattr(request, "param", IN_MEMORY)


@pytest.fixture
def installation(servers, names, import_body):
    """The three services and a running catalog RPC worker, reading import bodies as `import_body` says."""
    overrides = {"OPTIMIZE_IMPORT_SPOOL_BYTES": "0"} if import_body == SPOOLED else {}
    running = start_installation(servers, names, **overrides)
    yield running
    running.close()
