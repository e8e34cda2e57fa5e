"""Receivers that accept and never answer (issue 20, item 3): one workspace's hanging
endpoints hold at most its own budget of request slots, so another workspace's
delivery goes out at once; and an endpoint that keeps timing out waits longer and
longer between attempts before it is disabled. Real servers and real HTTP receivers,
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_webhooks import hooks_path, post, register, setup
from tests.support.client import Api
from tests.support.cluster import until
from tests.support.metrics import scrape, value
from tests.support.receiver import receiving
from tests.support.server import ServerProcess, module_server, running_server

pytestmark = pytest.mark.integration

TIMEOUT_S = 10.0
BUDGET = 4  # webhook_workspace_concurrency's default
HANGING = 20  # more than the whole pool (webhook_concurrency, 16)


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    settings = {
        "webhook_allowed_networks": "127.0.0.0/8",
        "webhooks_per_workspace": str(HANGING),
        "webhook_timeout_s": str(TIMEOUT_S),
        "webhook_backoff_initial_s": "60",  # a hanging endpoint is not retried meanwhile
    }
    with module_server(backend, tmp_path_factory, "webhook-fairness", **settings) as process:
        yield process


async def test_hanging_endpoints_do_not_delay_another_workspace(
    server: ServerProcess, api: Api
) -> None:
    hog, _, hog_workspace, hog_room = await setup(api)
    owner, _, workspace, room = await setup(api)
    async with receiving() as hanging, receiving() as answering:
        hanging.answer = "hang"
        for n in range(HANGING):
            await register(api, hog, hog_workspace["id"], hanging.url(f"/hook/{n}"))
        await register(api, owner, workspace["id"], answering.url())

        await post(api, hog, hog_room["id"], "for every hanging endpoint")
        await hanging.wait_for(lambda r: r.hanging >= BUDGET)
        await post(api, owner, room["id"], "meanwhile, elsewhere")
        # Well within the hanging requests' timeout: no slot had to come free first.
        await answering.wait_for(lambda r: len(r.accepted) == 1, timeout=TIMEOUT_S / 2)
        assert answering.accepted_events()[0]["data"]["message_text"] == "meanwhile, elsewhere"
        assert hanging.hanging == BUDGET and len(hanging.requests) == BUDGET
        in_flight = value(scrape(server), "roomchat_webhook_requests_in_flight")
        assert in_flight == BUDGET


@pytest.fixture
def timing_out(backend: str, tmp_path: Path) -> Iterator[ServerProcess]:
    """Requests time out after 1 s; retries start at 0.5 s; disabled after 6 s failing."""
    settings = {
        "webhook_allowed_networks": "127.0.0.0/8",
        "webhook_timeout_s": "1",
        "webhook_backoff_initial_s": "0.5",
        "webhook_backoff_max_s": "30",
        "webhook_retry_window_s": "6",
        "webhook_lease_s": "3",
    }
    with running_server(backend, tmp_path, **settings) as process:
        yield process


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_an_endpoint_that_keeps_timing_out_backs_off_then_is_disabled(
    timing_out: ServerProcess,
) -> None:
    api = Api(timing_out.base_url)
    try:
        owner, _, workspace, room = await setup(api)
        async with receiving() as receiver:
            receiver.answer = "hang"
            made = await register(api, owner, workspace["id"], receiver.url())
            hook = hooks_path(workspace["id"], f"/{made['id']}")
            await post(api, owner, room["id"], "never acknowledged")

            async def disabled() -> bool:
                state: dict[str, Any] = await api.call("GET", hook, owner, 200)
                return not state["enabled"]

            await until(disabled, 30, "the endpoint disabled")
            attempts = await api.call("GET", f"{hook}/deliveries", owner, 200)
        attempts.reverse()  # oldest first
        assert {a["error"] for a in attempts} == {"timed out"}
        assert len(attempts) >= 3
        # Each wait is counted from the end of the attempt that timed out, and doubles.
        for n, (attempt, following) in enumerate(pairwise(attempts)):
            ended = _at(attempt["attempted_at"]).timestamp() + attempt["duration_ms"] / 1000
            assert _at(attempt["next_retry_at"]).timestamp() >= ended
            waited = _at(following["attempted_at"]).timestamp() - ended
            assert waited >= 0.5 * 2**n * 0.9, (n, waited, attempts)
        assert attempts[-1]["next_retry_at"] is None  # the attempt that disabled it
    finally:
        await api.aclose()
