"""What a reaction may be: an emoji (sequences included) or a :short_code:, nothing hidden."""

from __future__ import annotations

import pytest

from roomchat.domain.message_changes import clean_reaction
from roomchat.errors import ChatError, Code


@pytest.mark.parametrize(
    "reaction",
    [
        "👍",
        ":tada:",
        "👩\u200d💻",
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        "❤\ufe0f",
        "x" * 32,
        "+1",
    ],
)
def test_emoji_and_short_codes_are_reactions(reaction: str) -> None:
    assert clean_reaction(reaction) == reaction


@pytest.mark.parametrize(
    "reaction",
    ["", "x" * 33, "two words", " 👍", "\n", "a\x00", "\u202e👍", "\u200b", "👍\u2028"],
)
def test_empty_long_spaced_or_hidden_reactions_are_refused(reaction: str) -> None:
    with pytest.raises(ChatError) as refused:
        clean_reaction(reaction)
    assert refused.value.code is Code.VALIDATION_ERROR


def test_a_reaction_is_stored_nfc() -> None:
    assert clean_reaction("e\u0301") == "\u00e9"
