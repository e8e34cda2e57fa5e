"""IPv6 addresses that carry an IPv4 one (issue 20, item 5): behind NAT64, 6to4 or SIIT
they reach that IPv4 host, so they are judged by it, at registration and at delivery.
DNS is a resolver the test controls; a real receiver shows that a refused delivery
sends nothing."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from roomchat.webhooks.addresses import AddressPolicy, RefusedAddress, Resolver
from roomchat.webhooks.sender import Sender
from tests.support.receiver import receiving

# The forms the issue found registered and delivered to, each reaching 127.0.0.1 or
# 10.0.0.1 (or, site-local, nothing global).
EMBEDDING_INTERNAL = [
    "::7f00:1",  # IPv4-compatible 127.0.0.1
    "::ffff:0:7f00:1",  # IPv4-translated (SIIT) 127.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "64:ff9b::7f00:1",  # NAT64 well-known prefix, 127.0.0.1
    "64:ff9b:1::a00:1",  # NAT64 local-use prefix, 10.0.0.1
    "fec0::1",  # site-local (deprecated)
    "::a9fe:a9fe",  # IPv4-compatible cloud metadata (169.254.169.254)
    "64:ff9b::a9fe:a9fe",  # NAT64 cloud metadata
    "2002:a00:1:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo: client 10.0.0.1
    "::",
]


def answering(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize("address", EMBEDDING_INTERNAL)
async def test_embedded_internal_addresses_are_refused_at_registration(address: str) -> None:
    policy = AddressPolicy.parse("", answering(address))
    assert not policy.allows(ipaddress.ip_address(address))
    with pytest.raises(RefusedAddress):
        await policy.check("https://hooks.example.com/x")


@pytest.mark.parametrize("address", EMBEDDING_INTERNAL)
async def test_embedded_internal_addresses_are_blocked_at_delivery(address: str) -> None:
    """The name resolved to a public address at registration; at delivery it resolves
    to the embedding form: nothing is sent, the attempt is ``blocked``."""
    async with receiving() as receiver:
        answers = iter([["93.184.215.14"], [address]])

        async def rebinding(host: str, port: int) -> Sequence[str]:
            return next(answers)

        policy = AddressPolicy.parse("", rebinding)
        url = f"http://hooks.example.com:{receiver.port}/hook"
        await policy.check(url)
        sender = Sender(policy, timeout_s=2, connect_timeout_s=1, concurrency=1)
        try:
            result = await sender.post(url, {}, b"{}")
        finally:
            await sender.close()
        assert result.outcome == "blocked", result
        assert result.error is not None and "may not reach" in result.error
        assert not receiver.requests


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::808:808",  # NAT64 to 8.8.8.8
        "2002:808:808::1",  # 6to4 of 8.8.8.8
        "::ffff:8.8.8.8",  # IPv4-mapped 8.8.8.8
        "2606:4700:4700::1111",  # plain public IPv6
    ],
)
def test_embedded_public_addresses_are_allowed(address: str) -> None:
    assert AddressPolicy.parse("").allows(ipaddress.ip_address(address))


def test_an_embedded_address_in_an_allowed_network_is_allowed() -> None:
    """The operator's networks count for the IPv4 address inside, as for the address
    itself: an internal receiver behind NAT64 is the same receiver."""
    policy = AddressPolicy.parse("10.20.0.0/16")
    assert policy.allows(ipaddress.ip_address("64:ff9b::a14:304"))  # 10.20.3.4
    assert not policy.allows(ipaddress.ip_address("64:ff9b::a15:1"))  # 10.21.0.1
    # An operator can still allow a whole IPv6 range by its own CIDR.
    assert AddressPolicy.parse("fec0::/10").allows(ipaddress.ip_address("fec0::1"))
