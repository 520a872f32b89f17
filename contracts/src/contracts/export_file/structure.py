"""Checks on the raw shape of an entity that hold whatever its type: nesting depth and unsafe keys.

Both walks are iterative, so a hostile file nested 100,000 levels deep is reported, not a crash.
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
