// The API guide's workflow (chat-api-guide.md, section 3) with @roomchat/client.
import { RoomchatClient } from "@roomchat/client";
import WebSocket from "ws";

const baseUrl = process.env.ROOMCHAT_URL ?? "http://127.0.0.1:8000";
const username = `alice${Date.now().toString(36)}`;
const chat = await RoomchatClient.register({ baseUrl, username, password: "correct horse battery", WebSocket });

// 1. Initial load: a workspace with a room in it, and the room list.
const workspace = await chat.rest.createWorkspace({ name: "Acme" });
const created = await chat.rest.createRoom({ workspace_id: workspace.id, name: "General Discussion" });
const rooms = await chat.rest.listRooms(workspace.id);
console.log("rooms:", rooms.map((r) => r.name).join(", "));

// 2. Select a room: join it over the WebSocket (you become a member).
const room = await chat.join(created.id);

// 3. Display history: the join reply's messages, kept current in room.state.
for (const m of room.state.messages) console.log(`${m.user?.username}: ${m.message_text}`);

// 4. Listen: each new message once, in order, across reconnects.
const received = new Promise((resolve) => room.on("message", resolve));
await room.send("Hello world!");
const message = await received;
console.log(`${message.user.username}: ${message.message_text}`);

// History over REST, page by page.
const { messages } = await chat.rest.listMessages(created.id, { limit: 50 });
console.log("history:", messages.length, "message(s)");
await chat.close();
