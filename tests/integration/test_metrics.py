"""GET /metrics on a real server: after a scripted workload, the counters moved by
exactly what was done (parsed with prometheus-client's own parser); who may read
them (loopback only by default, a bearer token, a separate address); and the JSON
log format."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.client import Api, Ws, error_code, marker
from tests.support.metrics import moved, scrape
from tests.support.server import ServerProcess, free_port, module_server, running_server


@pytest.fixture(scope="module")
def metered(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Four sends per connection, then rate_limited (the bucket barely refills).
    with module_server(
        backend,
        tmp_path_factory,
        "metrics",
        send_burst="4",
        send_rate_per_second="0.001",
        log_format="json",
        log_level="info",
    ) as server:
        yield server


async def test_counters_move_by_exactly_what_was_done(metered: ServerProcess) -> None:
    api = Api(metered.base_url)
    alice, bob = await api.register("alice"), await api.register("bob")
    workspace = await api.workspace(alice, bob)
    room = await api.room(alice, workspace["id"])
    rid = room["id"]
    a, b = await Ws.connect(metered.ws_url, alice), await Ws.connect(metered.ws_url, bob)
    try:
        await a.join(rid)
        await b.join(rid)
        await marker(a)  # bob's joining reached alice: nothing left in flight
        before = scrape(metered)
        assert before[("roomchat_connections", ())] == 2
        assert before[("roomchat_joined_rooms", ())] == 1

        first = await a.say(rid, "one", client_msg_id="c1")
        await a.say(rid, "two", client_msg_id="c2")
        replay = await a.say(rid, "one", client_msg_id="c1")  # stored once, sent once
        assert replay["id"] == first["id"]
        # Refused by validation (before taking a token), then the burst's fourth send,
        # then one over the rate limit.
        assert error_code(await a.request("send_room_chat_message", {"room_id": rid})) == (
            "validation_error"
        )
        await a.say(rid, "three")
        limited = await a.request("send_room_chat_message", {"room_id": rid, "message_text": "x"})
        assert error_code(limited) == "rate_limited"
        await b.wait_for(lambda f: f.get("data", {}).get("message_text") == "three")
        await marker(a)
        # A REST error counts too.
        await api.call("GET", "/api/v1/room-chats/999999999", alice, 404)
        after = scrape(metered)
    finally:
        await a.close()
        await b.close()
        await api.aclose()

    assert moved(before, after, "roomchat_messages_stored_total") == 3
    assert moved(before, after, "roomchat_broadcasts_total") == 3
    assert moved(before, after, "roomchat_deliveries_total") == 6  # three messages, two sockets
    assert moved(before, after, "roomchat_send_ack_seconds_count") == 4  # the replay too
    assert moved(before, after, "roomchat_commit_batch_size_count") == 4
    assert moved(before, after, "roomchat_commit_batch_size_sum") == 4
    assert moved(before, after, "roomchat_errors_total", code="validation_error") == 1
    assert moved(before, after, "roomchat_errors_total", code="rate_limited") == 1
    assert moved(before, after, "roomchat_errors_total", code="not_found") == 1
    assert moved(before, after, "roomchat_rate_limited_total", kind="send_room_chat_message") == 1
    assert after[("roomchat_bus_healthy", ())] == 1
    # Nothing per user or per room: every label is one of the bounded sets.
    names = {label for _, labels in after for label, _ in labels}
    assert names <= {"code", "kind", "le", "source", "outcome"}


def test_every_log_line_is_one_json_object(metered: ServerProcess) -> None:
    response = httpx.get(
        f"{metered.base_url}/api/v1/room-chats/1", headers={"X-Request-ID": "trace-42"}
    )
    assert response.headers["x-request-id"] == "trace-42"
    unsafe = httpx.get(f"{metered.base_url}/healthz", headers={"X-Request-ID": "a b <c>"})
    assert unsafe.headers["x-request-id"] != "a b <c>"  # replaced by one of its own
    lines = [line for line in metered.logs().splitlines() if line.strip()]
    assert lines, "the server logged nothing at info"
    for line in lines:
        record: dict[str, Any] = json.loads(line)
        assert {"time", "level", "logger", "message", "instance"} <= record.keys(), record


def test_metrics_answer_loopback_only_by_default(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = _non_loopback_address()
    if outside is None:
        pytest.skip("this machine has no non-loopback address to call from")
    directory = tmp_path_factory.mktemp(f"metrics-open-{backend}")
    with running_server(backend, directory, host="0.0.0.0") as server:
        assert httpx.get(f"{server.base_url}/metrics").status_code == 200
        # The same server through this machine's other address: not a loopback client.
        refused = httpx.get(f"http://{outside}:{server.port}/metrics", timeout=5)
        assert refused.status_code == 403
        assert "roomchat_" not in refused.text


def _non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: picks the outgoing address
            address = str(probe.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_a_token_guards_metrics(backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp(f"metrics-token-{backend}")
    with running_server(backend, directory, metrics_token="scrape-secret-1") as server:
        url = f"{server.base_url}/metrics"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        good = httpx.get(url, headers={"Authorization": "Bearer scrape-secret-1"})
        assert good.status_code == 200 and "roomchat_connections" in good.text
        assert "scrape-secret-1" not in server.logs()


def test_a_metrics_address_takes_metrics_off_the_public_port(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp(f"metrics-address-{backend}")
    port = free_port()
    with running_server(
        backend, directory, metrics_address=f"127.0.0.1:{port}", metrics_token="t0k3n"
    ) as server:
        assert httpx.get(f"{server.base_url}/metrics").status_code == 404
        separate = f"http://127.0.0.1:{port}/metrics"
        assert httpx.get(separate).status_code == 401
        served = httpx.get(separate, headers={"Authorization": "Bearer t0k3n"})
        assert served.status_code == 200 and "roomchat_messages_stored_total" in served.text
        assert httpx.get(f"http://127.0.0.1:{port}/other").status_code in (401, 404)
