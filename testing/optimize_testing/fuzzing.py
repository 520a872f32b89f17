"""Hypothesis strategies the property-based tests share: any JSON value, and a JSON value mutated anywhere."""

import json
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

JSON_SCALARS = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
                | st.text(max_size=20))
JSON = st.recursive(JSON_SCALARS, lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=20)


def mutated_anywhere(draw, value: Any, mutations: st.SearchStrategy[int]) -> Any:
    """A copy of `value` with as many mutations as `mutations` draws, each at a node reached by a random
    walk from the top: the node replaced by any JSON, removed from its object, or given a new key."""
    copy = json.loads(json.dumps(value))
    for _ in range(draw(mutations)):
        node, path = copy, []
        while isinstance(node, dict | list) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            path.append((node, key))
            node = node[key]
        if not path:
            continue
        parent, key = path[-1]
        action = draw(st.sampled_from(("replace", "remove", "add")))
        if action == "replace":
            parent[key] = draw(JSON)
        elif action == "remove" and isinstance(parent, dict):
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(JSON)
    return copy


_REMOVED = object()


def mutated_everywhere(value: Any, odd_values: list, *, unknown_key: str | None = None,
                       remove_items: bool = True) -> Iterator[Any]:
    """Copies of `value`, each changed in one place: every dict key (and `unknown_key` in every dict, when
    given) and every list item set to each of `odd_values` or removed (a list item only when
    `remove_items`), places taken from the top down."""
    for path in _places(value, unknown_key):
        for replacement in [*odd_values, _REMOVED]:
            copy = json.loads(json.dumps(value))
            parent = copy
            for step in path[:-1]:
                parent = parent[step]
            if replacement is not _REMOVED:
                parent[path[-1]] = replacement
            elif isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif remove_items:
                del parent[path[-1]]
            else:
                continue
            yield copy


def _places(value: Any, unknown_key: str | None, at: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict):
        for key in [*value, *([unknown_key] if unknown_key is not None else [])]:
            yield (*at, key)
            if key in value:
                yield from _places(value[key], unknown_key, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*at, index)
            yield from _places(item, unknown_key, (*at, index))
