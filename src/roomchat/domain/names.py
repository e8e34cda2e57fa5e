"""Names people see: usernames, display names, room and workspace names.

A name is what another person reads to decide whom they are talking to, so it must
not carry characters that hide or reorder text (control and format characters,
bidirectional overrides), and a username must not pass for someone else's.
"""

from __future__ import annotations

import re
import unicodedata

USERNAME = re.compile(r"[a-z0-9_.-]{3,32}")

# Categories a name never needs: controls (Cc: NUL, newline, tab...), format
# characters (Cf: RTL/LTR overrides, zero-width joiners...), surrogates and
# unassigned code points, and line/paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}

# ASCII look-alikes folded together, so "a1ice", "alice" and "aIice" are one name.
_CONFUSABLE_SEQUENCES = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_CONFUSABLE_CHARS = str.maketrans("01i|-.", "olll__")


def has_hidden_characters(text: str) -> bool:
    """True when ``text`` holds a character that a reader cannot see or that reorders text."""
    return any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text)


# What draws nothing on its own: other (C: controls, format characters...), marks (M:
# combining accents, variation selectors) and separators (Z: spaces). Letters,
# digits, punctuation and symbols (emoji are symbols) draw something, but for these
# few, letters and a symbol that are blank space: the Hangul fillers, braille blank.
_DRAWS_NOTHING_CATEGORIES = ("C", "M", "Z")
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def renders_as_nothing(text: str) -> bool:
    """True when no character of ``text`` draws anything a reader could see: a zero-width
    joiner or tag characters on their own, a lone combining mark, a Hangul filler."""
    return not any(
        unicodedata.category(ch)[0] not in _DRAWS_NOTHING_CATEGORIES and ch not in _BLANK_LOOKING
        for ch in text
    )


def normalise_username(raw: str) -> str | None:
    """The canonical form of a username (NFKC, lower case), or None when it is not one.

    ``fullmatch``: ``$`` in ``match`` would let "alice\\n" through.
    """
    name = unicodedata.normalize("NFKC", raw).lower()
    return name if USERNAME.fullmatch(name) else None


def username_skeleton(username: str) -> str:
    """What a username looks like: two usernames with one skeleton are confusable."""
    # Characters first, then sequences: "c1ear" must fold to "clear" before "cl" -> "d".
    key = unicodedata.normalize("NFKC", username).casefold().translate(_CONFUSABLE_CHARS)
    for sequence, replacement in _CONFUSABLE_SEQUENCES:
        key = key.replace(sequence, replacement)
    return key


# Bots (API keys: domain/api_keys.py) are named "bot-..."; people cannot take such a
# name, nor one that looks like it ("b0t-", "bot_", "bot."), so a name that reads as a
# bot is one.
BOT_PREFIX = "bot-"


def reads_as_bot(username: str) -> bool:
    return username_skeleton(username).startswith(username_skeleton(BOT_PREFIX))
