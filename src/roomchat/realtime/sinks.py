"""Which sink a connection's frames go to: uvicorn's fast path where it is safe, ASGI
otherwise. Which one is chosen is logged at start and counted in /readyz."""

from __future__ import annotations

import logging
from typing import Any

from starlette.websockets import WebSocket

from roomchat.realtime import fastpath
from roomchat.realtime.wire import AsgiSink, FrameSink

log = logging.getLogger(__name__)

FAST = "uvicorn-sansio"
ASGI = "asgi"


class Sinks:
    """Opens each connection's sink, counting which kind it got."""

    def __init__(self) -> None:
        self.opened = {FAST: 0, ASGI: 0}

    def announce(self) -> None:
        """Say at start whether the fast path can be taken."""
        support = fastpath.support()
        versions = ", ".join(f"{k} {v}" for k, v in support.versions.items())
        if support.enabled:
            log.info("broadcast fast path on (%s)", versions)
        else:
            log.warning(
                "broadcast fast path off, every frame goes through ASGI: %s", support.reason
            )

    def open(self, websocket: WebSocket) -> FrameSink:
        sink = sink_for(websocket)
        self.opened[ASGI if type(sink) is AsgiSink else FAST] += 1
        return sink

    def health(self) -> dict[str, Any]:
        support = fastpath.support()
        report: dict[str, Any] = {
            "ok": True,
            "fast_path": support.enabled,
            "sinks_opened": dict(self.opened),
        }
        if not support.enabled:
            report["fast_path_off"] = support.reason
        return report


def sink_for(websocket: WebSocket) -> FrameSink:
    return fastpath.fast_sink(websocket) or AsgiSink(websocket)
