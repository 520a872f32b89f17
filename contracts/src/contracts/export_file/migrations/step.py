"""An upgrade step: a change made to a copy of an entity, ending at the next version."""

import copy
import functools
from collections.abc import Callable

Change = Callable[[dict], None]
Step = Callable[[dict], dict]


def upgrade_step(to_version: int) -> Callable[[Change], Step]:
    def as_step(change: Change) -> Step:
        @functools.wraps(change)
        def step(entity: dict) -> dict:
            upgraded = copy.deepcopy(entity)
            change(upgraded)
            upgraded["sourceIndexVersion"] = to_version
            return upgraded

        return step

    return as_step
