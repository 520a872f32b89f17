"""The Python client against the real services over HTTP (through the local gateway, and directly):
what a service or a script using it sees."""

import json

import pytest
import requests

from optimize_client import ApiError, NotAuthenticated, OptimizeClient, ServiceUnavailable, Unreachable
from optimize_runtime.infra.ports import free_port
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT

NASA = "NasaImageProcessing"


class CountingSession(requests.Session):
    """Records every request the client sends: round trips are counted, not timed."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.sent.append(request)
        return super().send(request, **kwargs)


def prepare_target(client: OptimizeClient, name: str = "Mars") -> str:
    """NasaImageProcessing deployed and authorized, and a collection whose scope covers it."""
    client.register_definitions([{"type": "process", "key": NASA, "name": NASA, "version": version,
                                  "tenantId": None} for version in ("1", "2")])
    client.grant_authorizations([{"identity": {"id": "demo", "type": "user"}, "definitionType": "process",
                                  "definitionKey": "*", "tenants": [None]}])
    collection_id = client.create_collection(name)["id"]
    client.add_scope(collection_id, [{"definitionType": "process", "definitionKey": NASA, "tenants": [None]}])
    return collection_id


def test_dry_run_import_list_and_export_the_real_optimize_file_through_the_gateway(served):
    client = OptimizeClient(served.url, token=served.token())
    collection_id = prepare_target(client)
    file = REAL_OPTIMIZE_EXPORT.read_bytes()

    preview = client.dry_run(file, collection_id=collection_id)
    assert [item.id for item in preview] == [None] * 7
    assert client.entities(collection_id) == []

    imported = client.import_file(file, collection_id=collection_id)

    assert [item.entity_type for item in imported] == ["report"] * 6 + ["dashboard"]
    assert [item.source_id for item in imported] == [entity["id"] for entity in json.loads(file)]
    listed = client.entities(collection_id)
    assert sorted(entity["id"] for entity in listed) == sorted(item.id for item in imported)
    dashboard_id = imported[-1].id
    exported = client.export_dashboard(dashboard_id)
    assert [entity["id"] for entity in exported][-1] == dashboard_id
    assert sorted(entity["id"] for entity in client.export_collection(collection_id)) == sorted(
        item.id for item in imported)
    both = client.export_entities(reports=[imported[0].id], dashboards=[dashboard_id])
    assert len(both) == 7 and both[-1]["id"] == dashboard_id, "the report shown by the dashboard comes once"
    assert client.dashboard(dashboard_id)["name"] == "Mars Image Processing"
    assert client.collection(collection_id)["name"] == "Mars"


def test_a_refused_import_raises_with_optimizes_error_code_and_the_definitions_named(served):
    client = OptimizeClient(served.url, token=served.token())

    with pytest.raises(ApiError) as refused:
        client.import_file(REAL_OPTIMIZE_EXPORT.read_bytes())

    error = refused.value
    assert (error.status, error.error_code) == (400, "importDefinitionDoesNotExist")
    assert [definition["key"] for definition in error.definitions] == [NASA]
    assert [category["errorCode"] for category in error.errors][:1] == ["importDefinitionDoesNotExist"]
    assert client.entities() == []

    with pytest.raises(ApiError) as invalid:
        client.import_file([{"id": "r1", "exportEntityType": "single_process_report"}])
    assert invalid.value.error_code == "importFileInvalid"
    assert {problem["entityId"] for problem in invalid.value.validation_errors} == {"r1"}


def test_services_reached_one_by_one_without_a_gateway_and_a_wrong_token_is_not_authenticated(served):
    direct = OptimizeClient(catalog_url=served.service_url("catalog"), token=served.token(),
                            export_url=served.service_url("export"), import_url=served.service_url("import"))
    collection_id = prepare_target(direct)
    assert len(direct.import_file(REAL_OPTIMIZE_EXPORT.read_bytes(), collection_id=collection_id)) == 7

    with pytest.raises(NotAuthenticated) as unauthenticated:
        OptimizeClient(served.url, token="not-a-token").entities()
    assert unauthenticated.value.error_code == "unauthorizedError"


def test_token_and_urls_come_from_the_environment(served):
    client = OptimizeClient.from_env({"OPTIMIZE_URL": served.url, "OPTIMIZE_TOKEN": served.token()})
    assert client.entities() == []


def test_a_503_is_retried_with_the_same_idempotency_key_and_imports_once(served):
    session = CountingSession()
    installation = served.installation
    installation.stop_catalog_worker()  # the import's catalog check now fails fast: 503 with Retry-After
    waits = []

    def sleep(seconds):  # the back-off: the catalog comes back meanwhile
        waits.append(seconds)
        installation.start_catalog_worker()

    setup = OptimizeClient(served.url, token=served.token())
    client = OptimizeClient(served.url, token=served.token(), session=session, sleep=sleep, max_backoff_s=2)
    collection_id = prepare_target(setup)

    imported = client.import_file(REAL_OPTIMIZE_EXPORT.read_bytes(), collection_id=collection_id)

    assert len(imported) == 7
    assert len(session.sent) == 2 and len(waits) == 1 and 0 < waits[0] <= 2
    keys = {request.headers["Idempotency-Key"] for request in session.sent}
    assert len(keys) == 1, "a retry sends the same Idempotency-Key"
    assert len(setup.entities(collection_id)) == 7


def test_a_503_that_persists_gives_up_after_the_allowed_retries_and_a_400_is_never_retried(served):
    session = CountingSession()
    served.installation.stop_catalog_worker()
    client = OptimizeClient(served.url, token=served.token(), session=session, sleep=lambda s: None,
                            max_retries=2)

    with pytest.raises(ServiceUnavailable) as unavailable:
        client.import_file(REAL_OPTIMIZE_EXPORT.read_bytes())
    assert unavailable.value.error_code == "serviceUnavailable"
    assert len(session.sent) == 3

    session.sent.clear()
    with pytest.raises(ApiError):
        client.import_file(b"not json")
    assert len(session.sent) == 1


def test_an_installation_that_does_not_answer_is_unreachable():
    with pytest.raises(Unreachable):
        OptimizeClient(f"http://127.0.0.1:{free_port()}", token="t", timeout_s=5).entities()


def paged_entity_list(items: list[dict], page_size: int):
    """The paging contract of GET /api/entities (limit, cursor; X-Total-Count, X-Next-Cursor), as a WSGI
    app: to show that the client follows it page by page."""
    from urllib.parse import parse_qs

    def app(environ, start_response):
        query = parse_qs(environ.get("QUERY_STRING", ""))
        start = int(query.get("cursor", ["0"])[0])
        limit = min(int(query.get("limit", [str(page_size)])[0]), page_size)
        page = items[start:start + limit]
        headers = [("Content-Type", "application/json"), ("X-Total-Count", str(len(items)))]
        if start + limit < len(items):
            headers.append(("X-Next-Cursor", str(start + limit)))
        start_response("200 OK", headers)
        return [json.dumps(page).encode()]

    return app


def test_the_entity_list_is_read_page_by_page_when_the_service_pages(serve_wsgi):
    items = [{"id": f"e{i}", "name": f"entity {i}"} for i in range(7)]
    server = serve_wsgi(paged_entity_list(items, page_size=3))
    session = CountingSession()
    client = OptimizeClient(server.url, token="t", session=session)

    pages = list(client.entity_pages(limit=3))

    assert [len(page.items) for page in pages] == [3, 3, 1]
    assert {page.total for page in pages} == {7}
    assert [request.url.split("?")[1] for request in session.sent] == [
        "limit=3", "limit=3&cursor=3", "limit=3&cursor=6"]
    assert client.entities(limit=3) == items


def test_public_import_with_the_api_token_records_system_user(served):
    admin = OptimizeClient(served.url, token=served.token())
    collection_id = prepare_target(admin)
    service = OptimizeClient(served.url, token=served.installation.environ["OPTIMIZE_API_ACCESS_TOKEN"])

    imported = service.import_file(REAL_OPTIMIZE_EXPORT.read_bytes(), collection_id=collection_id,
                                   public=True)

    assert len(imported) == 7
    assert {entity["owner"] for entity in admin.entities(collection_id)} == {"System User"}
