"""How a place inside an export file is named in error messages: `[3].data.definitions[0].key`.

List positions are `[n]`, object keys are `.key`; a key that would read ambiguously (dots, brackets,
quotes, blanks, control characters, empty) is written as `["a.b"]`. Paths given for a whole file
start with the entity's position (`[3].name`); paths for one entity start at its fields (`name`).
"""

import json
import re
from collections.abc import Iterable

_PLAIN_KEY = re.compile(r"[^.\[\]\"'\s\x00-\x1f]+")

PathPart = str | int


def json_path(parts: Iterable[PathPart]) -> str:
    rendered = ""
    for part in parts:
        if isinstance(part, int):
            rendered += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            rendered += f".{part}" if rendered else part
        else:
            rendered += f"[{json.dumps(part)}]"
    return rendered
