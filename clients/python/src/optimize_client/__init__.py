"""Python client of the Optimize export and import services, and the optimize-transfer command line."""

from optimize_client.client import Endpoints, ImportedEntity, OptimizeClient, Page
from optimize_client.errors import ApiError, NotAuthenticated, OptimizeError, ServiceUnavailable, Unreachable

__all__ = ["ApiError", "Endpoints", "ImportedEntity", "NotAuthenticated", "OptimizeClient", "OptimizeError",
           "Page", "ServiceUnavailable", "Unreachable"]
