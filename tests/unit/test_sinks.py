"""The broadcast fast path frames text exactly as the websockets library does."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from roomchat.realtime.sinks import text_frame_header


@pytest.mark.parametrize("length", [0, 1, 125, 126, 400, 65535, 65536, 70_000])
def test_text_frame_bytes_match_the_websockets_library(length: int) -> None:
    payload = b"x" * length
    reference = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert text_frame_header(length) + payload == reference
