from optimize_runtime.http.app import ReadinessCheck, create_service_app
from optimize_runtime.http.json_body import Blueprint
from optimize_runtime.http.request import (
    current_identity,
    request_id,
    require_entity_editor,
    require_export_import_access,
    require_superuser,
)

__all__ = ["Blueprint", "ReadinessCheck", "create_service_app", "current_identity", "require_entity_editor",
           "require_export_import_access", "require_superuser", "request_id"]
