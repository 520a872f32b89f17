"""Upgrade steps of `dashboard`, versions 4 (Optimize 3.3) to 8."""

from contracts.export_file.migrations.changes import describe_when_absent, list_at, rename_date_filters
from contracts.export_file.migrations.step import upgrade_step


@upgrade_step(to_version=5)
def upgrade_4_to_5(dashboard: dict) -> None:
    dashboard.setdefault("refreshRateSeconds", None)
    rename_date_filters(list_at(dashboard, "availableFilters"))


@upgrade_step(to_version=6)
def upgrade_5_to_6(dashboard: dict) -> None:
    dashboard.setdefault("managementDashboard", False)


@upgrade_step(to_version=7)
def upgrade_6_to_7(dashboard: dict) -> None:
    if "reports" in dashboard and "tiles" not in dashboard:
        # Rebuilt rather than popped, so that `tiles` stays where `reports` was in the file.
        renamed = {("tiles" if key == "reports" else key): value for key, value in dashboard.items()}
        dashboard.clear()
        dashboard.update(renamed)
    for tile in list_at(dashboard, "tiles") or []:
        if isinstance(tile, dict) and "type" not in tile:
            configuration = tile.get("configuration")
            external = isinstance(configuration, dict) and configuration.get("external")
            tile["type"] = "external_url" if external else "optimize_report"
    dashboard.setdefault("instantPreviewDashboard", False)


@upgrade_step(to_version=8)
def upgrade_7_to_8(dashboard: dict) -> None:
    describe_when_absent(dashboard)


STEPS = {
    4: upgrade_4_to_5,
    5: upgrade_5_to_6,
    6: upgrade_6_to_7,
    7: upgrade_7_to_8,
}
