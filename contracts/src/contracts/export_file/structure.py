"""The raw shape of an entity whatever its type: checks of nesting depth, unsafe keys and values that
cannot be stored or written as JSON again, and copies.

The checks are iterative, so a hostile file nested 100,000 levels deep is reported, not a crash.
"""

import math
import re
import sys
from typing import Any

from contracts.export_file.json_path import PathPart
from contracts.export_file.versions import MAX_NESTING_DEPTH

Location = tuple[PathPart, ...]
_CONTAINERS = (dict, list)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# json.loads joins an escaped surrogate pair into one character, so any surrogate left is a lone one.
_SURROGATE = re.compile("[\ud800-\udfff]")
LONE_SURROGATE = "Text must not contain a lone surrogate (\\ud800-\\udfff): it cannot be stored."


def _has_surrogate(text: str) -> bool:
    # isascii() is free in CPython (a flag of the string), and almost every text in a file is ASCII.
    return not text.isascii() and _SURROGATE.search(text) is not None


def scalar_problem(value: Any) -> str | None:
    """Why MongoDB could not store a JSON scalar, or JSON could not say it again; None when it can."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if _INT64_MIN <= value <= _INT64_MAX else "Numbers must fit in 64 bits."
    if isinstance(value, float):
        return None if math.isfinite(value) else "Numbers must be finite."
    if isinstance(value, str) and _has_surrogate(value):
        return LONE_SURROGATE
    return None


def _children(node: Any) -> list[tuple[PathPart, Any]]:
    if isinstance(node, dict):
        return list(node.items())
    if isinstance(node, list):
        return list(enumerate(node))
    return []


def structurally_sound(value: Any, max_array_length: int | None = None) -> bool:
    """Whether nothing is nested too deeply and every key is safe (and, given `max_array_length`, no array
    is longer): the common case, checked without building a location for every node (that cost more than
    the rest of reading a file). The exact JSON types (str, dict, list, int, float) are told apart first, by
    type; anything else takes the general checks."""
    longest = sys.maxsize if max_array_length is None else max_array_length
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    push, search = stack.append, _SURROGATE.search
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            for key in node:
                if type(key) is str and key[:1] != "$" and "\x00" not in key and key.isascii():
                    continue
                if not _safe_key(key) or _has_surrogate(key):
                    return False
            children = node.values()
        else:
            if len(node) > longest:
                return False
            children = node
        if children and depth > MAX_NESTING_DEPTH:
            return False
        deeper = depth + 1
        for child in children:
            kind = type(child)
            if kind is str:
                if not child.isascii() and search(child) is not None:
                    return False
            elif kind is dict or kind is list:
                push((child, deeper))
            elif kind is int:
                if not _INT64_MIN <= child <= _INT64_MAX:
                    return False
            elif kind is float:
                if not math.isfinite(child):
                    return False
            elif child is None or kind is bool:
                continue
            elif isinstance(child, dict | list):
                push((child, deeper))
            elif scalar_problem(child) is not None:
                return False
    return True


def too_deep_at(value: Any, at: Location = ()) -> Location | None:
    """The first container nested deeper than MAX_NESTING_DEPTH, or None."""
    stack = [(value, at, 1)]
    while stack:
        node, location, depth = stack.pop()
        children = _children(node)
        if not children:
            continue
        if depth > MAX_NESTING_DEPTH:
            return location
        stack.extend((child, (*location, key), depth + 1) for key, child in children)
    return None


def _safe_key(key: object) -> bool:
    return isinstance(key, str) and not key.startswith("$") and "\x00" not in key


def unsafe_keys(value: Any, at: Location = ()) -> list[Location]:
    """Object keys that MongoDB would treat as operators or truncate (`$...`, NUL), or that are no strings.

    Only call on a value that `too_deep_at` accepted.
    """
    found = []
    stack = [(value, at)]
    while stack:
        node, location = stack.pop()
        if isinstance(node, dict):
            found.extend((*location, str(key)) for key in node if not _safe_key(key))
        # Reversed, so that keys come out in document order.
        stack.extend(((child, (*location, key)) for key, child in reversed(_children(node))))
    return found


def unstorable_values(value: Any, at: Location = ()) -> list[tuple[Location, str]]:
    """Numbers beyond 64 bits or not finite, and text with lone surrogates (in keys too), in document order.

    Only call on a value that `too_deep_at` accepted.
    """
    found = []
    stack = [(value, at)]
    while stack:
        node, location = stack.pop()
        if isinstance(node, dict):
            found.extend(((*location, key), LONE_SURROGATE) for key in node
                         if isinstance(key, str) and _SURROGATE.search(key))
        elif not isinstance(node, list):
            problem = scalar_problem(node)
            if problem is not None:
                found.append((location, problem))
        stack.extend(((child, (*location, key)) for key, child in reversed(_children(node))))
    return found


def json_copy(value: Any) -> Any:
    """A copy of a JSON value (objects, arrays, scalars) sharing nothing mutable with it, several times
    faster than `copy.deepcopy`. Recursive: only for values nested no deeper than MAX_NESTING_DEPTH."""
    if isinstance(value, dict):  # scalars, most of a file, are taken as they are: no call for each
        return {key: json_copy(child) if isinstance(child, _CONTAINERS) else child
                for key, child in value.items()}
    if isinstance(value, list):
        return [json_copy(child) if isinstance(child, _CONTAINERS) else child for child in value]
    return value
