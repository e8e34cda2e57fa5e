"""Where webhooks may connect: public addresses, and the networks the operator adds.

A workspace owner chooses the URL, so without a check they could make the server
call its own internals (the database, the metrics port, a cloud metadata service).
Every address a URL's host resolves to is checked, at registration and again at
every delivery, and the delivery connects to the very address that was checked: a
DNS answer that changes in between (rebinding) gains nothing.

An IPv6 address can carry an IPv4 one (IPv4-mapped, -compatible and -translated
forms, 6to4, NAT64, Teredo): behind a translator or tunnel it reaches that IPv4 host,
so it is judged by the IPv4 address inside, as if that had been the answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

RESOLVE_TIMEOUT_S = 5.0
# IPv6 prefixes whose last 32 bits are the IPv4 address a packet to them reaches.
_IPV4_IN_LAST_32_BITS = tuple(
    ipaddress.IPv6Network(prefix)
    for prefix in (
        "::ffff:0:0/96",  # IPv4-mapped: the socket itself speaks IPv4
        "::/96",  # IPv4-compatible (deprecated); :: and ::1 are 0.0.0.0 and 0.0.0.1 here
        "::ffff:0:0:0/96",  # IPv4-translated (SIIT)
        "64:ff9b::/96",  # NAT64, the well-known prefix
    )
)
# Refused whatever they carry: where a local-use NAT64 prefix puts the IPv4 address
# depends on the operator's prefix length (RFC 6052), and site-local addresses are
# deprecated, meaning whatever the local network makes them mean.
_NEVER = tuple(ipaddress.IPv6Network(prefix) for prefix in ("64:ff9b:1::/48", "fec0::/10"))
REFUSED = (
    "the URL's host resolves to an address webhooks may not reach (loopback, private, "
    "link-local or another special range; the operator can allow networks with "
    "ROOMCHAT_WEBHOOK_ALLOWED_NETWORKS)"
)


class RefusedAddress(ValueError):
    """The URL's host resolves to an address webhooks may not reach, or to none."""


async def system_resolver(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 one carries (none for a plain IPv6 address)."""
    found = []
    if any(address in network for network in _IPV4_IN_LAST_32_BITS):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)  # the relay and the (unobfuscated) client
    return found


@dataclass(frozen=True, slots=True)
class Target:
    """A URL and the checked address to connect to for it."""

    url: str
    host: str
    port: int
    address: str


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    allowed: tuple[Network, ...] = ()
    resolver: Resolver = system_resolver

    @classmethod
    def parse(cls, networks: str, resolver: Resolver = system_resolver) -> AddressPolicy:
        """From ROOMCHAT_WEBHOOK_ALLOWED_NETWORKS (ValueError for a malformed CIDR)."""
        allowed = tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in networks.split(",")
            if part.strip()
        )
        return cls(allowed, resolver)

    def allows(self, address: Address) -> bool:
        if any(address in network for network in self.allowed):
            return True  # the operator's own word, for this very address
        if isinstance(address, ipaddress.IPv6Address):
            if any(address in network for network in _NEVER):
                return False
            inside = embedded_ipv4(address)
            if inside:  # 64:ff9b::7f00:1 is 127.0.0.1, allowed networks included
                return all(self.allows(v4) for v4 in inside)
        # is_global is false for loopback, private, link-local, shared (CGNAT),
        # reserved, documentation and unspecified addresses.
        return address.is_global and not address.is_multicast

    async def target(self, url: str) -> Target:
        """Resolve the URL's host; RefusedAddress unless every address is allowed."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_S):
                found = await self.resolver(host, port)
        except (OSError, TimeoutError):
            raise RefusedAddress("the URL's host does not resolve") from None
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
        if not addresses:
            raise RefusedAddress("the URL's host does not resolve")
        # Every one, not just the first: which one a client picks is not ours to rely on.
        if not all(self.allows(a) for a in addresses):
            raise RefusedAddress(REFUSED)
        return Target(url, host, port, str(addresses[0]))

    async def check(self, url: str) -> None:
        await self.target(url)
