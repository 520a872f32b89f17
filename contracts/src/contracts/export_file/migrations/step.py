"""An upgrade step: a change made to a copy of an entity, ending at the next version."""

import functools
from collections.abc import Callable

from contracts.export_file.structure import json_copy

Change = Callable[[dict], None]
Step = Callable[[dict], dict]


def upgrade_step(to_version: int) -> Callable[[Change], Step]:
    def as_step(change: Change) -> Step:
        def in_place(entity: dict) -> None:
            change(entity)
            entity["sourceIndexVersion"] = to_version

        @functools.wraps(change)
        def step(entity: dict) -> dict:
            upgraded = json_copy(entity)
            in_place(upgraded)
            return upgraded

        # For `upgrade_entity`, which copies an entity once and then runs every step on that copy.
        step.in_place = in_place
        return step

    return as_step
