"""Who may export and read what: the findings of the attack on the export paths, replayed. Optimize's rule
(ReportExportService.validateReportAuthorizationsOrFail, AuthorizedCollectionService.
verifyUserAuthorizedToEditCollectionResources): the owner of a private entity, or an editor or manager of
its collection, with authorization for every definition read; the public API only collection entities."""

import pytest

ALICE, BOB = "alice", "bob"  # both superusers through their group


def superuser(installation, user: str) -> dict:
    return installation.headers(user, ["optimize-admins"])


@pytest.fixture
def grant_everything(installation, catalog):
    """bob grants himself (and alice) every process and decision definition: a superuser can."""
    grants = [{"identity": {"id": user, "type": "user"}, "definitionType": definition_type,
               "definitionKey": "*", "tenants": ["*"]}
              for user in (ALICE, BOB) for definition_type in ("process", "decision")]
    response = installation.catalog.post("/api/authorization", json=grants,
                                         headers=superuser(installation, BOB))
    assert response.status_code == 200, response.json


def test_another_superusers_private_report_is_neither_read_nor_exported(
        installation, author, grant_everything, exported_events):
    alices = type(author)(installation, user=ALICE)
    report = alices.process_report("Alice's")
    board = alices.dashboard([alices.report_tile(report)])
    bob = superuser(installation, BOB)

    for path in (f"/api/report/{report}", f"/api/export/report/json/{report}/r.json",
                 f"/api/dashboard/{board}", f"/api/export/dashboard/json/{board}/d.json"):
        response = installation.export.get(path, headers=bob)
        assert (response.status_code, response.json["errorCode"]) == (403, "forbiddenError"), path
    assert exported_events.next_event(timeout_s=0.5) is None  # nothing was counted as exported

    response = installation.export.get(f"/api/export/report/json/{report}/r.json",
                                       headers=superuser(installation, ALICE))
    assert response.status_code == 200


@pytest.mark.parametrize(("role", "read", "export"), [
    (None, 403, 403), ("viewer", 200, 403), ("editor", 200, 200), ("manager", 200, 200)])
def test_a_collection_entity_needs_a_role_there_and_the_editor_role_to_export(
        installation, author, new_collection, grant_everything, role, read, export):
    finance = new_collection()
    report = author.process_report(collection_id=finance)
    if role:
        roles = [{"identity": {"id": BOB, "type": "user"}, "role": role}]
        assert installation.catalog.post(f"/api/collection/{finance}/role", json=roles,
                                         headers=installation.headers()).status_code == 204
    bob = superuser(installation, BOB)

    assert installation.export.get(f"/api/report/{report}", headers=bob).status_code == read
    assert installation.export.get(f"/api/export/report/json/{report}/r.json",
                                   headers=bob).status_code == export
    assert installation.export.get(f"/api/export/collection/json/{finance}/c.json",
                                   headers=bob).status_code == export


def test_reading_a_report_needs_its_definitions_as_exporting_does(installation, catalog, author):
    payroll = author.process_report("Payroll", key="payroll")  # demo may not read payroll

    for path in (f"/api/report/{payroll}", f"/api/export/report/json/{payroll}/p.json"):
        response = installation.export.get(path, headers=installation.headers())
        assert response.status_code == 403, path
        assert response.json["definitions"] == [{"type": "process", "key": "payroll", "tenantIds": [None]}]


def test_entities_of_a_deleted_collection_are_gone(installation, catalog, author, new_collection):
    finance = new_collection()
    report = author.process_report(collection_id=finance)
    headers = installation.headers()
    assert installation.catalog.delete(f"/api/collection/{finance}", headers=headers).status_code == 204

    for path in (f"/api/report/{report}", f"/api/export/report/json/{report}/r.json"):
        response = installation.export.get(path, headers=headers)
        assert (response.status_code, response.json["errorCode"]) == (404, "notFoundError"), path
    response = installation.export.post("/api/public/export/report/definition/json", json=[report],
                                        headers=installation.public_headers())
    assert response.status_code == 404
    assert report not in [e["id"] for e in installation.export.get("/api/entities", headers=headers).json]


def test_the_public_api_exports_only_collection_entities(installation, catalog, author, new_collection):
    finance = new_collection()
    shared = author.process_report(collection_id=finance)
    private = author.process_report("Private")
    board = author.dashboard([author.report_tile(private)], collection_id=finance)  # shows a private report
    public = installation.public_headers()

    response = installation.export.post("/api/public/export/report/definition/json", json=[shared],
                                        headers=public)
    assert response.status_code == 200
    for path, ids in (("report", [private]), ("dashboard", [board])):
        response = installation.export.post(f"/api/public/export/{path}/definition/json", json=ids,
                                            headers=public)
        assert (response.status_code, response.json["ids"]) == (403, [private]), path


@pytest.mark.parametrize(("file_name", "ascii_fallback", "encoded"), [
    ("résumé-😀.json", "r_sum_-_.json", "r%C3%A9sum%C3%A9-%F0%9F%98%80.json"),
    ('a "quoted" 100%.json', "a _quoted_ 100_.json", "a%20%22quoted%22%20100%25.json"),
])
def test_a_file_name_is_given_as_rfc_6266_and_8187_write_it(installation, catalog, author, file_name,
                                                            ascii_fallback, encoded):
    report = author.process_report()
    response = installation.export.get(f"/api/export/report/json/{report}/{file_name}",
                                       headers=installation.headers())
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{encoded}")


@pytest.mark.parametrize("raw_name", [
    "..", ".", "a%5Cb.json", "a%2Fb.json", "evil%E2%80%AEnosj.exe", "tab%09.json", "nul%00.json",
    "bad%FF.json", "x" * 256 + ".json"])
def test_a_file_name_that_cannot_be_used_is_refused_before_anything_is_exported(
        installation, catalog, author, new_collection, exported_events, raw_name):
    report = author.process_report()
    finance = new_collection()
    for path in (f"/api/export/report/json/{report}/{raw_name}",
                 f"/api/export/collection/json/{finance}/{raw_name}"):
        response = installation.export.get(path, headers=installation.headers())
        if raw_name in ("..", ".", "a%2Fb.json"):  # no route has such a path: 404, nothing exported
            assert response.status_code in (400, 404), path
            continue
        assert (response.status_code, response.json["errorCode"]) == (400, "badRequestError"), path
        assert "fileName" in response.json["validationErrors"]["path"]
    assert exported_events.next_event(timeout_s=0.5) is None
