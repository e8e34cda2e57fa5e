"""The broadcast fast path frames text exactly as the websockets library does."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from roomchat.realtime import fastpath
from roomchat.realtime.wire import text_frame_header


@pytest.mark.parametrize("length", [0, 1, 125, 126, 400, 65535, 65536, 70_000])
def test_text_frame_bytes_match_the_websockets_library(length: int) -> None:
    payload = b"x" * length
    reference = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert text_frame_header(length) + payload == reference


def test_the_fast_path_is_on_for_the_versions_it_was_written_for() -> None:
    support = fastpath.support()
    assert support.enabled, support.reason


def test_the_fast_path_is_off_outside_its_versions() -> None:
    support = fastpath.check({**fastpath.SUPPORTED, "uvicorn": ((0, 1), (0, 2))})
    assert not support.enabled
    assert support.reason.startswith("uvicorn ") and "outside 0.1 to before 0.2" in support.reason


@pytest.mark.parametrize(
    ("text", "release"), [("0.54.0", (0, 54, 0)), ("17.4", (17, 4)), ("1.2rc1", (1, 2))]
)
def test_release_numbers(text: str, release: tuple[int, ...]) -> None:
    assert fastpath._release(text) == release
