"""Checks of exact JSON types, for the plain checks that spare marshmallow on messages every call sends
(`contracts.events`, `contracts.catalog_rpc`): each says True only for the exact type, so that anything in
doubt goes to the schema."""

from typing import Any


def is_text(value: Any) -> bool:
    return type(value) is str


def is_text_or_null(value: Any) -> bool:
    return value is None or type(value) is str


def are_texts(value: Any) -> bool:
    return type(value) is list and all(type(item) is str for item in value)
