"""The entity list and single entities: what each user sees, shaped as Optimize returns it."""

import re

import pytest

OPTIMIZE_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


@pytest.fixture
def collection(installation, catalog, new_collection):
    """A collection demo manages and kermit views (the catalog fixture's definitions in its scope)."""
    catalog, headers = installation.catalog, installation.headers()
    collection_id = new_collection()
    roles = [{"identity": {"id": "kermit", "type": "user"}, "role": "viewer"}]
    response = catalog.post(f"/api/collection/{collection_id}/role", json=roles, headers=headers)
    assert response.status_code == 204
    return collection_id


@pytest.fixture
def counted_rpc(installation):
    rpc = installation.app("export").extensions["export"].catalog
    calls, call = [], rpc.call

    def counted_call(method, params, **kwargs):
        calls.append((method, params))
        return call(method, params, **kwargs)

    rpc.call = counted_call
    return calls


def test_each_user_lists_their_private_entities_and_those_of_their_collections(
        installation, author, collection, counted_rpc):
    private = author.process_report("Mine")
    shared = author.process_report("Shared", collection_id=collection)
    board = author.dashboard([author.report_tile(shared)], collection_id=collection)
    kermits = type(author)(installation, user="kermit").process_report("Kermit's")

    listed = installation.export.get("/api/entities", headers=installation.headers()).json
    assert [(e["id"], e["currentUserRole"]) for e in listed] == [
        (board, "manager"), (shared, "manager"), (private, "editor")]  # newest first
    assert [method for method, _ in counted_rpc] == ["collection_access"]
    assert counted_rpc[0][1]["collectionIds"] is None

    listed = installation.export.get("/api/entities", headers=installation.headers("kermit")).json
    assert {(e["id"], e["currentUserRole"]) for e in listed} == {
        (board, "viewer"), (shared, "viewer"), (kermits, "editor")}

    in_collection = installation.export.get(f"/api/collection/{collection}/entities",
                                            headers=installation.headers("kermit")).json
    assert {e["id"] for e in in_collection} == {board, shared}
    item = next(e for e in in_collection if e["id"] == board)
    assert (item["entityType"], item["reportType"], item["collectionId"]) == ("dashboard", None, collection)


def test_collection_entities_need_a_role_in_an_existing_collection(installation, collection):
    response = installation.export.get(f"/api/collection/{collection}/entities",
                                       headers=installation.headers("piggy"))
    assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError")
    response = installation.export.get("/api/collection/nowhere/entities", headers=installation.headers())
    assert (response.status_code, response.json["errorCode"]) == (404, "notFoundError")


def test_a_report_and_a_dashboard_as_optimize_returns_them(installation, catalog, author):
    report = author.process_report("Invoices")
    dashboard = author.dashboard([author.report_tile(report), author.url_tile("https://camunda.com")])

    body = installation.export.get(f"/api/report/{report}", headers=installation.headers()).json
    assert list(body) == ["id", "name", "description", "owner", "lastModifier", "created", "lastModified",
                          "collectionId", "currentUserRole", "reportType", "combined", "data"]
    assert (body["name"], body["owner"], body["reportType"]) == ("Invoices", "demo", "process")
    assert body["combined"] is False
    assert OPTIMIZE_DATE.match(body["created"]) and body["created"] == body["lastModified"]
    assert body["data"]["definitions"][0]["key"] == "invoice"

    body = installation.export.get(f"/api/dashboard/{dashboard}", headers=installation.headers()).json
    assert [tile["type"] for tile in body["tiles"]] == ["optimize_report", "external_url"]
    assert body["availableFilters"] == [] and body["owner"] == "demo"


def test_the_openapi_document_describes_dates_as_optimize_writes_them(installation, catalog, author):
    report = author.process_report("Invoices")
    created = installation.export.get(f"/api/report/{report}", headers=installation.headers()).json["created"]
    schemas = installation.export.get("/openapi.json").json["components"]["schemas"]
    documented = [schema["properties"]["created"] for schema in schemas.values()
                  if "created" in schema.get("properties", {})]
    assert documented and all(re.match(date["pattern"], created) for date in documented)
    assert all(date["format"] != "date-time" for date in documented)  # RFC 3339 wants +00:00


def test_private_entities_are_their_owners_and_unknown_ids_are_named(installation, author):
    report = author.process_report()

    response = installation.export.get(f"/api/report/{report}", headers=installation.headers("kermit"))
    assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError")
    response = installation.export.get("/api/dashboard/nope", headers=installation.headers())
    assert (response.status_code, response.json["errorCode"], response.json["id"]) == (404, "notFoundError",
                                                                                      "nope")
    assert installation.export.get(f"/api/report/{report}").status_code == 401


def test_entity_lists_are_paged_in_a_stable_order_with_the_total_and_the_next_page(
        installation, catalog, author, new_collection):
    finance = new_collection()
    made = [author.process_report(f"R{index}", collection_id=finance) for index in range(5)]
    headers = installation.headers()
    for path in ("/api/entities", f"/api/collection/{finance}/entities"):
        seen, url, pages = [], f"{path}?limit=2", 0
        while url:
            response = installation.export.get(url, headers=headers)
            assert response.status_code == 200 and isinstance(response.json, list)
            assert response.headers["X-Total-Count"] == "5"
            seen += [entity["id"] for entity in response.json]
            pages += 1
            cursor = response.headers.get("X-Next-Cursor")
            if cursor is None:
                assert "Link" not in response.headers
                url = None
            else:
                link = response.headers["Link"]
                assert link.endswith('>; rel="next"') and f"cursor={cursor}" in link
                url = f"{path}?limit=2&cursor={cursor}"
        assert (pages, sorted(seen)) == (3, sorted(made)) and len(set(seen)) == 5  # each once
        everything = installation.export.get(path, headers=headers)  # default page: the whole list
        assert [e["id"] for e in everything.json] == seen and "X-Next-Cursor" not in everything.headers
        times = [e["lastModified"] for e in everything.json]
        assert times == sorted(times, reverse=True)  # newest first


@pytest.mark.parametrize(("query", "named"), [
    ("limit=0", "limit"), ("limit=10001", "limit"), ("limit=many", "limit"),
    ("cursor=not-a-cursor", "cursor"),
    ("cursor=WyIyMDI0LTAxLTAxVDAwOjAwOjAwIiwiYSJd", "cursor"),  # a time without its zone
])
def test_a_limit_out_of_range_or_a_foreign_cursor_is_a_bad_request_naming_it(installation, query, named):
    response = installation.export.get(f"/api/entities?{query}", headers=installation.headers())
    assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError")
    assert named in response.json["validationErrors"]["query"]
