"""The raw shape of an entity whatever its type: checks of nesting depth and unsafe keys, and copies.

The checks are iterative, so a hostile file nested 100,000 levels deep is reported, not a crash.
"""

from typing import Any

from contracts.export_file.json_path import PathPart
from contracts.export_file.versions import MAX_NESTING_DEPTH

Location = tuple[PathPart, ...]


def _children(node: Any) -> list[tuple[PathPart, Any]]:
    if isinstance(node, dict):
        return list(node.items())
    if isinstance(node, list):
        return list(enumerate(node))
    return []


def structurally_sound(value: Any) -> bool:
    """Whether nothing is nested too deeply and every key is safe: the common case, checked without
    building a location for every node (that cost more than the rest of reading a file)."""
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if not all(_safe_key(key) for key in node):
                return False
            children = node.values()
        else:
            children = node
        if children and depth > MAX_NESTING_DEPTH:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
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


def json_copy(value: Any) -> Any:
    """A copy of a JSON value (objects, arrays, scalars) sharing nothing mutable with it, several times
    faster than `copy.deepcopy`. Recursive: only for values nested no deeper than MAX_NESTING_DEPTH."""
    if isinstance(value, dict):
        return {key: json_copy(child) for key, child in value.items()}
    if isinstance(value, list):
        return [json_copy(child) for child in value]
    return value
