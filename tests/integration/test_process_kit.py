"""The process kit (tests/support/process.py) that tests, scripts/ and bench/ start their
processes with: a start that fails says why at once, and leaves nothing running."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.process import ProcessExited, free_port, stop, wait_port
from tests.support.server import ServerProcess


def processes_with_env(entry: str) -> list[int]:
    """The pids of this user's processes whose environment holds ``entry`` (NAME=value)."""
    wanted = entry.encode() + b"\0"
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if wanted in environ.read_bytes() + b"\0":
                found.append(int(environ.parent.name))
        except OSError:  # another user's process, or one that ended meanwhile
            continue
    return found


def test_a_server_that_never_gets_healthy_is_not_left_running(tmp_path: Path) -> None:
    # Listening on 127.0.0.2, it never answers /healthz on 127.0.0.1: alive, never ready.
    server = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'db'}", tmp_path, host="127.0.0.2")
    try:
        with pytest.raises(TimeoutError):
            server.start(timeout=3)
        assert processes_with_env(f"ROOMCHAT_DATA_DIR={tmp_path}") == []
    finally:
        server.stop()


def test_a_server_that_cannot_start_says_why_at_once(tmp_path: Path) -> None:
    server = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'db'}", tmp_path, send_burst="lots")
    started = time.monotonic()
    try:
        with pytest.raises(ProcessExited, match="send_burst"):
            server.start(timeout=60)
        assert time.monotonic() - started < 30, "waited for the timeout, not for the exit"
    finally:
        server.stop()


def test_waiting_for_a_port_ends_when_the_process_exits(tmp_path: Path) -> None:
    log = tmp_path / "child.log"
    with log.open("wb") as output:
        child = subprocess.Popen(
            [sys.executable, "-c", "print('no port today'); raise SystemExit(3)"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    started = time.monotonic()
    with pytest.raises(ProcessExited, match=r"(?s)the child exited \(code 3\).*no port today"):
        wait_port(free_port(), 60, child, what="the child", log=log)
    assert time.monotonic() - started < 30, "waited for the timeout, not for the exit"


def test_stop_kills_a_process_that_ignores_sigterm() -> None:
    ignores_term = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(120)"
    )
    child = subprocess.Popen([sys.executable, "-c", ignores_term], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n"  # SIGTERM is ignored from here on
        stop(child, timeout=0.5)
        assert child.returncode == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
