"""Issue 24: nothing outlives its message. The sweep (a periodic task of each instance)
removes uploads never sent, the files of deleted rooms, and stored files no row names;
run here every few tenths of a second on a real server and watched from outside."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.client import Api
from tests.support.files import eventually, fetch, png, stored_objects, upload
from tests.support.server import ServerProcess, running_server


@pytest.fixture(scope="module")
def sweeping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("sweep")
    with running_server(
        "sqlite",
        directory,
        attachment_unattached_ttl_s="1.5",
        attachment_sweep_interval_s="0.2",
        attachment_orphan_grace_s="30",
        upload_rate_limit="1000/minute",
    ) as process:
        yield process


@pytest.fixture
async def api(sweeping: ServerProcess) -> AsyncIterator[Api]:
    client = Api(sweeping.base_url)
    yield client
    await client.aclose()


async def test_unsent_uploads_and_orphans_are_swept(sweeping: ServerProcess, api: Api) -> None:
    files = sweeping.data_dir / "files"
    alice = await api.register("alice")
    workspace = await api.workspace(alice)
    room = await api.room(alice, workspace["id"])
    kept = await upload(api, alice, room["id"], png(), "kept.png")
    await api.call(
        "POST",
        f"/api/v1/room-chats/{room['id']}/messages",
        alice,
        201,
        json={"message_text": "kept", "attachment_ids": [kept["id"]]},
    )
    unsent = await upload(api, alice, room["id"], b"never sent", "draft.txt")
    # A file no row names: old (left by a crash, a restore), and one just written.
    old = files / "objects" / "999999" / "999999"
    young = files / "objects" / "999999" / "999998"
    old.parent.mkdir(parents=True, exist_ok=True)
    old.write_bytes(b"orphan")
    young.write_bytes(b"in flight")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))

    unsent_key = f"{room['id']}/{unsent['id']}"
    await eventually(lambda: unsent_key not in stored_objects(files))
    await eventually(lambda: not old.exists())
    assert young.exists()  # within the grace: perhaps an upload in flight
    assert fetch(unsent["url"]).status_code == 404
    await api.call("GET", f"/api/v1/attachments/{unsent['id']}", alice, 403)
    # The sent one stays.
    assert f"{room['id']}/{kept['id']}" in stored_objects(files)
    assert fetch(kept["url"]).status_code == 200


async def test_deleting_a_room_removes_its_files(sweeping: ServerProcess, api: Api) -> None:
    files: Path = sweeping.data_dir / "files"
    alice = await api.register("alice")
    workspace = await api.workspace(alice)
    room = await api.room(alice, workspace["id"])
    up = await upload(api, alice, room["id"], png(), "room.png")
    await api.call(
        "POST",
        f"/api/v1/room-chats/{room['id']}/messages",
        alice,
        201,
        json={"message_text": "", "attachment_ids": [up["id"]]},
    )
    key = f"{room['id']}/{up['id']}"
    assert key in stored_objects(files)
    await api.call("DELETE", f"/api/v1/room-chats/{room['id']}", alice)
    await eventually(lambda: key not in stored_objects(files))
    assert f"{key}.thumb" not in stored_objects(files)
    assert fetch(up["url"]).status_code == 404
