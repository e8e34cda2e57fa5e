"""Issue 20, item 7: the room list pages (``?limit=&cursor=``).

A plain ``GET /api/v1/room-chats/workspace/{id}`` answers as the guide says (a list of
rooms); a page is the same list, and a ``Link: <...>; rel="next"`` header leads to the
next one while there is one. Pages neither repeat nor skip a room, even while rooms
are made and deleted between them. Real servers, SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.client import Account, Api

# What the guide (section 1.2) and docs/protocol.md name for every listed room.
ROOM_FIELDS = {
    "id",
    "workspace_id",
    "name",
    "created_by",
    "link_join",
    "link_token",
    "created_at",
    "has_passcode",
    "last_read_seq",
    "unread_count",
    "last_message",
}


def list_path(workspace_id: int) -> str:
    return f"/api/v1/room-chats/workspace/{workspace_id}"


async def get(api: Api, account: Account, url: str, **params: Any) -> httpx.Response:
    return await api.http.get(url, headers=account.headers, params=params or None)


async def every_page(api: Api, account: Account, workspace_id: int, limit: int) -> list[Any]:
    """Each page's rooms, following the Link header from the first page to the last."""
    pages = []
    response = await get(api, account, list_path(workspace_id), limit=limit)
    while True:
        assert response.status_code == 200, response.text
        pages.append(response.json()["data"])
        if "next" not in response.links:
            return pages
        response = await get(api, account, response.links["next"]["url"])


async def test_a_plain_call_answers_the_guides_list(api: Api) -> None:
    owner, member = await api.register("owner"), await api.register("member")
    workspace = await api.workspace(owner, member)
    made = [await api.room(owner, workspace["id"]) for _ in range(3)]
    response = await get(api, member, list_path(workspace["id"]))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success" and isinstance(body["data"], list)
    assert [r["id"] for r in body["data"]] == [r["id"] for r in made]
    for listed in body["data"]:
        assert listed.keys() >= ROOM_FIELDS
        assert listed["workspace_id"] == workspace["id"]
    assert "link" not in response.headers  # everything is on this one page


async def test_pages_neither_repeat_nor_skip_a_room(api: Api) -> None:
    owner, member = await api.register("owner"), await api.register("member")
    workspace = await api.workspace(owner, member)
    wid = workspace["id"]
    made = [await api.room(owner, wid) for _ in range(7)]
    ids = [r["id"] for r in made]

    pages = await every_page(api, member, wid, limit=3)
    assert [[r["id"] for r in page] for page in pages] == [ids[0:3], ids[3:6], ids[6:7]]
    for page in pages:
        for listed in page:
            assert listed.keys() >= ROOM_FIELDS

    # Rooms made and deleted between two pages: the rest of the list is read as it is
    # now, and what was listed is never listed again.
    first = await get(api, member, list_path(wid), limit=3)
    assert [r["id"] for r in first.json()["data"]] == ids[0:3]
    await api.call("DELETE", f"/api/v1/room-chats/{ids[1]}", owner)  # already listed
    await api.call("DELETE", f"/api/v1/room-chats/{ids[4]}", owner)  # not yet
    newer = await api.room(owner, wid)
    seen = [r["id"] for r in first.json()["data"]]
    response = await get(api, member, first.links["next"]["url"])
    while True:
        seen += [r["id"] for r in response.json()["data"]]
        if "next" not in response.links:
            break
        response = await get(api, member, response.links["next"]["url"])
    assert seen == [*ids[0:4], *ids[5:7], newer["id"]]

    # The same limit as a plain call's list, page after page.
    plain = await api.call("GET", list_path(wid), member)
    paged = await every_page(api, member, wid, limit=1000)
    assert paged == [plain]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": -1},
        {"limit": 1001},
        {"limit": "x"},
        {"limit": "1.0"},
        {"limit": "+1"},
        {"cursor": ""},
        {"cursor": "not-a-cursor"},
        {"cursor": "%%%"},
        {"cursor": "c" * 5000},
        {"cursor": "MTox"},  # base64 of "1:1", not one of ours
    ],
    ids=lambda p: ",".join(f"{k}={str(v)[:12]}" for k, v in p.items()),
)
async def test_bad_paging_is_a_validation_error(api: Api, params: dict[str, Any]) -> None:
    owner = await api.register("owner")
    workspace = await api.workspace(owner)
    room = await api.room(owner, workspace["id"])
    response = await get(api, owner, list_path(workspace["id"]), **params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert room["name"] not in response.text
    assert [r["id"] for r in await api.call("GET", list_path(workspace["id"]), owner)] == [
        room["id"]
    ]


async def test_a_cursor_is_for_its_own_list_and_other_workspaces_are_forbidden(
    api: Api,
) -> None:
    owner, outsider = await api.register("owner"), await api.register("outsider")
    workspace = await api.workspace(owner)
    theirs = await api.workspace(outsider)
    made = [await api.room(owner, workspace["id"]) for _ in range(3)]
    await api.room(outsider, theirs["id"])
    first = await get(api, owner, list_path(workspace["id"]), limit=1)
    cursor = httpx.URL(first.links["next"]["url"]).params["cursor"]

    # An outsider, with or without paging: forbidden, and not a room of it shown.
    for params in ({}, {"limit": 1}, {"cursor": cursor}, {"limit": 2, "cursor": cursor}):
        response = await get(api, outsider, list_path(workspace["id"]), **params)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
        assert not any(r["name"] in response.text for r in made)
    # A cursor of one workspace's list does not page another's.
    response = await get(api, outsider, list_path(theirs["id"]), cursor=cursor)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert not any(r["name"] in response.text for r in made)
