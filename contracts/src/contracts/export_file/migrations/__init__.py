"""One upgrade step per (entity type, version it starts from), as read in Optimize's upgrade plans."""

from contracts.export_file.migrations import combined_report, dashboard, decision_report, process_report
from contracts.export_file.migrations.step import Step

MIGRATIONS: dict[tuple[str, int], Step] = {
    (entity_type, from_version): step
    for entity_type, steps in (
        ("single_process_report", process_report.STEPS),
        ("single_decision_report", decision_report.STEPS),
        ("combined_report", combined_report.STEPS),
        ("dashboard", dashboard.STEPS),
    )
    for from_version, step in steps.items()
}

# (platform, entity type, version it starts from) -> the step that replaces the common one there.
PLATFORM_MIGRATIONS: dict[tuple[str, str, int], Step] = {
    ("c8", "single_process_report", from_version): step
    for from_version, step in process_report.C8_STEPS.items()
}
