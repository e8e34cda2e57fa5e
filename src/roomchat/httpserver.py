"""uvicorn's HTTP protocol with a header read timeout (slowloris).

uvicorn waits for a request's headers as long as the client keeps the socket open
(its keep-alive timeout only covers the quiet time before the first byte), and
nothing in front of the app sees unfinished headers. So this subclass of
uvicorn's httptools protocol arms a timer when a connection opens and whenever it
is ready for the next request, disarms it when the headers are complete (a
WebSocket upgrade included), and closes the connection when it fires.

It overrides three of uvicorn's own callbacks: ``protocol_class()`` checks they
are there, and the serve command falls back to plain uvicorn (with a warning)
when they are not, rather than run a protocol it cannot vouch for.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

_HOOKS = ("connection_made", "connection_lost", "on_headers_complete", "on_response_complete")


def protocol_class(header_timeout_s: float) -> type[asyncio.Protocol] | None:
    """The httptools protocol with a header timeout, or None where it cannot be built."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # httptools is not installed
        return None
    if not all(callable(getattr(HttpToolsProtocol, hook, None)) for hook in _HOOKS):
        return None

    class HeaderTimeoutProtocol(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_timeout_s, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                log.debug("closing a connection that sent no complete headers in time")
                self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # Ready for the next request on this connection: its headers get the same time.
            if not self.transport.is_closing() and not self.pipeline:
                self._arm()

    return HeaderTimeoutProtocol
