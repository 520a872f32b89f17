"""Authoring: reports and dashboards created, changed and deleted one at a time."""

from import_svc.domain.authoring.authoring import Authoring, AuthoringQuestions, EditableEntities

__all__ = ["Authoring", "AuthoringQuestions", "EditableEntities"]
