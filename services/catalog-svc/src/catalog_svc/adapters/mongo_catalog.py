"""The catalog in MongoDB: collections `definitions`, `collections` and `authorizations` of the catalog
database. Reads that answer a prerequisite check take one command each, however many references the
check has; writes go through the write gate (serialized on the embedded server)."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from catalog_svc.domain.collection_admin import StaleCollection
from catalog_svc.domain.model import (
    ANY_KEY,
    Authorization,
    Collection,
    Definition,
    IdentityRef,
    RoleEntry,
    ScopeEntry,
    User,
    version_order,
)
from contracts.catalog_rpc import ProcessVariable
from optimize_runtime.messaging.outbox import Outbox
from optimize_runtime.store.write_gate import WriteGate

# One reply carries every matching document (up to MongoDB's 16 MB per reply), so that the number of
# commands does not grow with the number of references.
WHOLE_RESULT = 100_000
DEFINITION_FIELDS = {"xml": False}


def ensure_indexes(db: Database) -> None:
    db.definitions.create_index(
        [("type", ASCENDING), ("key", ASCENDING), ("version", ASCENDING), ("tenantId", ASCENDING)],
        name="definition_type_key_version_tenant",
    )
    db.collections.create_index([("members", ASCENDING)], name="collection_members")
    db.authorizations.create_index(
        [("identityType", ASCENDING), ("identityId", ASCENDING)], name="authorization_identity"
    )


class DefinitionStore:
    def __init__(self, db: Database, gate: WriteGate) -> None:
        self.documents = db.definitions
        self.gate = gate

    def register(self, definitions: Iterable[tuple[Definition, str | None]]) -> int:
        """Registers or updates deployments with their XML; returns how many were given."""
        writes = [
            UpdateOne({"_id": d.id}, {"$set": _definition_document(d, xml)}, upsert=True)
            for d, xml in definitions
        ]
        if writes:
            with self.gate.hold():
                self.documents.bulk_write(writes, ordered=False)
        return len(writes)

    def deployments_of(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Definition]]:
        """Every deployment (without XML) of the given (type, key) pairs, in one query."""
        keys = set(keys)
        result: dict[tuple[str, str], list[Definition]] = defaultdict(list)
        if not keys:
            return result
        by_type: dict[str, list[str]] = defaultdict(list)
        for definition_type, key in sorted(keys):
            by_type[definition_type].append(key)
        query = {"$or": [{"type": t, "key": {"$in": k}} for t, k in by_type.items()]}
        for document in self.documents.find(query, DEFINITION_FIELDS, batch_size=WHOLE_RESULT):
            definition = _definition(document)
            result[(definition.type, definition.key)].append(definition)
        return result

    def listing(self, definition_type: str | None = None, key: str | None = None) -> list[Definition]:
        query = {name: value for name, value in (("type", definition_type), ("key", key)) if value}
        documents = self.documents.find(query, DEFINITION_FIELDS, batch_size=WHOLE_RESULT)
        return sorted(
            (_definition(d) for d in documents),
            key=lambda d: (d.type, d.key, version_order(d.version), d.tenant_id or ""),
        )

    def xml_of(self, definition_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(definition_ids))
        if not ids:
            return {}
        documents = self.documents.find({"_id": {"$in": ids}}, {"xml": True}, batch_size=WHOLE_RESULT)
        return {d["_id"]: d["xml"] for d in documents if d.get("xml")}

    def delete(
        self,
        definition_type: str,
        key: str,
        version: str | None = None,
        tenant: str | None = None,
        any_tenant: bool = True,
    ) -> int:
        query: dict = {"type": definition_type, "key": key}
        if version is not None:
            query["version"] = version
        if not any_tenant:
            query["tenantId"] = tenant
        with self.gate.hold():
            return self.documents.delete_many(query).deleted_count


class CollectionStore:
    def __init__(self, db: Database, gate: WriteGate, outbox: Outbox) -> None:
        self.documents = db.collections
        self.gate = gate
        self.outbox = outbox

    def get(self, collection_id: str) -> Collection | None:
        document = self.documents.find_one({"_id": collection_id})
        return _collection(document) if document else None

    def many(self, collection_ids: Sequence[str]) -> dict[str, Collection]:
        documents = self.documents.find({"_id": {"$in": list(collection_ids)}}, batch_size=WHOLE_RESULT)
        return {d["_id"]: _collection(d) for d in documents}

    def with_member(self, user: User) -> list[Collection]:
        """Every collection that grants the user a role, directly or through a group."""
        members = [identity.ref_id for identity in user.identities]
        documents = self.documents.find({"members": {"$in": members}}, batch_size=WHOLE_RESULT)
        return sorted((_collection(d) for d in documents), key=lambda c: (c.created, c.id))

    def add(self, collection: Collection) -> None:
        with self.gate.hold():
            self.documents.insert_one(_collection_document(collection, collection.revision))

    def save(self, collection: Collection) -> Collection:
        """Writes the collection if nobody changed it since it was read; raises StaleCollection otherwise."""
        revision = collection.revision + 1
        with self.gate.hold():
            written = self.documents.replace_one(
                {"_id": collection.id, "revision": collection.revision},
                _collection_document(collection, revision),
            )
        if written.matched_count != 1:
            raise StaleCollection(collection.id)
        return replace(collection, revision=revision)

    def put(self, collection: Collection) -> None:
        """Creates or replaces the collection whatever its revision (seeding)."""
        with self.gate.hold():
            self.documents.replace_one(
                {"_id": collection.id}, _collection_document(collection, collection.revision + 1), upsert=True
            )

    def delete(self, collection_id: str, events: Sequence[dict] = ()) -> bool:
        """Deletes the collection and records `events` in the outbox in the same transaction: both or
        neither. Whether there was such a collection (no event is recorded when there was none)."""
        def delete(session) -> bool:
            deleted = self.documents.delete_one({"_id": collection_id}, session=session).deleted_count == 1
            if deleted:
                self.outbox.record(events, session=session)
            return deleted

        with self.gate.session(self.documents.database.client) as session:
            return session.with_transaction(delete)


class AuthorizationStore:
    def __init__(self, db: Database, gate: WriteGate) -> None:
        self.documents = db.authorizations
        self.gate = gate

    def grant(self, authorizations: Sequence[Authorization]) -> list[Authorization]:
        """Adds each authorization's tenants to what its identity already has for that type and key (one
        document per identity, type and key); nothing is taken away. Returns them as they now stand."""
        with self.gate.hold():
            for authorization in authorizations:
                self._add_tenants(authorization)
        ids = list(dict.fromkeys(a.id for a in authorizations))
        found = {d["_id"]: _authorization(d) for d in self.documents.find({"_id": {"$in": ids}})}
        return [found[authorization_id] for authorization_id in ids if authorization_id in found]

    def _add_tenants(self, authorization: Authorization) -> None:
        """The union of the stored tenants and the granted ones, written only if the document is still the
        one read (its revision); a concurrent grant (real MongoDB: the gate is a no-op there) makes us
        read again. Not `$addToSet`: the embedded server adds a null that is already there."""
        for _ in range(10):
            stored = self.documents.find_one({"_id": authorization.id})
            if stored is None:
                try:
                    self.documents.insert_one({**_authorization_document(authorization), "revision": 1})
                    return
                except DuplicateKeyError:
                    continue
            tenants = list(dict.fromkeys([*stored.get("tenants", []), *authorization.tenants]))
            revision = stored.get("revision", 0)
            same = {"_id": authorization.id, "revision": revision} if revision else {
                "_id": authorization.id, "revision": {"$exists": False}}
            if self.documents.update_one(same, {"$set": {"tenants": tenants, "revision": revision + 1}}
                                         ).matched_count:
                return
        raise RuntimeError(f"authorization {authorization.id} kept changing while tenants were added")

    def of_user(self, user: User, keys: Iterable[str] | None = None) -> list[Authorization]:
        """The user's own and their groups' authorizations, for the given keys (and "*") if any: one query."""
        query: dict = {"$or": [{"identityType": "user", "identityId": user.id}]}
        if user.groups:
            query["$or"].append({"identityType": "group", "identityId": {"$in": sorted(user.groups)}})
        if keys is not None:
            query["definitionKey"] = {"$in": sorted({*keys, ANY_KEY})}
        return [_authorization(d) for d in self.documents.find(query, batch_size=WHOLE_RESULT)]

    def listing(self, **filters: str | None) -> list[Authorization]:
        """Filters by identityType, identityId, definitionType and definitionKey; None means any."""
        query = {name: value for name, value in filters.items() if value is not None}
        return sorted(
            (_authorization(d) for d in self.documents.find(query, batch_size=WHOLE_RESULT)),
            key=lambda a: a.id,
        )

    def revoke(self, authorization_id: str, tenants: Sequence[str | None] | None = None) -> bool:
        """Revokes the whole authorization, or only these tenants of it; False when there is none."""
        with self.gate.hold():
            if tenants is None:
                return self.documents.delete_one({"_id": authorization_id}).deleted_count == 1
            pulled = {"$pull": {"tenants": {"$in": list(tenants)}}, "$inc": {"revision": 1}}
            return self.documents.update_one({"_id": authorization_id}, pulled).matched_count == 1


def _definition_document(definition: Definition, xml: str | None) -> dict:
    return {
        "type": definition.type,
        "key": definition.key,
        "version": definition.version,
        "tenantId": definition.tenant_id,
        "name": definition.name,
        "hasXml": bool(xml),
        "xml": xml,
        # registered without variables: what was recorded stays (another registration may not know them)
        **({} if definition.variables is None else
           {"variables": [variable.as_message() for variable in definition.variables]}),
    }


def _definition(document: dict) -> Definition:
    return Definition(
        document["type"],
        document["key"],
        document["version"],
        document.get("tenantId"),
        document.get("name"),
        bool(document.get("hasXml")),
        _variables(document.get("variables")),
    )


def _variables(recorded: list[dict] | None) -> tuple[ProcessVariable, ...] | None:
    return None if recorded is None else tuple(ProcessVariable.from_message(v) for v in recorded)


def _collection_document(collection: Collection, revision: int) -> dict:
    return {
        "_id": collection.id,
        "name": collection.name,
        "owner": collection.owner,
        "created": collection.created,
        "lastModified": collection.last_modified,
        "lastModifier": collection.last_modifier,
        "scope": [
            {
                "definitionType": e.definition_type,
                "definitionKey": e.definition_key,
                "tenants": list(e.tenants),
            }
            for e in collection.scope
        ],
        # Flat fields: the embedded server does not match dotted paths inside $elemMatch.
        "roles": [
            {"identityType": r.identity.type, "identityId": r.identity.id, "role": r.role}
            for r in collection.roles
        ],
        "members": [r.identity.ref_id for r in collection.roles],
        "revision": revision,
    }


def _collection(document: dict) -> Collection:
    return Collection(
        id=document["_id"],
        name=document["name"],
        owner=document["owner"],
        created=document["created"],
        last_modified=document["lastModified"],
        last_modifier=document["lastModifier"],
        scope=tuple(
            ScopeEntry(e["definitionType"], e["definitionKey"], tuple(e["tenants"]))
            for e in document.get("scope", [])
        ),
        roles=tuple(
            RoleEntry(IdentityRef(r["identityType"], r["identityId"]), r["role"])
            for r in document.get("roles", [])
        ),
        revision=document.get("revision", 0),
    )


def _authorization_document(authorization: Authorization) -> dict:
    # _id in the replacement itself: the embedded server does not take it from the filter on upsert.
    return {
        "_id": authorization.id,
        "identityType": authorization.identity.type,
        "identityId": authorization.identity.id,
        "definitionType": authorization.definition_type,
        "definitionKey": authorization.definition_key,
        "tenants": list(authorization.tenants),
    }


def _authorization(document: dict) -> Authorization:
    return Authorization(
        IdentityRef(document["identityType"], document["identityId"]),
        document["definitionType"],
        document["definitionKey"],
        tuple(document["tenants"]),
    )
