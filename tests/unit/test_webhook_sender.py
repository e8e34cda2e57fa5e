"""One delivery's bounds (webhooks/sender.py), against real sockets: a host that never
accepts the connection fails after the connect timeout, not the whole request timeout."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from roomchat.webhooks.addresses import AddressPolicy
from roomchat.webhooks.sender import Sender


@contextmanager
def not_accepting() -> Iterator[int]:
    """A port whose listen backlog is full: the kernel drops further connection
    attempts (SYNs), so a client's connect neither succeeds nor fails. Its port."""
    listener = socket.socket()
    filler = socket.socket()
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        filler.connect(("127.0.0.1", port))  # takes the one place in the backlog
        yield port
    finally:
        filler.close()
        listener.close()


async def test_a_host_that_never_accepts_fails_after_the_connect_timeout() -> None:
    sender = Sender(
        AddressPolicy.parse("127.0.0.0/8"), timeout_s=10, connect_timeout_s=0.3, concurrency=1
    )
    try:
        with not_accepting() as port:
            started = time.monotonic()
            result = await sender.post(f"http://127.0.0.1:{port}/hook", {}, b"{}")
            took = time.monotonic() - started
    finally:
        await sender.close()
    assert (result.outcome, result.error) == ("failed", "connect timed out")
    assert took < 5  # the request timeout (10 s) did not have to run out
