"""Real `roomchat serve` processes on free ports, for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import process as kit
from tests.support.databases import database_url
from tests.support.process import free_port  # here too: tests import it from this module


class ServerProcess:
    """One instance: started with ROOMCHAT_* settings, stopped (or killed) by the test."""

    def __init__(
        self, database_url: str, data_dir: Path, port: int | None = None, **settings: str
    ) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        self.env = {
            **os.environ,
            "ROOMCHAT_HOST": "127.0.0.1",
            "ROOMCHAT_PORT": str(self.port),
            "ROOMCHAT_DATABASE_URL": database_url,
            "ROOMCHAT_DATA_DIR": str(data_dir),
            "ROOMCHAT_JWT_SECRET": "integration-test-secret-that-is-long-enough-1234",
            "ROOMCHAT_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "ROOMCHAT_LOG_LEVEL": "warning",
            # Every test client is 127.0.0.1: the address limits would count the whole
            # suite as one attacker. tests/security sets them back where it tests them.
            "ROOMCHAT_REGISTER_LIMIT_PER_ADDRESS": "100000/minute",
            "ROOMCHAT_LOGIN_LIMIT_PER_ADDRESS": "100000/minute",
            # A module's tests share their users: the per-owner and per-inviter bounds
            # would count the module as one abuser. tests/security/test_flooding.py
            # sets them back where it tests them.
            "ROOMCHAT_WORKSPACES_PER_OWNER": "100000",
            "ROOMCHAT_INVITATION_RATE_LIMIT": "100000/minute",
            "ROOMCHAT_API_KEY_CREATE_LIMIT": "100000/minute",
            **{f"ROOMCHAT_{k.upper()}": v for k, v in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        """Once it answers /healthz; one that exits or times out first is not left running,
        and the error ends with its log."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = kit.start_server(self.port, self.env, timeout, output=self.log_path)
        return self

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.process is not None:
            kit.stop(self.process, timeout, sig)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@contextmanager
def running_server(backend: str, directory: Path, **settings: str) -> Iterator[ServerProcess]:
    """A started instance with a database of its own ("sqlite" or "postgres"), stopped
    (and its database dropped) at the end."""
    with database_url(backend, directory) as url:
        process = ServerProcess(url, directory, **settings)
        try:
            process.start()  # inside: a server that never got healthy is stopped too
            yield process
        finally:
            process.stop()


@contextmanager
def module_server(
    backend: str, tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str
) -> Iterator[ServerProcess]:
    """A running_server for a module-scoped fixture, in a directory of its own, with the
    send limits out of the way (they are tested on their own)."""
    directory: Path = tmp_path_factory.mktemp(f"{name}-{backend}")
    limits = {"send_rate_per_second": "1000", "send_burst": "1000"}
    with running_server(backend, directory, **{**limits, **settings}) as process:
        yield process
