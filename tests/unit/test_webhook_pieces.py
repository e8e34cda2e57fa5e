"""The pieces of webhook delivery on their own: where a URL may lead (a resolver the
test controls, so DNS rebinding can be played), when a failing endpoint is retried or
disabled, what a receiver gets and how it is signed."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from standardwebhooks.webhooks import Webhook as Verifier
from standardwebhooks.webhooks import WebhookVerificationError

from roomchat.domain.models import Webhook
from roomchat.domain.webhooks import (
    RetryPolicy,
    new_secret,
    signing_secrets,
    webhook_body,
)
from roomchat.store.webhooks import LoggedEvent
from roomchat.webhooks.addresses import AddressPolicy, RefusedAddress
from roomchat.webhooks.sender import signature_headers

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Dns:
    """Answers each lookup with the next of its answers (the last one sticks)."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.lookups = 0

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        answer = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        return answer


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared (CGNAT)
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
    ],
)
async def test_special_addresses_are_refused(address: str) -> None:
    policy = AddressPolicy.parse("", Dns([address]))
    with pytest.raises(RefusedAddress):
        await policy.target("https://hooks.example.com/x")


async def test_a_public_address_is_used_as_resolved() -> None:
    policy = AddressPolicy.parse("", Dns(["93.184.215.14"]))
    target = await policy.target("https://hooks.example.com:8443/x")
    assert (target.host, target.port, target.address) == (
        "hooks.example.com",
        8443,
        "93.184.215.14",
    )


async def test_every_resolved_address_must_be_allowed() -> None:
    policy = AddressPolicy.parse("", Dns(["93.184.215.14", "127.0.0.1"]))
    with pytest.raises(RefusedAddress):
        await policy.target("http://hooks.example.com/x")


async def test_rebinding_after_registration_is_caught_at_delivery() -> None:
    dns = Dns(["93.184.215.14"], ["127.0.0.1"])
    policy = AddressPolicy.parse("", dns)
    await policy.check("http://rebind.example.com/x")  # registration: public
    with pytest.raises(RefusedAddress):
        await policy.target("http://rebind.example.com/x")  # delivery: loopback now
    assert dns.lookups == 2  # resolved again, not remembered


async def test_the_operator_allows_networks() -> None:
    policy = AddressPolicy.parse("127.0.0.0/8, 10.20.0.0/16", Dns(["10.20.3.4"]))
    assert (await policy.target("http://internal/x")).address == "10.20.3.4"
    assert policy.allows(_ip("127.0.0.9"))
    assert not policy.allows(_ip("10.21.0.1"))
    assert not policy.allows(_ip("::1"))  # IPv6 loopback is not in 127.0.0.0/8
    with pytest.raises(ValueError):
        AddressPolicy.parse("10.0.0.0/33")


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    async def nothing(host: str, port: int) -> Sequence[str]:
        raise OSError("no such host")

    with pytest.raises(RefusedAddress, match="does not resolve"):
        await AddressPolicy.parse("", nothing).target("http://nowhere.example/x")


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


def _webhook(**changes: object) -> Webhook:
    base = {
        "id": 1,
        "workspace_id": 2,
        "url": "https://hooks.example.com/x",
        "events": ("new_room_chat_message",),
        "secret": new_secret(),
        "previous_secret": None,
        "previous_secret_expires_at": None,
        "enabled": True,
        "disabled_reason": None,
        "failing_since": None,
        "failures": 0,
        "next_attempt_at": None,
        "created_by": 3,
        "created_at": NOW,
    }
    return Webhook(**{**base, **changes})  # type: ignore[arg-type]


def test_retries_back_off_doubling_up_to_the_cap_then_disable() -> None:
    policy = RetryPolicy(backoff_initial_s=5, backoff_max_s=60, retry_window_s=3600)
    webhook = _webhook()
    waits = []
    now = NOW
    for _ in range(6):
        state = policy.after_failure(webhook, now)
        assert state.disabled_reason is None and state.failing_since == NOW
        assert state.next_attempt_at is not None
        waits.append((state.next_attempt_at - now).total_seconds())
        webhook = _webhook(failures=state.failures, failing_since=state.failing_since)
    assert waits == [5, 10, 20, 40, 60, 60]
    later = policy.after_failure(webhook, NOW + timedelta(hours=1))
    assert later.disabled_reason is not None and later.next_attempt_at is None
    assert "7 failed attempts" in later.disabled_reason


def test_the_body_carries_the_broadcast_data_as_stored() -> None:
    data = b'{"id":9,"message_text":"caf\xc3\xa9 \\u2028","seq":4}'
    event = LoggedEvent(7, 4, "new_room_chat_message", data, NOW)
    body = webhook_body(2, event)
    parsed = orjson.loads(body)
    assert parsed == {
        "id": "evt_7_4",
        "type": "new_room_chat_message",
        "workspace_id": 2,
        "room_id": 7,
        "seq": 4,
        "created_at": "2026-11-27T12:00:00Z",
        "data": orjson.loads(data),
    }
    assert body.endswith(b',"data":' + data + b"}")


def test_signatures_verify_with_the_standard_library_and_both_secrets_while_rotating() -> None:
    old, new = new_secret(), new_secret()
    rotating = _webhook(
        secret=new, previous_secret=old, previous_secret_expires_at=NOW + timedelta(hours=1)
    )
    body = b'{"id":"evt_1_1"}'
    now = datetime.now(UTC)
    headers = signature_headers("evt_1_1", now, body, signing_secrets(rotating, NOW))
    assert headers["webhook-id"] == "evt_1_1"
    for secret in (old, new):
        assert Verifier(secret).verify(body, headers) == {"id": "evt_1_1"}
    with pytest.raises(WebhookVerificationError):
        Verifier(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Verifier(new).verify(body + b" ", headers)
    expired = signing_secrets(rotating, NOW + timedelta(hours=2))
    assert expired == [new]


def test_the_docs_verification_without_the_library_accepts_ours_and_only_ours() -> None:
    """docs/integration.md's stdlib check, run as written, on what roomchat signs."""
    docs = (Path(__file__).parents[2] / "docs" / "integration.md").read_text()
    start = docs.index("import base64, hashlib, hmac, time")
    code = docs[start : docs.index("```", start)]
    namespace: dict[str, Any] = {}
    exec(compile(code, "integration.md", "exec"), namespace)
    verified = namespace["verified"]
    old, new = new_secret(), new_secret()
    body = b'{"id":"evt_3_9","data":{"message_text":"caf\xc3\xa9"}}'
    headers = signature_headers("evt_3_9", datetime.now(UTC), body, [new, old])
    assert verified(new, body, headers) and verified(old, body, headers)
    assert not verified(new_secret(), body, headers)
    assert not verified(new, body + b" ", headers)
    stale = signature_headers("evt_3_9", datetime.now(UTC) - timedelta(minutes=10), body, [new])
    assert not verified(new, body, stale)
