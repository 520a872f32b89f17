"""Fixtures of export-svc's tests: a catalog seeded through its HTTP API, entities made through
import-svc's authoring API, an observer of the installation's events, and an export-svc whose MongoDB
commands and catalog calls are counted."""

import json
import time
from dataclasses import dataclass

import pika
import pytest
from pymongo import MongoClient

from export_svc.app import create_app
from export_svc.config import ExportConfig
from optimize_testing.store_commands import StoreCommands

SUPERUSER = "demo"


def report_data(key: str, definition_type: str = "process", **more) -> dict:
    view = {"entity": "processInstance" if definition_type == "process" else "decisionInstance",
            "properties": ["frequency"]}
    return {"definitions": [{"identifier": "d1", "key": key, "name": key.title(), "displayName": None,
                             "versions": ["1"], "tenantIds": [None]}],
            "view": view, "groupBy": {"type": "none", "value": None}, "visualization": "number",
            "configuration": {"color": "#1991c8", "aggregationTypes": [{"type": "avg", "value": None}]},
            "filter": [], **more}


@dataclass
class Author:
    """Creates entities the way a user does: through import-svc's authoring API."""

    installation: object
    user: str = SUPERUSER

    def _created(self, path: str, body: dict) -> str:
        headers = self.installation.headers(self.user)
        response = self.installation.imports.post(path, json=body, headers=headers)
        assert response.status_code == 200, response.json
        return response.json["id"]

    def process_report(self, name: str = "Invoices", key: str = "invoice",
                       collection_id: str | None = None) -> str:
        return self._created("/api/report/process/single",
                             {"name": name, "description": None, "collectionId": collection_id,
                              "data": report_data(key)})

    def decision_report(self, name: str = "Approvals", key: str = "approve",
                        collection_id: str | None = None) -> str:
        return self._created("/api/report/decision/single",
                             {"name": name, "collectionId": collection_id,
                              "data": report_data(key, "decision")})

    def combined_report(self, children: list[str], name: str = "Both",
                        collection_id: str | None = None) -> str:
        colors = ["#1991c8", "#e01e5a", "#2eb886"]
        return self._created("/api/report/process/combined", {
            "name": name, "collectionId": collection_id,
            "data": {"configuration": {}, "visualization": "bar",
                     "reports": [{"id": child, "color": colors[i % 3]} for i, child in enumerate(children)]}})

    def dashboard(self, tiles: list[dict], name: str = "Overview", collection_id: str | None = None) -> str:
        return self._created("/api/dashboard", {"name": name, "collectionId": collection_id, "tiles": tiles,
                                                "availableFilters": []})

    @staticmethod
    def report_tile(report_id: str, x: int = 0, y: int = 0) -> dict:
        return {"id": report_id, "type": "optimize_report", "position": {"x": x, "y": y},
                "dimensions": {"width": 4, "height": 2}, "configuration": None}

    @staticmethod
    def url_tile(url: str) -> dict:
        return {"id": "", "type": "external_url", "position": {"x": 0, "y": 8},
                "dimensions": {"width": 6, "height": 4}, "configuration": {"external": url}}

    @staticmethod
    def text_tile(text: str) -> dict:
        state = {"root": {"children": [{"children": [{"text": text, "type": "text"}], "type": "paragraph"}],
                          "type": "root"}}
        return {"id": "", "type": "text", "position": {"x": 6, "y": 8},
                "dimensions": {"width": 4, "height": 2}, "configuration": {"text": state}}


@pytest.fixture
def author(installation) -> Author:
    return Author(installation)


@pytest.fixture
def catalog(installation):
    """Definitions `invoice` (process), `approve` (decision) and `payroll` (process); the superuser demo
    may read the first two only."""
    client, headers = installation.catalog, installation.headers(SUPERUSER)
    definitions = [{"type": "process", "key": "invoice", "name": "Invoice", "version": "1"},
                   {"type": "decision", "key": "approve", "name": "Approve", "version": "1"},
                   {"type": "process", "key": "payroll", "name": "Payroll", "version": "1"}]
    assert client.post("/api/definition", json=definitions, headers=headers).status_code == 200
    grants = [{"identity": {"id": SUPERUSER, "type": "user"}, "definitionType": definition_type,
               "definitionKey": key, "tenants": [None]}
              for definition_type, key in (("process", "invoice"), ("decision", "approve"))]
    assert client.post("/api/authorization", json=grants, headers=headers).status_code == 200
    return client


@pytest.fixture
def new_collection(installation):
    """Makes a collection (demo is its manager) with the catalog fixture's definitions in its scope."""

    def make(name: str = "Finance") -> str:
        headers = installation.headers()
        collection_id = installation.catalog.post("/api/collection", json={"name": name},
                                                  headers=headers).json["id"]
        scope = [{"definitionType": definition_type, "definitionKey": key, "tenants": [None]}
                 for definition_type, key in (("process", "invoice"), ("decision", "approve"),
                                              ("process", "payroll"))]
        response = installation.catalog.post(f"/api/collection/{collection_id}/scope", json=scope,
                                              headers=headers)
        assert response.status_code == 204, response.get_data(as_text=True)
        return collection_id

    return make


class EventObserver:
    """A queue bound to the installation's events exchange, for one routing key."""

    def __init__(self, amqp_url: str, exchange: str, routing_key: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(exchange, exchange_type="topic", durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, exchange, routing_key)

    def next_event(self, timeout_s: float = 5.0) -> dict | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            _method, _properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if body is not None:
                return json.loads(body)
            self.connection.sleep(0.05)
        return None

    def close(self) -> None:
        self.connection.close()


@pytest.fixture
def exported_events(installation, names):
    observer = EventObserver(installation.environ["OPTIMIZE_AMQP_URL"], names.events_exchange,
                             "entity.exported")
    yield observer
    observer.close()


@pytest.fixture
def counted_export(installation, servers):
    """export-svc with a MongoDB client that counts commands and an RPC client that counts calls."""
    counter = StoreCommands()
    client = MongoClient(servers.mongodb_uri, tz_aware=True, event_listeners=[counter])
    installation.apps["export"] = create_app(ExportConfig.from_env(installation.environ), mongo=client)
    rpc = installation.apps["export"].extensions["export"].catalog
    calls = []
    call = rpc.call

    def counted_call(method, params, **kwargs):
        calls.append(method)
        return call(method, params, **kwargs)

    rpc.call = counted_call
    return counter, calls
