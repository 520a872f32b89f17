from optimize_runtime.http.app import ReadinessCheck, create_service_app
from optimize_runtime.http.json_body import Blueprint
from optimize_runtime.http.request import (
    current_identity,
    export_import_access_only,
    request_id,
    require_entity_editor,
    require_export_import_access,
    require_superuser,
    superusers_only,
)

__all__ = ["Blueprint", "ReadinessCheck", "create_service_app", "current_identity",
           "export_import_access_only", "require_entity_editor", "require_export_import_access",
           "require_superuser", "request_id", "superusers_only"]
