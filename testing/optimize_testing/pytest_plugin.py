"""Fixtures every package's tests share; loaded by the root conftest.py."""

import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from optimize_testing.servers import TestServers, start_test_servers

TEST_JWT_SECRET = "test-secret-not-for-production-0123456789abcdef"


@pytest.fixture(scope="session")
def servers() -> TestServers:
    with ExitStack() as stack:
        yield start_test_servers(stack)


@pytest.fixture(scope="session")
def mongodb_uri(servers: TestServers) -> str:
    return servers.mongodb_uri


@pytest.fixture(scope="session")
def amqp_url(servers: TestServers) -> str:
    return servers.amqp_url


@dataclass(frozen=True)
class IsolatedNames:
    """Database, queue and exchange names of one test (or one installation in a cross-service test),
    so that tests sharing the servers never see each other's data or messages."""

    prefix: str

    @property
    def catalog_db(self) -> str:
        return f"{self.prefix}_catalog"

    @property
    def entities_db(self) -> str:
        return f"{self.prefix}_entities"

    @property
    def rpc_queue(self) -> str:
        return f"{self.prefix}.catalog.rpc"

    @property
    def events_exchange(self) -> str:
        return f"{self.prefix}.optimize.events"

    @property
    def collection_events_queue(self) -> str:
        return f"{self.prefix}.import-svc.collection-events"


def isolated_names(label: str = "t") -> IsolatedNames:
    return IsolatedNames(f"{label}_{uuid.uuid4().hex[:10]}")


@pytest.fixture
def names() -> IsolatedNames:
    return isolated_names()


def service_environ(servers: TestServers, names: IsolatedNames, **overrides: str) -> dict[str, str]:
    """The OPTIMIZE_* environment of one installation under test."""
    environ = {
        "OPTIMIZE_ENV": "test",
        "OPTIMIZE_MONGODB_URI": servers.mongodb_uri,
        "OPTIMIZE_MONGODB_EMBEDDED": "1" if servers.mongodb_embedded else "0",
        "OPTIMIZE_DATA_DIR": str(servers.data_dir),
        "OPTIMIZE_AMQP_URL": servers.amqp_url,
        "OPTIMIZE_CATALOG_DB": names.catalog_db,
        "OPTIMIZE_ENTITIES_DB": names.entities_db,
        "OPTIMIZE_RPC_QUEUE": names.rpc_queue,
        "OPTIMIZE_EVENTS_EXCHANGE": names.events_exchange,
        "OPTIMIZE_COLLECTION_EVENTS_QUEUE": names.collection_events_queue,
        "OPTIMIZE_EVENTS_RETRY_DELAY_S": "0.2",
        "OPTIMIZE_AUTH_JWT_SECRET": TEST_JWT_SECRET,
        "OPTIMIZE_AUTH_SUPERUSER_IDS": "demo",
        "OPTIMIZE_AUTH_SUPERUSER_GROUPS": "optimize-admins",
        "OPTIMIZE_API_ACCESS_TOKEN": "test-public-api-token",
        "OPTIMIZE_RPC_TIMEOUT_S": "3",
    }
    environ.update(overrides)
    return environ


@pytest.fixture
def environ(servers: TestServers, names: IsolatedNames) -> dict[str, str]:
    return service_environ(servers, names)


@pytest.fixture
def installation(servers: TestServers, names: IsolatedNames):
    """The three services and a running catalog RPC worker, with this test's own names."""
    from optimize_testing.installation import start_installation

    running = start_installation(servers, names)
    yield running
    running.close()


# The real export written by Optimize; shared/ lies beside the repository (so it does in CI).
REAL_OPTIMIZE_EXPORT = (Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "optimize"
                        / "carbon-reductor-dashboard.json")
