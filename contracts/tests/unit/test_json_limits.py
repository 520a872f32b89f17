"""The longest-array limit: checked without building a location for every container, yet the refusal
names the same array, at the same path, as a walk that builds them. The value count: refused exactly when
the exact count is over the limit, though most bodies are let through by a cheaper bound."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.errors import ServiceError
from contracts.export_file.structure import json_copy
from contracts.json_limits import check_array_lengths, check_value_count, value_count

LIMIT = 3


@pytest.mark.parametrize("value", [None, "text", 7, [], {}, [1, 2, 3], {"a": [{"b": [1, 2, 3]}]}])
def test_values_within_the_limit_pass(value):
    check_array_lengths(value, LIMIT)


@pytest.mark.parametrize(("value", "path"), [
    ([1, 2, 3, 4], ""),
    ({"data": {"filter": [1, 2, 3, 4]}}, "data.filter"),
    ({"tiles": [{"configuration": {"ids": [[1, 2, 3, 4]]}}]}, "tiles[0].configuration.ids[0]"),
    ({"a": [1, 2, 3, 4], "b": {"c": [1, 2, 3, 4, 5]}}, "b.c"),  # depth first, the last pushed first
])
def test_the_refusal_names_the_first_long_array_found(value, path):
    with pytest.raises(ServiceError) as refused:
        check_array_lengths(value, LIMIT)
    body = refused.value.body()
    assert (body["errorCode"], body["limitName"], body["actual"]) == ("payloadTooLarge", "jsonArrayLength",
                                                                      len(_at(value, path)))
    assert body["path"] == path


def test_a_json_copy_shares_no_container_and_keeps_every_scalar():
    original = {"a": [1, {"b": None, "c": [True, 1.5, "x"]}], "d": {}}
    copy = json_copy(original)
    assert copy == original
    assert copy is not original and copy["a"] is not original["a"]
    assert copy["a"][1] is not original["a"][1] and copy["a"][1]["c"] is not original["a"][1]["c"]


def _at(value, path):
    """The array at a path these tests use (dots and [index])."""
    for part in path.replace("[", ".[").split(".") if path else ():
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


JSON_BYTES = st.lists(st.sampled_from([b"[", b"]", b"{", b"}", b",", b":", b'"', b"\\", b'\\"', b'"a,b"',
                                       b'"[{"', b"1", b"null", b" "]), max_size=40).map(b"".join)


@settings(derandomize=True, database=None, max_examples=500, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(body=JSON_BYTES, limit=st.integers(min_value=0, max_value=30))
def test_a_body_is_refused_for_its_values_exactly_when_its_exact_count_is_over_the_limit(body, limit):
    count = value_count(body)
    if count <= limit:
        check_value_count(body, limit)
        check_value_count(bytearray(body), limit)
        return
    with pytest.raises(ServiceError) as refused:
        check_value_count(body, limit)
    assert (refused.value.body()["limitName"], refused.value.body()["actual"]) == ("jsonValues", count)


def test_commas_and_brackets_inside_strings_are_not_counted():
    body = b'[{"xml": "' + b",[{" * 100 + b'"}]'
    assert value_count(body) == 3
    check_value_count(body, 3)
