"""Finding 10 (REST side): security headers, a header read timeout, limits in OpenAPI.

The web client now comes with a Content-Security-Policy that runs only its own
scripts and styles and connects only to its own origin, refuses framing, and sends
no referrer; API answers carry a deny-all policy. A client that does not finish
its request headers within header_read_timeout_s is disconnected (slowloris). The
OpenAPI document states the limits and the error answers, with the error envelope.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

import pytest

from tests.support.client import Api
from tests.support.server import ServerProcess, running_server

TIMEOUT_S = 1.5


async def test_the_web_client_has_a_strict_policy(api: Api, server: ServerProcess) -> None:
    for path in ("/", "/index.html", "/app.js", "/join/sometoken"):
        response = await api.http.get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["object-src"] == "'none'"
        assert f"ws://127.0.0.1:{server.port}" in directives["connect-src"]
        assert "'unsafe-inline'" not in csp and "*" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


async def test_a_page_reached_by_another_name_shows_avatars(
    api: Api, server: ServerProcess
) -> None:
    """avatar_url starts with the public base URL (here http://127.0.0.1:port): a page
    opened as http://localhost:port may show it, and its own images still."""
    response = await api.http.get("/", headers={"host": f"localhost:{server.port}"})
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["img-src"].split() == ["'self'", "data:", f"http://127.0.0.1:{server.port}"]
    assert directives["script-src"] == "'self'"  # nothing else loosened


async def test_api_answers_forbid_everything(api: Api) -> None:
    for response in (
        await api.http.get("/api/v1/users/me"),
        await api.http.get("/healthz"),
        await api.http.post("/api/v1/auth/login", content=b"x" * (2 * 1024 * 1024)),
    ):
        assert response.headers["content-security-policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_forged_host_cannot_inject_into_the_policy(server: ServerProcess) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: evil; script-src *\r\nConnection: close\r\n\r\n")
    head = (await asyncio.wait_for(reader.read(), 10)).split(b"\r\n\r\n")[0].decode()
    writer.close()
    await writer.wait_closed()
    csp = next(line for line in head.split("\r\n") if line.lower().startswith("content-security"))
    assert "evil" not in csp and "script-src 'self'" in csp


async def test_openapi_states_limits_and_error_answers(api: Api) -> None:
    openapi = (await api.http.get("/openapi.json")).json()
    login = openapi["paths"]["/api/v1/auth/login"]["post"]
    for status in ("401", "413", "422", "429"):
        schema = login["responses"][status]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/ErrorEnvelope")
    # Each route lists the errors it can answer (issue 22), not one list for all.
    get_room = openapi["paths"]["/api/v1/room-chats/{room_id}"]["get"]["responses"]
    assert {"401", "403", "404", "422", "429", "503"} == set(get_room) - {"200"}
    logout = openapi["paths"]["/api/v1/auth/logout"]["post"]["responses"]
    assert {"400", "401", "403", "413", "422", "429", "503"} == set(logout) - {"200"}
    register = openapi["components"]["schemas"]["Register"]["properties"]
    assert register["password"]["maxLength"] == 1024
    assert register["username"]["maxLength"] == 64
    for path in ("/api/v1/auth/ws-ticket", "/api/v1/auth/refresh", "/api/v1/auth/logout"):
        assert path in openapi["paths"]


@pytest.fixture(scope="module")
def impatient(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp(f"headers-{backend}")
    with running_server(backend, directory, header_read_timeout_s=str(TIMEOUT_S)) as process:
        yield process


async def hang_up(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError, OSError):
        await writer.wait_closed()


async def closed_after(reader: asyncio.StreamReader, limit: float) -> float:
    """Seconds until the server closed the connection (EOF); fails past ``limit``."""
    started = time.monotonic()
    data = await asyncio.wait_for(reader.read(), limit)
    assert data == b"", data[:200]
    return time.monotonic() - started


async def test_half_a_request_line_is_cut_off_in_time(impatient: ServerProcess) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", impatient.port)
    writer.write(b"GET /api/v1/users/me HT")
    elapsed = await closed_after(reader, TIMEOUT_S + 5)
    assert elapsed >= TIMEOUT_S - 0.5, elapsed
    await hang_up(writer)


async def test_headers_trickled_slower_than_the_timeout_are_cut_off(
    impatient: ServerProcess,
) -> None:
    """A byte now and then does not keep the connection (the keep-alive timer would)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", impatient.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    with pytest.raises((ConnectionError, AssertionError, asyncio.TimeoutError)):
        while time.monotonic() - started < TIMEOUT_S + 5:
            writer.write(b"X-Slow: 1\r\n")
            await writer.drain()
            # Trickling is the attack: one header line a quarter second.
            await asyncio.sleep(0.25)
            assert not reader.at_eof()
    assert time.monotonic() - started < TIMEOUT_S + 3
    await hang_up(writer)


async def test_the_next_request_on_a_kept_alive_connection_is_timed_too(
    impatient: ServerProcess,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", impatient.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    status = await asyncio.wait_for(reader.readline(), 10)
    assert b" 200 " in status
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    await reader.readexactly(len(b'{"status":"ok"}'))
    writer.write(b"GET /hea")
    await closed_after(reader, TIMEOUT_S + 5)
    await hang_up(writer)


async def test_a_prompt_client_is_served(impatient: ServerProcess) -> None:
    api = Api(impatient.base_url)
    try:
        for _ in range(3):
            assert (await api.http.get("/healthz")).status_code == 200
    finally:
        await api.aclose()
