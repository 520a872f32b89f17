"""A client of the three services (or of one gateway in front of them): exports, imports, entity lists
with paging, and the catalog calls, on Optimize's paths."""

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from optimize_client.errors import ApiError, Unreachable, api_error

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
DEFAULT_TIMEOUT_S = 30.0
SERVICES = ("catalog", "export", "import")


@dataclass(frozen=True)
class ImportedEntity:
    """One item of an import's answer, in file order."""

    id: str | None  # None in a dry run
    entity_type: str
    source_id: str
    upgraded_from: int | None = None
    warnings: list[str] = field(default_factory=list)
    # mode=overwrite: "created", "updated" (id kept) or "unchanged" (nothing written); None otherwise.
    action: str | None = None

    @classmethod
    def from_json(cls, item: dict) -> "ImportedEntity":
        return cls(item.get("id"), item.get("entityType", ""), item.get("sourceId", ""),
                   item.get("upgradedFrom"), list(item.get("warnings") or []), item.get("action"))


@dataclass(frozen=True)
class Page:
    items: list[dict]
    total: int | None
    next_cursor: str | None


@dataclass(frozen=True)
class Endpoints:
    """Where each service answers: one URL for all three behind a gateway, or one per service."""

    catalog: str
    export: str
    imports: str

    @classmethod
    def of(cls, url: str | None = None, *, catalog: str | None = None, export: str | None = None,
           imports: str | None = None) -> "Endpoints":
        chosen = {"catalog": catalog or url, "export": export or url, "imports": imports or url}
        missing = [name for name, value in chosen.items() if not value]
        if missing:
            raise ValueError(f"No URL for {', '.join(missing)}: give one URL for all services "
                             "(a gateway) or one per service")
        return cls(**{name: value.rstrip("/") for name, value in chosen.items()})


class OptimizeClient:
    """Typed calls on an installation. Errors are raised as ApiError (with Optimize's errorCode, errors,
    validationErrors and definitions) or Unreachable; 503 answers and Retry-After are retried with
    back-off, nothing else is. Each logical import sends one Idempotency-Key, the same on every retry."""

    def __init__(self, url: str | None = None, *, token: str | None = None, catalog_url: str | None = None,
                 export_url: str | None = None, import_url: str | None = None,
                 timeout_s: float = DEFAULT_TIMEOUT_S, max_retries: int = 3, backoff_s: float = 0.5,
                 max_backoff_s: float = 30.0, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.endpoints = Endpoints.of(url, catalog=catalog_url, export=export_url, imports=import_url)
        self.token = token if token is not None else os.environ.get("OPTIMIZE_TOKEN")
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.session = session or requests.Session()
        self._sleep = sleep

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "OptimizeClient":
        """OPTIMIZE_URL (or OPTIMIZE_CATALOG_URL, OPTIMIZE_EXPORT_URL, OPTIMIZE_IMPORT_URL), OPTIMIZE_TOKEN,
        OPTIMIZE_TIMEOUT_S; keyword arguments win."""
        env = os.environ if environ is None else environ
        settings: dict[str, Any] = {
            "url": env.get("OPTIMIZE_URL"), "token": env.get("OPTIMIZE_TOKEN"),
            "catalog_url": env.get("OPTIMIZE_CATALOG_URL"), "export_url": env.get("OPTIMIZE_EXPORT_URL"),
            "import_url": env.get("OPTIMIZE_IMPORT_URL"),
        }
        if env.get("OPTIMIZE_TIMEOUT_S"):
            settings["timeout_s"] = float(env["OPTIMIZE_TIMEOUT_S"])
        settings.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**settings)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "OptimizeClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- export -------------------------------------------------------------------------------------

    def export_report(self, report_id: str) -> list[dict]:
        """The report as an export file (a combined report with its children)."""
        return self._get_json("export", f"/api/export/report/json/{_segment(report_id)}/export.json")

    def export_dashboard(self, dashboard_id: str) -> list[dict]:
        """The dashboard's reports, then the dashboard."""
        return self._get_json("export", f"/api/export/dashboard/json/{_segment(dashboard_id)}/export.json")

    def export_collection(self, collection_id: str) -> list[dict]:
        """Every report and dashboard of the collection as one export file."""
        return self._get_json("export", f"/api/export/collection/json/{_segment(collection_id)}/export.json")

    def export_entities(self, *, reports: list[str] = (), dashboards: list[str] = ()) -> list[dict]:
        """Several reports and dashboards as one file: each entity once, what is shown before what shows
        it (reports first, in the order asked, then dashboards)."""
        return merged_export([self.export_report(r) for r in reports]
                             + [self.export_dashboard(d) for d in dashboards])

    # --- import -------------------------------------------------------------------------------------

    def import_file(self, file: list[dict] | bytes, *, collection_id: str | None = None,
                    dry_run: bool = False, idempotency_key: str | None = None, mode: str | None = None,
                    public: bool = False, overwrite_modified: bool = False) -> list[ImportedEntity]:
        """Import an export file (entities, or the file's bytes unchanged) privately or into a collection.
        `mode` is passed on as the import's `mode` parameter when given: `newCopies` (the default: every
        entity a new copy) or `overwrite` (update what an earlier import of the same entities made in the
        same target; entities changed there since are refused with importConflict unless
        `overwrite_modified`). A dry run answers what the import would do and writes nothing."""
        body = file if isinstance(file, bytes | bytearray) else json.dumps(file).encode()
        params = {"collectionId": collection_id, "dryRun": "true" if dry_run else None, "mode": mode,
                  "overwriteModified": "true" if overwrite_modified else None}
        key = idempotency_key or str(uuid.uuid4())
        path = "/api/public/import" if public else "/api/import"
        response = self._request("import", "POST", path, params=params, data=bytes(body),
                                 headers={"Content-Type": "application/json", IDEMPOTENCY_KEY_HEADER: key})
        return [ImportedEntity.from_json(item) for item in response.json()]

    def dry_run(self, file: list[dict] | bytes, *, collection_id: str | None = None,
                mode: str | None = None, overwrite_modified: bool = False) -> list[ImportedEntity]:
        return self.import_file(file, collection_id=collection_id, dry_run=True, mode=mode,
                                overwrite_modified=overwrite_modified)

    # --- entity lists -------------------------------------------------------------------------------

    def entity_pages(self, collection_id: str | None = None, *, limit: int | None = None) -> Iterator[Page]:
        """The entity list page by page: `limit` and `cursor` go out, `X-Next-Cursor` and `X-Total-Count`
        come back; an answer without a next cursor is the last page."""
        path = f"/api/collection/{_segment(collection_id)}/entities" if collection_id else "/api/entities"
        cursor, seen = None, set()
        while True:
            response = self._request("export", "GET", path, params={"limit": limit, "cursor": cursor})
            total = response.headers.get("X-Total-Count")
            next_cursor = response.headers.get("X-Next-Cursor") or None
            yield Page(response.json(), int(total) if total and total.isdigit() else None, next_cursor)
            if next_cursor is None or next_cursor in seen:
                return
            seen.add(next_cursor)
            cursor = next_cursor

    def entities(self, collection_id: str | None = None, *, limit: int | None = None) -> list[dict]:
        """Every entity the user sees (or those of one collection), all pages."""
        return [item for page in self.entity_pages(collection_id, limit=limit) for item in page.items]

    def report(self, report_id: str) -> dict:
        return self._get_json("export", f"/api/report/{_segment(report_id)}")

    def dashboard(self, dashboard_id: str) -> dict:
        return self._get_json("export", f"/api/dashboard/{_segment(dashboard_id)}")

    # --- catalog ------------------------------------------------------------------------------------

    def definitions(self, **query: str) -> Any:
        return self._get_json("catalog", "/api/definition", params=query)

    def register_definitions(self, definitions: list[dict]) -> Any:
        return self._send_json("catalog", "POST", "/api/definition", definitions)

    def delete_definition(self, definition_type: str, key: str, **query: str) -> None:
        self._request("catalog", "DELETE", f"/api/definition/{_segment(definition_type)}/{_segment(key)}",
                      params=query)

    def collection(self, collection_id: str) -> dict:
        return self._get_json("catalog", f"/api/collection/{_segment(collection_id)}")

    def create_collection(self, name: str) -> dict:
        return self._send_json("catalog", "POST", "/api/collection", {"name": name})

    def delete_collection(self, collection_id: str) -> None:
        self._request("catalog", "DELETE", f"/api/collection/{_segment(collection_id)}")

    def add_scope(self, collection_id: str, entries: list[dict]) -> Any:
        return self._send_json("catalog", "POST", f"/api/collection/{_segment(collection_id)}/scope", entries)

    def add_roles(self, collection_id: str, roles: list[dict]) -> Any:
        return self._send_json("catalog", "POST", f"/api/collection/{_segment(collection_id)}/role", roles)

    def grant_authorizations(self, grants: list[dict]) -> Any:
        return self._send_json("catalog", "POST", "/api/authorization", grants)

    def authorizations(self, **query: str) -> Any:
        return self._get_json("catalog", "/api/authorization", params=query)

    # --- HTTP ---------------------------------------------------------------------------------------

    def _get_json(self, service: str, path: str, params: dict | None = None) -> Any:
        return self._request(service, "GET", path, params=params).json()

    def _send_json(self, service: str, method: str, path: str, body: Any) -> Any:
        response = self._request(service, method, path, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
        return response.json() if response.content else None

    def _base(self, service: str) -> str:
        return {"catalog": self.endpoints.catalog, "export": self.endpoints.export,
                "import": self.endpoints.imports}[service]

    def _request(self, service: str, method: str, path: str, *, params: dict | None = None,
                 data: bytes | None = None, headers: dict | None = None) -> requests.Response:
        url = self._base(service) + path
        sent_headers = {"Accept": "application/json", **(headers or {})}
        if self.token:
            sent_headers["Authorization"] = f"Bearer {self.token}"
        params = {key: value for key, value in (params or {}).items() if value is not None}
        attempt = 0
        while True:
            try:
                response = self.session.request(method, url, params=params, data=data, headers=sent_headers,
                                                timeout=self.timeout_s)
            except requests.Timeout as error:
                raise Unreachable(f"{method} {url}: no answer within {self.timeout_s:g} s") from error
            except requests.ConnectionError as error:
                raise Unreachable(f"{method} {url}: cannot connect ({_reason(error)})") from error
            if response.ok:
                return response
            delay = self._retry_delay(response, attempt)
            if delay is None:
                raise api_error(response.status_code, _json_or_text(response),
                                response.headers.get("X-Request-Id"))
            self._sleep(delay)
            attempt += 1

    def _retry_delay(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before trying again, or None: only 503 and answers with Retry-After retry."""
        retry_after = response.headers.get("Retry-After")
        if attempt >= self.max_retries or (response.status_code != 503 and retry_after is None):
            return None
        backoff = self.backoff_s * 2 ** attempt
        if retry_after is not None and retry_after.strip().isdigit():
            backoff = max(backoff, float(retry_after))
        return min(backoff, self.max_backoff_s)


def merged_export(files: list[list[dict]]) -> list[dict]:
    """Several export files as one: each entity once, reports (in the order met) before dashboards."""
    by_id: dict[str, dict] = {}
    for entity in (entity for file in files for entity in file):
        by_id.setdefault(entity["id"], entity)
    entities = list(by_id.values())
    return ([e for e in entities if e.get("exportEntityType") != "dashboard"]
            + [e for e in entities if e.get("exportEntityType") == "dashboard"])


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def _json_or_text(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _reason(error: Exception) -> str:
    text = str(error)
    return text if len(text) < 200 else text[:200] + "…"


__all__ = ["ApiError", "Endpoints", "ImportedEntity", "OptimizeClient", "Page", "Unreachable"]
