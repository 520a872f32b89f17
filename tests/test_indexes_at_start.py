"""Each service creates the MongoDB indexes its queries need when it starts."""

from pymongo import MongoClient


def _indexed_keys(uri: str, database: str, collection: str) -> set[tuple[str, ...]]:
    """The field lists of a collection's indexes (names differ between servers; the fields do not)."""
    with MongoClient(uri) as client:
        information = client[database][collection].index_information()
    return {tuple(field for field, _ in index["key"]) for index in information.values()}


def test_catalog_and_entity_store_indexes_exist_once_the_services_start(installation, servers, names):
    installation.app("catalog")
    installation.app("import")
    uri = servers.mongodb_uri
    for collection in ("reports", "dashboards"):
        keys = _indexed_keys(uri, names.entities_db, collection)
        assert {("collectionId", "lastModified", "id"), ("owner", "collectionId", "lastModified", "id"),
                ("importId",), ("pending",), ("sourceId", "collectionId")} <= keys
        # Served by a prefix of the compound ones; one more index is one more write per imported entity.
        assert not {("collectionId",), ("owner", "collectionId")} & keys
    assert ("type", "key", "version", "tenantId") in _indexed_keys(uri, names.catalog_db, "definitions")
    assert ("members",) in _indexed_keys(uri, names.catalog_db, "collections")
    assert ("identityType", "identityId") in _indexed_keys(uri, names.catalog_db, "authorizations")
