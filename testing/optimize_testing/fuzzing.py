"""Hypothesis strategies the property-based tests share: any JSON value, and a JSON value mutated anywhere."""

import json
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
