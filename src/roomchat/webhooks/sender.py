"""One webhook delivery: a signed POST to a checked address, bounded in time.

The request goes to the address ``AddressPolicy`` checked, with the URL's host in
``Host`` and in TLS's server name (the certificate is verified for the host). No
redirect is followed (it could lead anywhere) and no proxy from the environment is
used (it would connect to an address nobody checked). Only the status is read.

Connecting has a bound of its own, shorter than the request's: a host that never
answers the connection gives its slot back soon, while a receiver that is connected
and working still has the whole timeout to answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from standardwebhooks.webhooks import Webhook as Signer

from roomchat.webhooks.addresses import AddressPolicy, RefusedAddress

USER_AGENT = "roomchat-webhooks/1"


@dataclass(frozen=True, slots=True)
class Result:
    outcome: str  # delivered (2xx) | failed | blocked (the address is not allowed)
    response_code: int | None
    error: str | None
    duration_ms: int


def signature_headers(
    message_id: str, timestamp: datetime, body: bytes, secrets: list[str]
) -> dict[str, str]:
    """Standard Webhooks headers: one ``v1,`` signature per secret, space-separated."""
    text = body.decode()
    signatures = " ".join(Signer(secret).sign(message_id, timestamp, text) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }


_Done = Callable[..., Result]


class Sender:
    def __init__(
        self, policy: AddressPolicy, timeout_s: float, connect_timeout_s: float, concurrency: int
    ) -> None:
        self._policy = policy
        self._timeout_s = timeout_s
        self._timeouts = httpx.Timeout(timeout_s, connect=min(connect_timeout_s, timeout_s))
        self._client = httpx.AsyncClient(
            trust_env=False,
            follow_redirects=False,
            timeout=self._timeouts,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            headers={"user-agent": USER_AGENT},
        )

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> Result:
        started = time.monotonic()

        def done(outcome: str, code: int | None = None, error: str | None = None) -> Result:
            return Result(outcome, code, error, int((time.monotonic() - started) * 1000))

        try:
            # In all, resolving included: httpx's timeouts are per read, and a receiver
            # trickling a byte at a time would never meet one.
            async with asyncio.timeout(self._timeout_s):
                return await self._post(url, headers, body, done)
        except TimeoutError:
            return done("failed", error="timed out")

    async def _post(self, url: str, headers: dict[str, str], body: bytes, done: _Done) -> Result:
        try:
            target = await self._policy.target(url)
        except RefusedAddress as exc:
            return done("blocked", error=str(exc)[:256])
        request_url = httpx.URL(url).copy_with(host=target.address)
        authority = target.host if ":" not in target.host else f"[{target.host}]"
        default_port = 443 if request_url.scheme == "https" else 80
        if target.port != default_port:
            authority += f":{target.port}"
        try:
            async with self._client.stream(
                "POST",
                request_url,
                content=body,
                headers={**headers, "host": authority, "content-type": "application/json"},
                extensions={"sni_hostname": target.host},
                timeout=self._timeouts,
            ) as response:
                code = response.status_code
        except httpx.ConnectTimeout:
            return done("failed", error="connect timed out")
        except httpx.TimeoutException:
            return done("failed", error="timed out")
        except httpx.HTTPError as exc:
            # The class only: a message could quote the URL, and with it a token in it.
            return done("failed", error=type(exc).__name__)
        if 200 <= code < 300:
            return done("delivered", code)
        return done("failed", code, f"HTTP {code}")

    async def close(self) -> None:
        await self._client.aclose()
