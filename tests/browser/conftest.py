"""Fixtures for the browser tests: a real roomchat server process and a headless Chromium.

The server runs as ``python -m roomchat serve`` on a free port with its own SQLite
database and data dir, so it can be stopped and started again on the same port and
database (the reconnect test does that). Chromium is Debian's /usr/bin/chromium driven
by Playwright; without it the tests skip, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import free_port

CHROMIUM = Path(os.environ.get("ROOMCHAT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
START_TIMEOUT_S = 30.0
SRC_DIR = Path(__file__).resolve().parents[2] / "src"

DESKTOP = {"width": 1280, "height": 800}


class ServerProcess:
    """One roomchat server that can be stopped and restarted on the same port and data."""

    def __init__(self, data_dir: Path, port: int, extra_env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = port
        self.extra_env = dict(extra_env or {})
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = data_dir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "ROOMCHAT_HOST": "127.0.0.1",
                "ROOMCHAT_PORT": str(self.port),
                "ROOMCHAT_DATABASE_URL": f"sqlite+aiosqlite:///{self.data_dir / 'db.sqlite'}",
                "ROOMCHAT_DATA_DIR": str(self.data_dir),
                "ROOMCHAT_PUBLIC_BASE_URL": self.base_url,
                # The paging test seeds many messages from one connection.
                "ROOMCHAT_SEND_RATE_PER_SECOND": "1000",
                "ROOMCHAT_SEND_BURST": "1000",
            }
        )
        env.update(self.extra_env)
        env.pop("ROOMCHAT_KAFKA_BOOTSTRAP_SERVERS", None)
        # Serve this checkout's code (and web client) even where it is not pip-installed.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC_DIR), env.get("PYTHONPATH")) if p)
        return env

    def start(self) -> None:
        assert self.proc is None, "already running"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "roomchat", "serve"],
            env=self.env(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        last_error = "no answer"
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    self._close_log()
                    code = self.proc.returncode
                    self.proc = None
                    raise RuntimeError(f"roomchat serve exited with {code}:\n{self.log_tail()}")
                try:
                    if client.get(f"{self.base_url}/healthz").status_code == 200:
                        return
                except httpx.HTTPError as exc:
                    last_error = repr(exc)
                time.sleep(0.1)  # polling interval while waiting for the port, not a sync point
        self.stop()
        raise RuntimeError(
            f"server not healthy after {START_TIMEOUT_S}s ({last_error}):\n{self.log_tail()}"
        )

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)
        self.proc = None
        self._close_log()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra ROOMCHAT_* settings for the test's server: none by default. A test sets its
    own with ``@pytest.mark.parametrize("server_env", [{"ROOMCHAT_...": "..."}])``."""
    return {}


@pytest.fixture
def server(tmp_path: Path, server_env: dict[str, str]) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path, free_port(), server_env)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found; install it with: apt-get install -y chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


# Module scope, not session: the sync API keeps an event loop running while it is
# alive, which would break the asyncio tests of other modules.
@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def new_page(browser: Any, server: ServerProcess) -> Iterator[Any]:
    """Factory: a fresh browser context (one user) and its page; closed at the end."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(viewport: dict[str, int] | None = None) -> Any:
        ctx = browser.new_context(viewport=viewport or DESKTOP, base_url=server.base_url)
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for ctx in contexts:
        with contextlib.suppress(Exception):
            ctx.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def screenshot_dir() -> Path | None:
    """Where to write docs screenshots: set ROOMCHAT_SCREENSHOT_DIR (e.g. docs/screenshots)."""
    value = os.environ.get("ROOMCHAT_SCREENSHOT_DIR")
    if not value:
        return None
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path
