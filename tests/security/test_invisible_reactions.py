"""Issue 20, item 7: reactions that render as nothing were accepted.

A zero-width joiner on its own, tag characters only, a lone variation selector or
combining mark, or a blank-looking letter showed every member an empty reaction. They
are now a ``validation_error``, and nothing changes: no event, no stored reaction.
Real servers, SQLite and PostgreSQL.
"""

from __future__ import annotations

from tests.support.client import Api, TracedWs, Ws, error_code, marker
from tests.support.server import ServerProcess

INVISIBLE = [
    "\u200d",  # zero-width joiner
    "\u200d\u200d",
    "\U000e0067\U000e0062\U000e007f",  # tag characters of a flag, without the flag
    "\ufe0f",  # a variation selector with nothing to vary
    "\u0301",  # a combining accent with nothing to sit on
    "\u3164",  # Hangul filler: a letter that draws nothing
    "\u2800",  # braille blank
    "\u115f\u1160",
    "\uffa0",
]
ADD, REMOVE = "add_room_chat_reaction", "remove_room_chat_reaction"


async def test_reactions_that_render_as_nothing_are_refused(
    server: ServerProcess, api: Api
) -> None:
    owner, member = await api.register("owner"), await api.register("member")
    workspace = await api.workspace(owner, member)
    room = await api.room(owner, workspace["id"])
    rid = room["id"]
    await api.call(
        "POST", f"/api/v1/room-users/room/{rid}", owner, 201, json={"user_id": member.id}
    )
    speaker = await Ws.connect(server.ws_url, owner)
    listener = await TracedWs.connect(server.ws_url, member)
    try:
        await speaker.join(rid)
        await listener.join(rid)
        sent = await speaker.say(rid, "react to me")
        await listener.wait_for(lambda f: f.get("action") == "new_room_chat_message")
        for reaction in INVISIBLE:
            for action in (ADD, REMOVE):
                payload = {"room_id": rid, "message_id": sent["id"], "reaction": reaction}
                reply = await speaker.request(action, payload)
                assert error_code(reply) == "validation_error", (reaction, reply)
        # Nothing was broadcast, nothing stored, the room's seq did not move.
        later = await marker(listener)
        assert [f["action"] for f in later] == []
        page = await api.call("GET", f"/api/v1/room-chats/{rid}/messages", member)
        assert page["messages"][-1]["reactions"] == []
        events = await api.call(
            "GET", f"/api/v1/room-chats/{rid}/events", member, params={"after_seq": sent["seq"]}
        )
        assert events["events"] == []

        # A real emoji, sequences and flags included, still is a reaction.
        for reaction in (
            "👩\u200d💻",
            "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
            "❤\ufe0f",
        ):
            payload = {"room_id": rid, "message_id": sent["id"], "reaction": reaction}
            reply = await speaker.request(ADD, payload)
            assert reply["status"] == "success", reply
    finally:
        await speaker.close()
        await listener.close()
