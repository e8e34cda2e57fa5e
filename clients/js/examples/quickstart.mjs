import { RoomchatClient } from "@roomchat/client";
import WebSocket from "ws"; // Node.js; a browser has its own: leave it out there

const chat = new RoomchatClient({ baseUrl: process.env.ROOMCHAT_URL, token: process.env.ROOMCHAT_TOKEN, WebSocket });
chat.on("state", ({ state, reason }) => console.log("connection:", state, reason?.code ?? ""));

const room = await chat.join(Number(process.env.ROOM_ID)); // its history, then every event once, in order
for (const m of room.state.messages) console.log(`${m.user?.username}: ${m.message_text}`);
room.on("message", (m) => console.log(`${m.user.username}: ${m.message_text}`));

const sent = await room.send("Hello from the SDK!"); // retried across drops, stored once
console.log("stored as seq", sent.seq);
await chat.close();
