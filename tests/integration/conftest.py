"""Fixtures of the integration tests: a broker, three instances sharing it and PostgreSQL
(the cluster tests), and a user shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.client import Account, register_sync
from tests.support.cluster import Cluster, cluster
from tests.support.contract import frames_follow_the_document  # noqa: F401 - autouse
from tests.support.kafka import Broker, broker  # noqa: F401 - the fixture, for every module
from tests.support.server import ServerProcess


@pytest.fixture
def three(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:  # noqa: F811
    with cluster(broker, tmp_path, 3) as running:
        yield running


@pytest.fixture(scope="module")
def reader(server: ServerProcess) -> Account:
    """A user of the module's server, for tests that only need someone to ask."""
    return register_sync(server.base_url, "reader")[0]
