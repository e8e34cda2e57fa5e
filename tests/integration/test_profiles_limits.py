"""Profile changes are rate limited per user (each one is a signal to every room the user
is in): past ROOMCHAT_PROFILE_CHANGE_LIMIT a change is a 429 that changes nothing, and
another user is not held back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.client import Api
from tests.support.server import ServerProcess, module_server


@pytest.fixture(scope="module")
def backend() -> str:
    return "sqlite"  # a limit counted in memory: the database plays no part


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with module_server(backend, tmp_path_factory, "profiles", profile_change_limit="2/minute") as s:
        yield s


async def test_profile_changes_past_the_limit_are_refused(api: Api) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    for name in ("One", "Two"):
        await api.call("PATCH", "/api/v1/users/me", alice, json={"display_name": name})
    error = await api.call("PATCH", "/api/v1/users/me", alice, 429, json={"display_name": "Three"})
    assert error["code"] == "rate_limited" and error["retry_after_ms"] > 0
    assert (await api.call("GET", "/api/v1/users/me", alice))["display_name"] == "Two"
    response = await api.http.put(
        "/api/v1/users/me/avatar", content=b"\x89PNG not really", headers=alice.headers
    )
    assert response.status_code == 422  # a bad picture is refused before it counts
    # Reading receipts' setting is no profile change; bob has his own allowance.
    await api.call("PATCH", "/api/v1/users/me", alice, json={"share_read_receipts": False})
    await api.call("PATCH", "/api/v1/users/me", bob, json={"display_name": "Bob"})
