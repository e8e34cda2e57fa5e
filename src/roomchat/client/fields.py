"""Reading typed fields out of decoded JSON, strictly: a wrong type is an error here,
not a surprise later in the caller's code."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

JSONObject = Mapping[str, Any]


class MalformedData(ValueError):
    """A field is missing or has the wrong type."""


def obj(data: JSONObject, key: str) -> JSONObject:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise MalformedData(f"{key}: expected an object, got {type(value).__name__}")
    return value


def integer(data: JSONObject, key: str) -> int:
    value = data.get(key)
    # bool is an int in Python, never in the protocol
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedData(f"{key}: expected an integer, got {type(value).__name__}")
    return value


def optional_integer(data: JSONObject, key: str) -> int | None:
    return None if data.get(key) is None else integer(data, key)


def text(data: JSONObject, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise MalformedData(f"{key}: expected a string, got {type(value).__name__}")
    return value


def optional_text(data: JSONObject, key: str) -> str | None:
    return None if data.get(key) is None else text(data, key)


def boolean(data: JSONObject, key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise MalformedData(f"{key}: expected a boolean, got {type(value).__name__}")
    return value


def timestamp(data: JSONObject, key: str) -> datetime:
    """An ISO-8601 UTC time (``...Z``) as an aware datetime."""
    raw = text(data, key)
    try:
        return datetime.fromisoformat(raw)
    except ValueError as bad:
        raise MalformedData(f"{key}: not an ISO-8601 time") from bad


def optional_timestamp(data: JSONObject, key: str) -> datetime | None:
    return None if data.get(key) is None else timestamp(data, key)


def integers(data: JSONObject, key: str) -> tuple[int, ...]:
    values = data.get(key)
    if not isinstance(values, list):
        raise MalformedData(f"{key}: expected a list, got {type(values).__name__}")
    return tuple(integer({key: value}, key) for value in values)


def objects(data: JSONObject, key: str) -> list[JSONObject]:
    values = data.get(key)
    if not isinstance(values, list):
        raise MalformedData(f"{key}: expected a list, got {type(values).__name__}")
    return [obj({key: value}, key) for value in values]
