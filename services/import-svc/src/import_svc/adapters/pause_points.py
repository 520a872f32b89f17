"""Named points of a write where a process can be made to wait, so that a crash test kills it exactly
there (`OPTIMIZE_IMPORT_PAUSE_AT`, refused in production; see config.py).

At a configured point the process creates the pause file (exclusively: only the first process to get
there pauses), writes `<pid> <point>` into it, and waits until the file is removed or it is killed.

Points of an import: `claimed` (its record is written, no entity yet), `part-written` (after the first
of several parts of a collection's entities, `entity_store.INSERT_PART_BYTES`), `batch-written` (after the
first collection's entities), `entities-written` (every entity, not yet the commit record), `committed`
(the commit record, the pending markers not yet cleared). Of an authoring write: `authoring-write`
(just before the single-document write)."""

import os
import time
from pathlib import Path

_LONGEST_PAUSE_S = 600


class PausePoints:
    def __init__(self, points: tuple[str, ...] = (), file: Path | None = None) -> None:
        self.points = frozenset(points)
        self.file = file

    def __call__(self, point: str) -> None:
        if point not in self.points or self.file is None:
            return
        try:
            descriptor = os.open(self.file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return
        with os.fdopen(descriptor, "w") as pause_file:
            pause_file.write(f"{os.getpid()} {point}")
        deadline = time.monotonic() + _LONGEST_PAUSE_S
        while self.file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
