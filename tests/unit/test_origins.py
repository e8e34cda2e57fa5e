"""The /ws Origin allow-list: listed origins, the server's own, and anything when empty."""

from __future__ import annotations

import pytest

from roomchat.realtime.origins import OriginPolicy, normalise


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("https://Chat.Example.com", "https://chat.example.com"),
        ("https://chat.example.com:443/", "https://chat.example.com"),
        ("http://chat.example.com:8080", "http://chat.example.com:8080"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("null", None),
        ("chat.example.com", None),
        ("ftp://chat.example.com", None),
        ("http://host:99999", None),
    ],
)
def test_normalise(origin: str, expected: str | None) -> None:
    assert normalise(origin) == expected


def test_an_empty_list_allows_any_origin() -> None:
    policy = OriginPolicy.parse("", "http://127.0.0.1:8000")
    assert policy.allows("https://evil.example", "127.0.0.1:8000")
    assert policy.allows(None, None)


def test_a_list_allows_its_origins_and_the_servers_own_only() -> None:
    policy = OriginPolicy.parse(
        " https://app.example.com , http://localhost:3000", "https://chat.example.com/"
    )
    assert policy.allows("https://app.example.com", "chat.example.com")
    assert policy.allows("http://localhost:3000", "chat.example.com")
    assert policy.allows("https://chat.example.com:443", "internal:8000")  # public_base_url
    assert policy.allows("http://10.0.0.5:8000", "10.0.0.5:8000")  # the Host it was reached on
    assert policy.allows("https://chat.internal", "chat.internal:443")
    assert not policy.allows("https://evil.example", "chat.example.com")
    assert not policy.allows("https://app.example.com.evil.example", "chat.example.com")
    assert not policy.allows("http://app.example.com", "chat.example.com")  # scheme differs
    assert not policy.allows("null", "chat.example.com")
    assert not policy.allows("garbage", "chat.example.com")
    assert policy.allows(None, "chat.example.com")  # not a browser


def test_null_passes_only_when_listed() -> None:
    assert OriginPolicy.parse("null,https://a.example").allows("null", "x")
