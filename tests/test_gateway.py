"""The local gateway routes as the cluster's HTTPRoute does (deploy/k8s/base/httproute.yaml): the console
and the command line see the same paths locally and in a cluster."""

from pathlib import Path

import pytest
import yaml

from optimize_runtime.infra.gateway import ROUTES, RouteMatch, route

HTTPROUTE = Path(__file__).resolve().parents[1] / "deploy" / "k8s" / "base" / "httproute.yaml"


def test_the_gateway_has_exactly_the_httproutes_matches():
    rules = yaml.safe_load(HTTPROUTE.read_text())["spec"]["rules"]
    from_manifest = {}
    for rule in rules:
        [backend] = rule["backendRefs"]
        service = backend["name"].removesuffix("-svc")
        from_manifest[service] = {
            RouteMatch(match["path"]["value"], match["path"]["type"], match.get("method"))
            for match in rule["matches"]}
    assert from_manifest == {service: set(matches) for service, matches in ROUTES.items()}


@pytest.mark.parametrize(("method", "path", "service"), [
    ("GET", "/api/collection/c1/entities", "export"),
    ("GET", "/api/collection/c1", "catalog"),
    ("POST", "/api/collection/c1/scope", "catalog"),
    ("GET", "/api/report/r1", "export"),
    ("PUT", "/api/report/r1", "import"),
    ("POST", "/api/import", "import"),
    ("GET", "/api/export/dashboard/json/d1/f.json", "export"),
    ("GET", "/console/app.js", "export"),
    ("GET", "/api/reports", None),
    ("GET", "/api/entitiesx", None),
])
def test_requests_go_to_the_service_that_serves_them(method, path, service):
    assert route(method, path) == service


def test_through_the_gateway_every_service_answers_and_an_unknown_path_is_a_404(served):
    import requests

    headers = {"Authorization": f"Bearer {served.token()}"}
    assert requests.get(f"{served.url}/api/entities", headers=headers, timeout=10).json() == []
    assert requests.get(f"{served.url}/api/definition", headers=headers, timeout=10).status_code == 200
    unknown = requests.get(f"{served.url}/api/nothing", headers=headers, timeout=10)
    assert (unknown.status_code, unknown.json()["errorCode"]) == (404, "notFoundError")
    assert requests.get(f"{served.url}/readyz", timeout=10).status_code == 200
