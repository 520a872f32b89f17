"""The caller of a request as the catalog's rules see it."""

from flask import current_app

from catalog_svc.bootstrap import CatalogWiring
from catalog_svc.domain.model import User
from optimize_runtime.http import current_identity


def current_user() -> User:
    identity = current_identity()
    return User(identity.user_id, frozenset(identity.groups), identity.superuser)


def catalog() -> CatalogWiring:
    return current_app.extensions["catalog"]
