"""The log handler in both formats: JSON lines with their fields, and a traceback's
secrets redacted in JSON as in text (the JSON formatter formats exc_info itself)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from roomchat import logs

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJlLXNlY3JldA"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield io.StringIO()
    root.handlers, root.level = saved[0], saved[1]


def log_failure(stream: io.StringIO, log_format: str) -> str:
    logs.configure("info", log_format, "inst-1")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    logs.install()
    token = logs.request_id_var.set("req-9")
    try:
        raise ValueError(f"bad token {TOKEN}")
    except ValueError:
        logging.getLogger("roomchat.test").exception("failed with ?token=%s", TOKEN)
    finally:
        logs.request_id_var.reset(token)
    return stream.getvalue()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_traceback_keeps_no_token(captured: io.StringIO, log_format: str) -> None:
    out = log_failure(captured, log_format)
    assert "ValueError" in out and "[redacted]" in out
    assert TOKEN not in out and TOKEN.split(".")[2] not in out


def test_json_lines_carry_their_fields(captured: io.StringIO) -> None:
    (line,) = log_failure(captured, "json").splitlines()
    record = json.loads(line)
    assert record["level"] == "ERROR" and record["logger"] == "roomchat.test"
    assert record["instance"] == "inst-1" and record["request_id"] == "req-9"
    assert record["time"].startswith("20") and "exc_info" in record


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="text or json"):
        logs.configure("info", "xml", "inst-1")


@pytest.mark.parametrize("given", ["a b", "x\nforged line", "", "é", "a" * 65, None, 1.5])
def test_unsafe_request_ids_are_dropped(given: object) -> None:
    assert logs.request_id_of(given) is None


def test_safe_request_ids_are_kept() -> None:
    assert logs.request_id_of("trace-42:a.b_c") == "trace-42:a.b_c"
    assert logs.request_id_of(17) == "17"


API_KEY = "rck_" + "Ab9-_xYz" * 5 + "k2Q"  # the shape of domain/api_keys.py's keys


@pytest.mark.parametrize(
    "line",
    [
        f"Authorization: Bearer {API_KEY}",
        f"GET /ws?token={API_KEY} 403",
        f'{{"key": "{API_KEY}", "name": "bot"}}',
        f"no such key {API_KEY}.",
        f"/api/v1/x?key={API_KEY}&y=1",
    ],
)
def test_an_api_key_is_redacted_wherever_it_appears(line: str) -> None:
    cleaned = logs.redact(line)
    assert "[redacted]" in cleaned
    assert API_KEY not in cleaned and API_KEY[4:20] not in cleaned


@pytest.mark.parametrize("given", ["forged\n2026-01-01 INFO admin logged in", "x" * 65, 3.5])
def test_a_frames_unsafe_request_id_never_reaches_a_line(
    captured: io.StringIO, given: object
) -> None:
    """The gateway stores a frame's request_id as sent; only a safe one is logged."""
    logs.configure("info", "json", "inst-1")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(captured)
    token = logs.request_id_var.set(given)
    try:
        logging.getLogger("roomchat.test").warning("something")
    finally:
        logs.request_id_var.reset(token)
    (line,) = captured.getvalue().splitlines()
    assert "request_id" not in json.loads(line)
