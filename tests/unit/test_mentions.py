"""Reading mentions out of a message's text (domain/mentions.py): which names, keyed as
usernames are (case and look-alikes aside), and @room."""

from __future__ import annotations

import pytest

from roomchat.domain.mentions import MAX_NAMED, names_in
from roomchat.domain.names import username_skeleton as key


@pytest.mark.parametrize(
    ("text", "names", "room"),
    [
        ("@bob hi", [(key("bob"), None)], False),
        ("hi @Bob.", [(key("bob."), key("bob"))], False),
        ("ping @ＢＯＢ and @b0b", [(key("bob"), None)], False),  # one name, twice
        ("cc @ann, @cyd_-", [(key("ann"), None), (key("cyd_-"), key("cyd"))], False),
        ("mail ann@example.com or @@bob", [], False),
        ("@ab is too short, @" + "x" * 33 + " too long", [], False),
        ("@room and @ROOM: heads up", [], True),
        ("@room-mates", [(key("room-mates"), None)], False),
        ("no mention", [], False),
    ],
)
def test_names_and_room(text: str, names: list[tuple[str, str | None]], room: bool) -> None:
    assert names_in(text) == (names, room)


def test_at_most_max_named_names_are_read() -> None:
    text = " ".join(f"@user{n:03d}" for n in range(MAX_NAMED + 10))
    found, _ = names_in(text)
    assert [full for full, _ in found] == [key(f"user{n:03d}") for n in range(MAX_NAMED)]
