"""Every operation of the three OpenAPI documents, asked by every kind of caller: the status each cell
must answer is kept below, as a table. An operation a document gains without a row here fails the test,
so a new route states who may call it. Nowhere does a caller get more than Optimize gives: the owner of a
private entity or a role in its collection to read it, the editor role to export or change it, definition
authorization to read or export a report, superusers for export and import, the public API only for
collection entities (ReportExportService, AuthorizedCollectionService, ReportService in Optimize's backend).

Columns (who asks):
  none, expired, foreign   no token, an expired one, one signed with another secret
  static, publicJwt        the public API token, a JWT with the public-API audience
  user                     kermit: no superuser, authorized for the definitions, no role anywhere
  superNoAuth              alice: a superuser without definition authorizations or roles
  viewer, editor, manager  vic, eddie, demo: superusers, authorized, with that role in the collection
  owner, nonOwner          olga (owns the private entities), nora: superusers, authorized, no role

Rows: `METHOD path [target]`: a report or dashboard `[collection]` of the collection, or `[private]`, olga's.
The catalog's admin API lets superusers manage every collection (its rule since the start)."""

import itertools
import time

import jwt
import pytest

from optimize_runtime.identity import issue_token
from optimize_testing.installation import start_installation
from optimize_testing.pytest_plugin import TEST_JWT_SECRET, isolated_names

COLUMNS = ("none", "expired", "foreign", "static", "publicJwt", "user", "superNoAuth", "viewer", "editor",
           "manager", "owner", "nonOwner")
NO = (401, 401, 401)          # no, expired or foreign token
USER_ROUTE = NO + (401, 401)  # ... and the public API's tokens on a user route
PUBLIC_ROUTE = NO


def users(*statuses: int) -> tuple[int, ...]:
    return USER_ROUTE + statuses


def public(status: int) -> tuple[int, ...]:
    return PUBLIC_ROUTE + (status, status) + (401,) * 7  # a user's token is no public token


SUPERUSERS_ONLY = users(403, 200, 200, 200, 200, 200, 200)
SUPERUSERS_CHANGE = users(403, 204, 204, 204, 204, 204, 204)
ROLE_TO_READ = users(403, 403, 200, 200, 200, 403, 403)
EDITOR = users(403, 403, 403, 200, 200, 403, 403)
EDITOR_CHANGES = users(403, 403, 403, 204, 204, 403, 403)
OWNER = users(403, 403, 403, 403, 403, 200, 403)
OWNER_CHANGES = users(403, 403, 403, 403, 403, 204, 403)

EXPECTED: dict[str, tuple[int, ...]] = {
    # catalog: definitions and authorizations are for superusers; collections for their members
    "POST /api/definition": SUPERUSERS_ONLY,
    "GET /api/definition": SUPERUSERS_ONLY,
    "DELETE /api/definition/{definition_type}/{key}": SUPERUSERS_CHANGE,
    "POST /api/authorization": SUPERUSERS_ONLY,
    "GET /api/authorization": SUPERUSERS_ONLY,
    "DELETE /api/authorization/{authorization_id}": SUPERUSERS_CHANGE,
    "POST /api/collection": users(200, 200, 200, 200, 200, 200, 200),
    "GET /api/collection/{collection_id}": SUPERUSERS_ONLY,
    "PUT /api/collection/{collection_id}": SUPERUSERS_CHANGE,
    "DELETE /api/collection/{collection_id}": SUPERUSERS_CHANGE,
    "GET /api/collection/{collection_id}/scope": SUPERUSERS_ONLY,
    "POST /api/collection/{collection_id}/scope": SUPERUSERS_CHANGE,
    "PUT /api/collection/{collection_id}/scope/{entry_id}": SUPERUSERS_CHANGE,
    "DELETE /api/collection/{collection_id}/scope/{entry_id}": SUPERUSERS_CHANGE,
    "GET /api/collection/{collection_id}/role": SUPERUSERS_ONLY,
    "POST /api/collection/{collection_id}/role": SUPERUSERS_CHANGE,
    "PUT /api/collection/{collection_id}/role/{role_id}": SUPERUSERS_CHANGE,
    "DELETE /api/collection/{collection_id}/role/{role_id}": SUPERUSERS_CHANGE,
    # export: reading needs a role (or ownership) and the definitions; exporting the editor role as well
    "GET /api/entities": users(200, 200, 200, 200, 200, 200, 200),
    "GET /api/collection/{collection_id}/entities": ROLE_TO_READ,
    "GET /api/report/{report_id} [collection]": ROLE_TO_READ,
    "GET /api/report/{report_id} [private]": OWNER,
    "GET /api/dashboard/{dashboard_id} [collection]": ROLE_TO_READ,
    "GET /api/dashboard/{dashboard_id} [private]": OWNER,
    "GET /api/export/report/json/{report_id}/{file_name} [collection]": EDITOR,
    "GET /api/export/report/json/{report_id}/{file_name} [private]": OWNER,
    "GET /api/export/dashboard/json/{dashboard_id}/{file_name} [collection]": EDITOR,
    "GET /api/export/dashboard/json/{dashboard_id}/{file_name} [private]": OWNER,
    "GET /api/export/collection/json/{collection_id}/{file_name}": EDITOR,
    "POST /api/public/export/report/definition/json [collection]": public(200),
    "POST /api/public/export/report/definition/json [private]": public(403),
    "POST /api/public/export/dashboard/definition/json [collection]": public(200),
    "POST /api/public/export/dashboard/definition/json [private]": public(403),
    "POST /api/public/export/collection/definition/json": public(200),
    "GET /api/public/report": public(200),
    "GET /api/public/dashboard": public(200),
    "DELETE /api/public/report/{report_id} [collection]": public(204),
    "DELETE /api/public/report/{report_id} [private]": public(403),
    "DELETE /api/public/dashboard/{dashboard_id} [collection]": public(204),
    "DELETE /api/public/dashboard/{dashboard_id} [private]": public(403),
    # import: superusers with the editor role in the target collection; the public API into any
    "POST /api/import": EDITOR,
    "POST /api/public/import": public(200),
    # authoring: the editor role in the collection, or the owner of a private entity
    "POST /api/report/process/single": EDITOR,
    "POST /api/report/decision/single": EDITOR,
    "POST /api/report/process/combined": EDITOR,
    "POST /api/dashboard": EDITOR,
    "PUT /api/report/{report_id} [collection]": EDITOR_CHANGES,
    "PUT /api/report/{report_id} [private]": OWNER_CHANGES,
    "DELETE /api/report/{report_id} [collection]": EDITOR_CHANGES,
    "DELETE /api/report/{report_id} [private]": OWNER_CHANGES,
    "PUT /api/dashboard/{dashboard_id} [collection]": EDITOR_CHANGES,
    "PUT /api/dashboard/{dashboard_id} [private]": OWNER_CHANGES,
    "DELETE /api/dashboard/{dashboard_id} [collection]": EDITOR_CHANGES,
    "DELETE /api/dashboard/{dashboard_id} [private]": OWNER_CHANGES,
}

SUPERUSER_GROUP = ["optimize-admins"]
AUTHORIZED = ("demo", "kermit", "vic", "eddie", "olga", "nora")
SCOPE = [{"definitionType": "process", "definitionKey": "invoice", "tenants": [None]},
         {"definitionType": "decision", "definitionKey": "approve", "tenants": [None]}]


def report_data(key: str = "invoice") -> dict:
    return {"definitions": [{"key": key, "versions": ["1"], "tenantIds": [None]}],
            "view": {"properties": ["frequency"]}}


def tile(report_id: str) -> dict:
    return {"id": report_id, "type": "optimize_report", "position": {"x": 0, "y": 0},
            "dimensions": {"width": 4, "height": 2}, "configuration": None}


class World:
    """One installation: a collection (demo manages it, vic views, eddie edits) holding a report and a
    dashboard, olga's private report and dashboard, and what each kind of caller sends."""

    def __init__(self, installation) -> None:
        self.installation = installation
        self.fresh = itertools.count()
        demo = self.headers("demo")
        ok(self.client("catalog").post("/api/definition", headers=demo, json=[
            {"type": "process", "key": "invoice", "version": "1"},
            {"type": "decision", "key": "approve", "version": "1"}]))
        ok(self.client("catalog").post("/api/authorization", headers=demo, json=[
            {"identity": {"id": user, "type": "user"}, "definitionType": kind, "definitionKey": key}
            for user in AUTHORIZED for kind, key in (("process", "invoice"), ("decision", "approve"))]))
        self.collection = self.new_collection()
        self.report = self.new_report("demo", self.collection)
        self.dashboard = self.new_dashboard("demo", self.collection, self.report)
        self.private_report = self.new_report("olga", None)
        self.private_dashboard = self.new_dashboard("olga", None, self.private_report)
        self.report_file = ok(self.client("export").get(f"/api/export/report/json/{self.report}/r.json",
                                                        headers=demo))

    def client(self, service: str):
        return self.installation.app(service).test_client()

    @staticmethod
    def headers(user: str) -> dict[str, str]:
        groups = SUPERUSER_GROUP if user in ("alice", "vic", "eddie", "olga", "nora") else []
        return {"Authorization": f"Bearer {issue_token(TEST_JWT_SECRET, user, groups)}"}

    def caller(self, column: str) -> dict[str, str]:
        now = int(time.time())
        tokens = {
            "none": None,
            "expired": jwt.encode({"sub": "demo", "exp": now - 60}, TEST_JWT_SECRET, "HS256"),
            "foreign": issue_token("another-secret-of-sufficient-length-0123456789", "demo"),
            "static": self.installation.environ["OPTIMIZE_API_ACCESS_TOKEN"],
            "publicJwt": issue_token(TEST_JWT_SECRET, "svc", audience="optimize-public-api"),
        }
        if column in tokens:
            return {"Authorization": f"Bearer {tokens[column]}"} if tokens[column] else {}
        return self.headers({"user": "kermit", "superNoAuth": "alice", "viewer": "vic", "editor": "eddie",
                             "manager": "demo", "owner": "olga", "nonOwner": "nora"}[column])

    def new_collection(self) -> str:
        demo, catalog = self.headers("demo"), self.client("catalog")
        collection = ok(catalog.post("/api/collection", json={"name": "Finance"}, headers=demo))["id"]
        ok(catalog.post(f"/api/collection/{collection}/scope", json=SCOPE, headers=demo), 204)
        roles = [{"identity": {"id": user, "type": "user"}, "role": role}
                 for user, role in (("vic", "viewer"), ("eddie", "editor"), ("zed", "viewer"))]
        ok(catalog.post(f"/api/collection/{collection}/role", json=roles, headers=demo), 204)
        return collection

    def new_report(self, user: str, collection: str | None) -> str:
        return ok(self.client("import").post("/api/report/process/single", headers=self.headers(user), json={
            "name": "Invoices", "collectionId": collection, "data": report_data()}))["id"]

    def new_dashboard(self, user: str, collection: str | None, report: str) -> str:
        return ok(self.client("import").post("/api/dashboard", headers=self.headers(user), json={
            "name": "Overview", "collectionId": collection, "tiles": [tile(report)]}))["id"]

    def request(self, method: str, path: str, target: str) -> tuple[str, object]:
        """(url, JSON body) of one cell; what a cell would destroy is made for it alone."""
        private = target == "private"
        report = self.private_report if private else self.report
        dashboard = self.private_dashboard if private else self.dashboard
        collection = self.collection
        demo, n = self.headers("demo"), next(self.fresh)
        if method == "DELETE" and "{report_id}" in path:
            report = self.new_report("olga" if private else "demo", None if private else collection)
        if method == "DELETE" and "{dashboard_id}" in path:
            dashboard = self.new_dashboard("olga" if private else "demo", None if private else collection,
                                           self.private_report if private else self.report)
        if method == "DELETE" and path.startswith("/api/collection/"):
            collection = self.new_collection()
        key = "invoice"
        if method == "DELETE" and path.startswith("/api/definition/"):
            key = f"gone-{n}"
            ok(self.client("catalog").post("/api/definition", headers=demo,
                                           json=[{"type": "process", "key": key, "version": "1"}]))
        authorization = "user:zed:process:invoice"
        if method == "DELETE" and path.startswith("/api/authorization/"):
            authorization = f"user:zed-{n}:process:invoice"
            ok(self.client("catalog").post("/api/authorization", headers=demo, json=[
                {"identity": {"id": f"zed-{n}", "type": "user"}, "definitionType": "process",
                 "definitionKey": "invoice"}]))
        url = path.format(report_id=report, dashboard_id=dashboard, collection_id=collection,
                          file_name="f.json", definition_type="process", key=key, entry_id="process:invoice",
                          role_id="user:zed", authorization_id=authorization)
        body = {
            "/api/definition": [{"type": "process", "key": "invoice", "version": "1"}],
            "/api/authorization": [{"identity": {"id": "zed", "type": "user"}, "definitionType": "process",
                                    "definitionKey": "invoice"}],
            "/api/collection": {"name": "Finance"},
            "/api/collection/{collection_id}": {"name": "Finance"},
            "/api/collection/{collection_id}/scope": SCOPE[:1],
            "/api/collection/{collection_id}/scope/{entry_id}": {"tenants": [None]},
            "/api/collection/{collection_id}/role": [{"identity": {"id": f"zed-{n}", "type": "user"},
                                                      "role": "viewer"}],
            "/api/collection/{collection_id}/role/{role_id}": {"role": "viewer"},
            "/api/public/export/report/definition/json": [report],
            "/api/public/export/dashboard/definition/json": [dashboard],
            "/api/public/export/collection/definition/json": [collection],
            "/api/import": self.report_file,
            "/api/public/import": self.report_file,
            "/api/report/process/single": {"name": "New", "collectionId": collection, "data": report_data()},
            "/api/report/decision/single": {"name": "New", "collectionId": collection,
                                            "data": report_data("approve")},
            "/api/report/process/combined": {"name": "New", "collectionId": collection, "data": {
                "configuration": {}, "visualization": "bar",
                "reports": [{"id": self.report, "color": "#000"}]}},
            "/api/dashboard": {"name": "New", "collectionId": collection, "tiles": [tile(self.report)]},
            "/api/report/{report_id}": {"name": "Invoices"},
            "/api/dashboard/{dashboard_id}": {"name": "Overview"},
        }.get(path) if method in ("POST", "PUT") else None
        if path in ("/api/import", "/api/public/import", "/api/public/report", "/api/public/dashboard"):
            url += f"?collectionId={collection}"
        return url, body


def ok(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.get_json(silent=True))
    return response.get_json(silent=True)


def rows_of_the_documents(world: World) -> list[tuple[str, str, str, str]]:
    """(service, method, path, target) of every operation the three OpenAPI documents describe."""
    rows = []
    for service in ("catalog", "export", "import"):
        for path, item in world.client(service).get("/openapi.json").json["paths"].items():
            for method in ("get", "post", "put", "delete"):
                if method not in item:
                    continue
                entity_path = any(name in path for name in ("{report_id}", "{dashboard_id}")) or path in {
                    "/api/public/export/report/definition/json",
                    "/api/public/export/dashboard/definition/json"}
                for target in (("collection", "private") if entity_path else ("",)):
                    rows.append((service, method.upper(), path, target))
    return rows


@pytest.fixture(scope="module")
def world(servers):
    installation = start_installation(servers, isolated_names("matrix"))
    yield World(installation)
    installation.close()


def test_every_operation_answers_every_caller_as_the_table_says(world):
    rows = rows_of_the_documents(world)
    keys = {f"{method} {path}" + (f" [{target}]" if target else "") for _, method, path, target in rows}
    assert keys == set(EXPECTED), f"rows to add: {keys - set(EXPECTED)}, gone: {set(EXPECTED) - keys}"

    wrong = []
    for service, method, path, target in rows:
        key = f"{method} {path}" + (f" [{target}]" if target else "")
        for column, expected in zip(COLUMNS, EXPECTED[key], strict=True):
            url, body = world.request(method, path, target)
            kwargs = {"json": body} if body is not None else {}
            response = world.client(service).open(url, method=method, headers=world.caller(column), **kwargs)
            body_json = response.get_json(silent=True)
            if response.status_code >= 400:
                assert isinstance(body_json, dict) and body_json.get("errorCode"), (key, column, body_json)
            if response.status_code != expected:
                wrong.append((key, column, expected, response.status_code,
                              (body_json or {}).get("errorMessage") if isinstance(body_json, dict) else None))
    print(f"matrix: {len(rows)} operations x {len(COLUMNS)} callers = {len(rows) * len(COLUMNS)} cells")
    assert wrong == [], "\n".join(map(str, wrong))
