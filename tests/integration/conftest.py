"""Fixtures of the cluster tests: a broker, and three instances sharing it and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import Cluster, cluster
from tests.support.kafka import Broker, broker  # noqa: F401 - the fixture, for every module


@pytest.fixture
def three(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:  # noqa: F811
    with cluster(broker, tmp_path, 3) as running:
        yield running
