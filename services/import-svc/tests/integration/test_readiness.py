"""import-svc is ready only when the catalog answers an RPC; it says so, and recovers by itself."""

import time


def test_readiness_follows_the_catalog_worker(installation):
    client = installation.imports
    assert client.get("/readyz").status_code == 200

    installation.stop_catalog_worker()
    started = time.monotonic()
    response = client.get("/readyz")
    waited = time.monotonic() - started
    assert response.status_code == 503
    assert "catalog" in response.json["errorMessage"]
    assert response.headers["Retry-After"]
    assert waited < float(installation.environ["OPTIMIZE_RPC_TIMEOUT_S"]) + 1  # never hangs past the deadline

    installation.start_catalog_worker()
    assert client.get("/readyz").status_code == 200


def test_export_service_is_ready_with_mongodb_and_catalog(installation):
    response = installation.export.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"mongodb": "ok", "catalog": "ok"}
