"""Authoring: reports and dashboards created, changed and deleted one at a time."""

from import_svc.domain.authoring.authoring import AskCollectionAccess, Authoring, EntityDocuments

__all__ = ["AskCollectionAccess", "Authoring", "EntityDocuments"]
