"""Shared fixtures: a real server per module and backend (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.server import ServerProcess, running_server


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real `roomchat serve` process with its own database, shared by a module's tests."""
    directory: Path = tmp_path_factory.mktemp(f"server-{backend}")
    # Tests send, rejoin and connect in bursts; those limits are tested on their own.
    with running_server(
        backend,
        directory,
        send_rate_per_second="1000",
        send_burst="1000",
        join_rate_per_second="1000",
        join_burst="1000",
        max_ws_per_user="1000",
        edit_rate_per_second="1000",
        edit_burst="1000",
    ) as process:
        yield process


@pytest.fixture
async def api(server: ServerProcess) -> AsyncIterator[Api]:
    client = Api(server.base_url)
    yield client
    await client.aclose()
