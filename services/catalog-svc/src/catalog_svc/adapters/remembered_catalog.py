"""What the RPC worker read from the catalog, remembered while the catalog's version stamp stays the same.

A check asks the store for the stamp (one command) and answers from what it remembers under that stamp;
only what it has not read yet under it is read from the store. Every catalog write replaces the stamp
in the transaction of its change (`CatalogVersion`), in whichever process it is made, so a revoked
authorization, a deleted definition or a narrowed collection scope counts from the very next check.

Why that is safe: what is remembered under stamp S was read after S was read, so it is at least as new
as the catalog at S; a write acknowledged before a check began has replaced S, so that check reads the
new stamp and forgets everything remembered under S."""

import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

from catalog_svc.adapters.mongo_catalog import (
    AuthorizationStore,
    CatalogVersion,
    CollectionStore,
    DefinitionStore,
)
from catalog_svc.domain.model import Authorization, Collection, Definition, User

T = TypeVar("T")

# Answers remembered under one stamp, at most (then they are forgotten and read again): bounds the
# memory of a worker that many distinct users and files pass through while the catalog does not change.
REMEMBERED_ANSWERS = 10_000


class CatalogAsOf:
    """The catalog's answers under one stamp; each answer is read from the store once."""

    def __init__(self, stamp: Hashable, definitions: DefinitionStore, collections: CollectionStore,
                 authorizations: AuthorizationStore) -> None:
        self.stamp = stamp
        self._definitions = definitions
        self._collections = collections
        self._authorizations = authorizations
        self._answers: dict[Hashable, object] = {}

    @property
    def full(self) -> bool:
        return len(self._answers) >= REMEMBERED_ANSWERS

    def _remembered(self, question: Hashable, read: Callable[[], T]) -> T:
        if self.stamp is None:
            return read()
        try:
            return self._answers[question]  # type: ignore[return-value]
        except KeyError:
            answer = self._answers[question] = read()
            return answer

    def deployments_of(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[Definition]]:
        keys = frozenset(keys)
        return self._remembered(("deployments", keys), lambda: dict(self._definitions.deployments_of(keys)))

    def xml_of(self, definition_ids: Iterable[str]) -> dict[str, str]:
        ids = frozenset(definition_ids)
        return self._remembered(("xml", ids), lambda: self._definitions.xml_of(ids))

    def collection(self, collection_id: str) -> Collection | None:
        return self._remembered(("collection", collection_id), lambda: self._collections.get(collection_id))

    def collections(self, collection_ids: Sequence[str]) -> dict[str, Collection]:
        ids = tuple(collection_ids)
        return self._remembered(("collections", ids), lambda: self._collections.many(ids))

    def with_member(self, user: User) -> list[Collection]:
        return self._remembered(("member", user), lambda: self._collections.with_member(user))

    def authorizations_of(self, user: User, keys: Iterable[str]) -> list[Authorization]:
        keys = frozenset(keys)
        return self._remembered(("authorizations", user, keys),
                                lambda: self._authorizations.of_user(user, keys))


class RememberedCatalog:
    """The catalog as the RPC worker reads it: `now()` once per call, then every read through its answer.
    Safe to share between threads (each call keeps the CatalogAsOf it was given)."""

    def __init__(self, version: CatalogVersion, definitions: DefinitionStore, collections: CollectionStore,
                 authorizations: AuthorizationStore) -> None:
        self._version = version
        self._stores = (definitions, collections, authorizations)
        self._current = CatalogAsOf(None, *self._stores)
        self._lock = threading.Lock()

    def now(self) -> CatalogAsOf:
        """The catalog as of its current stamp (read with one command)."""
        stamp = self._version.stamp()
        with self._lock:
            if self._current.stamp is None or self._current.stamp != stamp or self._current.full:
                self._current = CatalogAsOf(stamp, *self._stores)
            return self._current
