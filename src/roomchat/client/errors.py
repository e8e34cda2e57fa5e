"""What the client raises: one base class, so a caller can catch everything of ours."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ClientError(Exception):
    """Base of every error roomchat.client raises."""


class RequestError(ClientError):
    """The server answered a request with an error (the protocol's error catalogue).

    ``code`` is the catalogue's code (``forbidden``, ``validation_error``, ...); an error
    reply means nothing was stored, except ``internal_error`` (see docs/protocol.md).
    """

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details

    @classmethod
    def from_error(cls, error: Any) -> RequestError:
        """From the ``error`` object of a WebSocket reply or a REST body."""
        if not isinstance(error, Mapping):
            return cls("internal_error", f"malformed error: {error!r}")
        return cls(
            str(error.get("code", "internal_error")),
            str(error.get("message", "")),
            error.get("details"),
        )


class ConnectionLost(ClientError):
    """The socket went away before the reply came: the request's outcome is unknown.

    ``Client.send`` retries by itself (its ``client_msg_id`` makes that safe); other
    requests are left to the caller.
    """


class AuthenticationError(ClientError):
    """The server refused our credentials (bad password, a revoked or unusable token).

    Reconnecting cannot help, so the client stops and ``events()`` raises this.
    """


class ClientClosed(ClientError):
    """The client was closed (``close()`` or leaving its ``async with``)."""
