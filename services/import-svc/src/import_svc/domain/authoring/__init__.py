"""Authoring: reports and dashboards created, changed and deleted one at a time."""

from import_svc.domain.authoring.authoring import AskCollectionAccess, Authoring, EditableEntities

__all__ = ["AskCollectionAccess", "Authoring", "EditableEntities"]
