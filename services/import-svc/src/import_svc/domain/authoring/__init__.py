"""Authoring: reports and dashboards created, changed and deleted one at a time."""

from import_svc.domain.authoring.authoring import (
    AskCollectionAccess,
    Authoring,
    CollectionAccess,
    EntityDocuments,
)

__all__ = ["AskCollectionAccess", "Authoring", "CollectionAccess", "EntityDocuments"]
