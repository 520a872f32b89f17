"""Upgrade steps of `combined_report`, version 4 (Optimize 3.3) to 5."""

from contracts.export_file.migrations.changes import describe_when_absent
from contracts.export_file.migrations.step import upgrade_step


@upgrade_step(to_version=5)
def upgrade_4_to_5(report: dict) -> None:
    describe_when_absent(report)


STEPS = {4: upgrade_4_to_5}
