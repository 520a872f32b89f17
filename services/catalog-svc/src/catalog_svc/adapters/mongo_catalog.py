"""The catalog in MongoDB: collections `definitions`, `collections` and `authorizations` of the catalog
database. Reads that answer a prerequisite check take one command each, however many references the
check has; writes go through the write gate (serialized on the embedded server), each in one transaction
with a new version stamp (`CatalogVersion`), so that a reader that remembers what it read knows with one
read whether the catalog changed since."""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from bson import ObjectId
from pymongo import ASCENDING, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import PyMongoError

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
VERSION_COLLECTION = "catalog_version"
_VERSION_ID = "catalog"

log = logging.getLogger(__name__)

T = TypeVar("T")


class CatalogVersion:
    """The catalog's version stamp: one document whose `stamp` every catalog write replaces by a new
    ObjectId in the transaction of its change, written after the change (on the embedded server, which
    shows uncommitted writes, a reader that sees the new stamp sees the change too). A stamp is never
    used twice, so one that a rolled-back write took away never comes back. Whoever read the catalog
    after reading stamp S may use what it read for as long as the stamp is still S."""

    def __init__(self, db: Database, gate: WriteGate) -> None:
        self.documents = db[VERSION_COLLECTION]
        self.gate = gate

    def ensure(self) -> None:
        """The stamp's document exists before any write changes it inside a transaction."""
        with self.gate.hold():
            self.documents.update_one({"_id": _VERSION_ID}, {"$setOnInsert": {"stamp": ObjectId()}},
                                      upsert=True)

    def stamp(self) -> ObjectId | None:
        """The current stamp, in one command; None when there is none (nothing may be remembered). The
        find command itself: a cursor for the one document costs the worker a third more CPU."""
        found = self.documents.database.command(
            {"find": self.documents.name, "filter": {"_id": _VERSION_ID}, "limit": 1, "singleBatch": True})
        batch = found["cursor"]["firstBatch"]
        return batch[0].get("stamp") if batch else None

    def change(self, write: Callable[[ClientSession], T]) -> T:
        """Runs `write(session)` and replaces the stamp, in one transaction through the gate: both or
        neither. `write` may run more than once (a transient error retries the transaction). A change that
        fails replaces the stamp once more after its rollback: on the embedded server a reader may have
        seen its uncommitted writes under the old stamp, and must not go on answering from them."""
        def and_stamp(session: ClientSession) -> T:
            result = write(session)
            self._replace(session)
            return result

        try:
            with self.gate.session(self.documents.database.client) as session:
                return session.with_transaction(and_stamp)
        except BaseException:
            self._replace_after_rollback()
            raise

    def _replace(self, session: ClientSession | None = None) -> None:
        self.documents.update_one({"_id": _VERSION_ID}, {"$set": {"stamp": ObjectId()}}, upsert=True,
                                  session=session)

    def _replace_after_rollback(self) -> None:
        try:
            with self.gate.hold():
                self._replace()
        except PyMongoError as error:  # the store is down: the caller gets the change's own error
            log.warning("could not replace the catalog's version stamp after a failed change: %r", error)


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
    def __init__(self, db: Database, version: CatalogVersion) -> None:
        self.documents = db.definitions
        self.version = version

    def register(self, definitions: Iterable[tuple[Definition, str | None]]) -> int:
        """Registers or updates deployments with their XML; returns how many were given."""
        writes = [
            UpdateOne({"_id": d.id}, {"$set": _definition_document(d, xml)}, upsert=True)
            for d, xml in definitions
        ]
        if writes:
            self.version.change(lambda session: self.documents.bulk_write(writes, ordered=False,
                                                                          session=session))
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
        return self.version.change(lambda session: self.documents.delete_many(query, session=session)
                                   .deleted_count)


class CollectionStore:
    def __init__(self, db: Database, version: CatalogVersion, outbox: Outbox) -> None:
        self.documents = db.collections
        self.version = version
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
        document = _collection_document(collection, collection.revision)
        self.version.change(lambda session: self.documents.insert_one(document, session=session))

    def save(self, collection: Collection) -> Collection:
        """Writes the collection if nobody changed it since it was read; raises StaleCollection otherwise."""
        revision = collection.revision + 1

        def save(session: ClientSession) -> None:
            written = self.documents.replace_one({"_id": collection.id, "revision": collection.revision},
                                                 _collection_document(collection, revision), session=session)
            if written.matched_count != 1:
                raise StaleCollection(collection.id)  # aborts the transaction: the stamp stays

        self.version.change(save)
        return replace(collection, revision=revision)

    def put(self, collection: Collection) -> None:
        """Creates or replaces the collection whatever its revision (seeding)."""
        document = _collection_document(collection, collection.revision + 1)
        self.version.change(lambda session: self.documents.replace_one({"_id": collection.id}, document,
                                                                       upsert=True, session=session))

    def delete(self, collection_id: str, events: Sequence[dict] = ()) -> bool:
        """Deletes the collection and records `events` in the outbox in the same transaction: both or
        neither. Whether there was such a collection (no event is recorded when there was none)."""
        def delete(session) -> bool:
            deleted = self.documents.delete_one({"_id": collection_id}, session=session).deleted_count == 1
            if deleted:
                self.outbox.record(events, session=session)
            return deleted

        return self.version.change(delete)


class AuthorizationStore:
    def __init__(self, db: Database, version: CatalogVersion) -> None:
        self.documents = db.authorizations
        self.version = version

    def grant(self, authorizations: Sequence[Authorization]) -> list[Authorization]:
        """Adds each authorization's tenants to what its identity already has for that type and key (one
        document per identity, type and key); nothing is taken away. Returns them as they now stand."""
        def grant(session: ClientSession) -> None:
            for authorization in authorizations:
                self._add_tenants(authorization, session)

        self.version.change(grant)
        ids = list(dict.fromkeys(a.id for a in authorizations))
        found = {d["_id"]: _authorization(d) for d in self.documents.find({"_id": {"$in": ids}})}
        return [found[authorization_id] for authorization_id in ids if authorization_id in found]

    def _add_tenants(self, authorization: Authorization, session: ClientSession) -> None:
        """The union of the stored tenants and the granted ones, read and written in the caller's
        transaction (a concurrent grant on real MongoDB is a write conflict, and the transaction is tried
        again). Not `$addToSet`: the embedded server adds a null that is already there."""
        stored = self.documents.find_one({"_id": authorization.id}, session=session)
        if stored is None:
            self.documents.insert_one({**_authorization_document(authorization), "revision": 1},
                                      session=session)
            return
        tenants = list(dict.fromkeys([*stored.get("tenants", []), *authorization.tenants]))
        self.documents.update_one({"_id": authorization.id},
                                  {"$set": {"tenants": tenants, "revision": stored.get("revision", 0) + 1}},
                                  session=session)

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
        def revoke(session: ClientSession) -> bool:
            if tenants is None:
                deleted = self.documents.delete_one({"_id": authorization_id}, session=session)
                return deleted.deleted_count == 1
            pulled = {"$pull": {"tenants": {"$in": list(tenants)}}, "$inc": {"revision": 1}}
            return self.documents.update_one({"_id": authorization_id}, pulled,
                                             session=session).matched_count == 1

        return self.version.change(revoke)


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
