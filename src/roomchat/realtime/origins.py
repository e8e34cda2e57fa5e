"""Which browser pages may open a WebSocket: the ``Origin`` allow-list of /ws.

A browser sends its page's ``Origin`` with every WebSocket handshake and, unlike
for fetch, enforces nothing itself: without a check any site a user visits could
open a socket to this server in the user's name (cross-site WebSocket hijacking).
Clients that are not browsers send no ``Origin``; they are not what the list guards
against, and an empty list (the default) lets every origin through.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def normalise(origin: str) -> str | None:
    """``scheme://host[:port]`` lowercased, without a default port; None if not an origin."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class OriginPolicy:
    """The allow-list (empty: any origin), plus the server's own origins, always allowed."""

    def __init__(self, allowed: list[str], own_origin: str | None = None) -> None:
        self._any = not allowed
        self._allowed = {n for o in allowed if (n := normalise(o))}
        # "null" (sandboxed frames, file: pages) is no URL; it passes only if listed.
        if any(o.strip() == "null" for o in allowed):
            self._allowed.add("null")
        if own_origin and (own := normalise(own_origin)):
            self._allowed.add(own)

    @classmethod
    def parse(cls, comma_separated: str, own_origin: str | None = None) -> OriginPolicy:
        return cls([o for o in comma_separated.split(",") if o.strip()], own_origin)

    def allows(self, origin: str | None, host: str | None) -> bool:
        """May a handshake with this ``Origin`` header, reaching us as ``host``, go on?"""
        if self._any or origin is None:
            return True
        if origin.strip() == "null":
            return "null" in self._allowed
        found = normalise(origin)
        if found is None:
            return False
        if found in self._allowed:
            return True
        # The page was served by this very server, under the name it was reached by.
        return host is not None and found.split("://", 1)[1] == _host(found, host)


def _host(origin: str, host: str) -> str:
    """The Host header in the form ``origin`` uses (the scheme's default port left out)."""
    scheme = origin.split("://", 1)[0]
    host = host.strip().lower()
    default = f":{_DEFAULT_PORTS[scheme]}"
    return host.removesuffix(default)
