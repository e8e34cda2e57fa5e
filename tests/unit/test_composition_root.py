"""The composition root (roomchat/instance.py, roomchat/wiring.py): one place builds every
part from Settings, starts it and closes it, with no ASGI app around it; no part builds
its own collaborators."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import httpx
import pytest

import roomchat
from roomchat.bus.memory import MemoryBus
from roomchat.instance import Instance
from roomchat.settings import Settings
from tests.support.process import free_port, port_answers

SRC = Path(roomchat.__file__).parent
# Collaborators that carry state or policy: one of each per instance, built by the root.
# (admin.py is the operator commands' own small root.)
COLLABORATORS = {"Metrics", "Recorder", "InvitationService", "LoginThrottle", "Channels"}
ROOTS = {SRC / "wiring.py", SRC / "admin.py"}


def _built_here(path: Path) -> list[str]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in COLLABORATORS
        ):
            calls.append(f"{path.relative_to(SRC)}:{node.lineno} {node.func.id}()")
    return calls


def test_no_part_builds_its_own_collaborators() -> None:
    """A hidden default (``metrics or Metrics("local")``) counts into a registry nobody
    scrapes, and a second Recorder could write events the instance's outbox misses."""
    found = [c for p in sorted(SRC.rglob("*.py")) if p not in ROOTS for c in _built_here(p)]
    assert found == []


async def test_an_instance_starts_serves_and_closes_without_the_app(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    settings = Settings(
        database_url=store_url,
        instance_id="unit-root",
        metrics_address=f"127.0.0.1:{port}",
        jwt_secret="unit-composition-root-secret-0123456789",
    )
    instance = Instance(settings, MemoryBus())
    await instance.start()
    services = instance.services
    owner = await services.users.register("root_owner", "password-123", None)
    workspace = await services.workspaces.create(owner, "root")
    room = await services.rooms.create(owner, workspace.id, "general", None)
    await services.messages.send(owner, room.id, "hello", None, None)

    async with httpx.AsyncClient() as client:
        scraped = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    # The message service counts into the one registry the instance serves.
    assert 'roomchat_messages_stored_total{instance="unit-root"} 1.0' in scraped
    assert 'roomchat_bus_healthy{instance="unit-root"} 1.0' in scraped

    with caplog.at_level(logging.INFO, logger="roomchat"):
        await instance.close()
    assert "roomchat stopped cleanly" in caplog.messages
    assert not port_answers(port)  # the metrics server is gone with it
