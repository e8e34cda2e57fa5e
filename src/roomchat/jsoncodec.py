"""The one JSON codec: orjson, with UTC datetimes written as ...Z."""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=_OPTIONS)


loads = orjson.loads
JSONDecodeError = orjson.JSONDecodeError
