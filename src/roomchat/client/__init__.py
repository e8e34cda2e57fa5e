"""roomchat.client: an async Python client for roomchat (installed with roomchat itself).

```python
async with Client("http://127.0.0.1:8000", username="bot", password="...") as chat:
    await chat.join(room_id)
    async for event in chat.events():
        if isinstance(event, NewMessage):
            await chat.send(event.room_id, "seen it")
```

``Client`` reconnects by itself, hands every room event over exactly once in ``seq``
order across reconnects, and makes sends safe to retry (docs/integration.md).
``Connection`` is the layer beneath it: one WebSocket, no reconnecting, for tools and
tests that want the protocol's frames as they are. ``Rest`` is the REST side it uses.
"""

# rest first: without httpx (the ``client`` extra) it raises an ImportError that says so
from roomchat.client.rest import (  # noqa: I001
    EventPage,
    FollowedThread,
    PendingInvitation,
    Rest,
    Session,
    WorkspaceMember,
)

from roomchat.client.backoff import Backoff
from roomchat.client.client import Client
from roomchat.client.connection import BadFrame, Connection, Frame, ws_url_for
from roomchat.client.errors import (
    AuthenticationError,
    ClientClosed,
    ClientError,
    ConnectionLost,
    RequestError,
)
from roomchat.client.events import (
    Connected,
    Disconnected,
    Event,
    MemberJoined,
    MemberLeft,
    Mentioned,
    MessageDeleted,
    MessageEdited,
    NewMessage,
    PresenceChanged,
    ReactionAdded,
    ReactionRemoved,
    ReadReceipt,
    ReadStateUpdated,
    RoomAccessLost,
    RoomActivity,
    RoomDeleted,
    RoomEvent,
    RoomUpdated,
    Signal,
    ThreadUpdated,
    Typing,
    UnknownEvent,
    WorkspaceSignal,
    WorkspaceRoomCreated,
    WorkspaceRoomUpdated,
    WorkspaceRoomDeleted,
    WorkspaceMemberJoined,
    WorkspaceMemberLeft,
    WorkspaceMemberUpdated,
    WorkspaceUpdated,
    UserUpdated,
    InvitationCancelled,
    InvitationReceived,
    parse_event,
)
from roomchat.client.models import (
    Attachment,
    Content,
    JoinedRoom,
    Message,
    Reaction,
    Room,
    Thread,
    User,
)

__all__ = [
    "Attachment",
    "AuthenticationError",
    "Backoff",
    "BadFrame",
    "Client",
    "ClientClosed",
    "ClientError",
    "Connected",
    "Connection",
    "ConnectionLost",
    "Content",
    "Disconnected",
    "Event",
    "EventPage",
    "FollowedThread",
    "Frame",
    "InvitationCancelled",
    "InvitationReceived",
    "JoinedRoom",
    "MemberJoined",
    "MemberLeft",
    "Mentioned",
    "Message",
    "MessageDeleted",
    "MessageEdited",
    "NewMessage",
    "PendingInvitation",
    "PresenceChanged",
    "Reaction",
    "ReactionAdded",
    "ReactionRemoved",
    "ReadReceipt",
    "ReadStateUpdated",
    "RequestError",
    "Rest",
    "Room",
    "RoomAccessLost",
    "RoomActivity",
    "RoomDeleted",
    "RoomEvent",
    "RoomUpdated",
    "Session",
    "Signal",
    "Thread",
    "ThreadUpdated",
    "Typing",
    "UnknownEvent",
    "User",
    "UserUpdated",
    "WorkspaceMember",
    "WorkspaceMemberJoined",
    "WorkspaceMemberLeft",
    "WorkspaceMemberUpdated",
    "WorkspaceRoomCreated",
    "WorkspaceRoomDeleted",
    "WorkspaceRoomUpdated",
    "WorkspaceSignal",
    "WorkspaceUpdated",
    "parse_event",
    "ws_url_for",
]
