"""Limits of a JSON request body that keep refusing a hostile one cheap: the number of values is counted
in the raw bytes before anything is parsed (at C speed: strings are blanked, then brackets and commas
counted), so a 3 MB body of a million tiny values is refused without building a million objects; the
longest array is checked right after parsing, before anything walks or validates the values."""

import re
from typing import Any

from contracts.errors import ErrorCode, ServiceError
from contracts.export_file.json_path import json_path

MAX_ARRAY_LENGTH = 10_000  # as many entities as an import file may hold; no report needs a longer list
DEFAULT_MAX_VALUES = 200_000  # a 1 MiB body of ordinary JSON has far fewer; parsing this many costs ~15 MB

_CONTAINERS = (dict, list)  # a tuple: isinstance with it is faster than with `dict | list`
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def too_large(limit_name: str, limit: int, actual: int, what: str, **extra: Any) -> ServiceError:
    return ServiceError(ErrorCode.PAYLOAD_TOO_LARGE, f"The body has {what}; at most {limit} are accepted",
                        f"Limit '{limit_name}' exceeded", limitName=limit_name, limit=limit, actual=actual,
                        **extra)


def value_count(body: bytes) -> int:
    """An upper bound of the JSON values in `body`: one per comma, bracket or brace outside strings."""
    blanked = _STRING.sub(b'""', body)
    return blanked.count(b",") + blanked.count(b"[") + blanked.count(b"{") + 1


def _value_count_bound(body: bytes) -> int:
    """At least `value_count(body)`: the same characters, counted inside strings too (blanking a string
    only takes them away). Several times cheaper: the exact count is made only for a body near the limit."""
    return body.count(b",") + body.count(b"[") + body.count(b"{") + 1


def check_value_count(body: bytes, max_values: int) -> None:
    if _value_count_bound(body) <= max_values:
        return
    count = value_count(body)
    if count > max_values:
        raise too_large("jsonValues", max_values, count, f"about {count} JSON values")


def check_array_lengths(value: Any, max_length: int = MAX_ARRAY_LENGTH) -> None:
    """Refuses the first array (depth first) longer than `max_length`, naming where it is."""
    if _every_array_fits(value, max_length):
        return  # the common case: no location built for every container on the way
    _refuse_first_long_array(value, max_length)


def _every_array_fits(value: Any, max_length: int) -> bool:
    stack = [value] if isinstance(value, _CONTAINERS) else []
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if isinstance(node, dict):
            children = node.values()
        else:
            if len(node) > max_length:
                return False
            children = node
        for child in children:
            if isinstance(child, _CONTAINERS):
                push(child)
    return True


def _refuse_first_long_array(value: Any, max_length: int) -> None:
    stack: list[tuple[Any, tuple]] = [(value, ())]
    while stack:
        node, location = stack.pop()
        if isinstance(node, dict):
            stack.extend((child, (*location, key)) for key, child in node.items()
                         if isinstance(child, dict | list))
        elif isinstance(node, list):
            if len(node) > max_length:
                raise too_large("jsonArrayLength", max_length, len(node),
                                f"an array of {len(node)} values at {json_path(location) or 'the top'}",
                                path=json_path(location))
            stack.extend((child, (*location, index)) for index, child in enumerate(node)
                         if isinstance(child, dict | list))
