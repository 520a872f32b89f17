"""Loads a catalog seed file: `catalog-svc seed FILE.json` or `catalog-svc seed --demo`.

The file is one JSON object, every part optional, in the shapes of the HTTP API:

    {
      "definitions":    [{"type": "process"|"decision", "key", "name", "version": "1", "tenantId": null,
                          "xml": "<bpmn...>"}],
      "collections":    [{"id", "name", "owner",
                          "scope": [{"definitionType", "definitionKey", "tenants": [null]}],
                          "roles": [{"identity": {"id", "type": "user"|"group"}, "role": "manager"}]}],
      "authorizations": [{"identity": {"id", "type"}, "definitionType", "definitionKey": "key" | "*",
                          "tenants": [null, "tenant-1"] | ["*"]}]
    }

Seeding is idempotent: definitions and authorizations are registered or updated; a collection is created
with its fixed `id` (its owner becomes a manager), or, when it exists, gains the scope entries, tenants and
roles of the file that it lacks, keeping whatever was changed since.
"""

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from marshmallow import Schema, ValidationError, fields

from catalog_svc.api.authorizations import authorization_from
from catalog_svc.api.collections import role_from, scope_entry_from
from catalog_svc.api.definitions import definitions_from
from catalog_svc.api.schemas import AuthorizationSchema, DefinitionSchema, RoleSchema, ScopeEntrySchema
from catalog_svc.bootstrap import CatalogWiring
from catalog_svc.domain import collections as rules
from catalog_svc.domain.model import User

DEMO_SEED = "demo_seed.json"


class SeedCollectionSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    owner = fields.String(required=True)
    scope = fields.List(fields.Nested(ScopeEntrySchema), load_default=list)
    roles = fields.List(fields.Nested(RoleSchema), load_default=list)


class SeedSchema(Schema):
    definitions = fields.List(fields.Nested(DefinitionSchema), load_default=list)
    collections = fields.List(fields.Nested(SeedCollectionSchema), load_default=list)
    authorizations = fields.List(fields.Nested(AuthorizationSchema), load_default=list)


class SeedInvalid(ValueError):
    pass


@dataclass(frozen=True)
class SeedSummary:
    definitions: int
    collections: int
    authorizations: int

    def __str__(self) -> str:
        return (f"catalog seeded: {self.definitions} definitions, {self.collections} collections, "
                f"{self.authorizations} authorizations")


def demo_seed_text() -> str:
    return resources.files("catalog_svc").joinpath(DEMO_SEED).read_text(encoding="utf-8")


def seed_file(wiring: CatalogWiring, path: Path | None) -> SeedSummary:
    """Seeds from `path`, or the demo set when it is None."""
    text = demo_seed_text() if path is None else Path(path).read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SeedInvalid(f"not JSON: {error}") from None
    return seed(wiring, document)


def seed(wiring: CatalogWiring, document: object) -> SeedSummary:
    try:
        content = SeedSchema().load(document)
    except ValidationError as error:
        raise SeedInvalid(json.dumps(error.messages)) from None
    wiring.definitions.register(definitions_from(content["definitions"]))
    for item in content["collections"]:
        _seed_collection(wiring, item)
    wiring.authorizations.grant([authorization_from(item) for item in content["authorizations"]])
    return SeedSummary(len(content["definitions"]), len(content["collections"]),
                       len(content["authorizations"]))


def _seed_collection(wiring: CatalogWiring, item: dict) -> None:
    now = datetime.now(UTC)
    owner = User(item["owner"])
    collection = wiring.collections.get(item["id"])
    if collection is None:
        collection = rules.new_collection(item["id"], item["name"], owner, now)
    roles = [role_from(role) for role in item["roles"]]
    missing_roles = [r for r in roles if all(known.identity != r.identity for known in collection.roles)]
    collection = replace(
        collection,
        scope=rules.with_scope_added(collection, (scope_entry_from(e) for e in item["scope"])),
        roles=rules.with_roles_added(collection, missing_roles),
    )
    wiring.collections.put(collection)
