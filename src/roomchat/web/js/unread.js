// Unread counts in the room list, kept live: the connection follows the selected
// workspace (subscribe_workspace, through the SDK's request) and gets a room_activity
// for each message stored, edited or deleted in its rooms; room_read_updated (every
// connection of the user) moves a room's read position. Both are signals: after a
// reconnect the room list is read again and the workspace followed again.

import { chat, isConnected, currentConnection } from "/js/client.js";
import { selectedWorkspace } from "/js/workspace_data.js";
import { listedRoom, updateListedRoom } from "/js/rooms_data.js";
import { loadRooms, renderRoomStatus } from "/js/rooms.js";

let followed = { connection: null, workspaceId: null }; // what the current connection follows

/** Follow the selected workspace on the current connection (and stop following the one
 *  before). reload: read the room list again once following (after a reconnect). */
export async function followWorkspace({ reload = false } = {}) {
  if (!isConnected()) return; // the next connection follows it (live.js)
  const client = chat();
  const connection = currentConnection();
  const wsId = selectedWorkspace()?.id ?? null;
  if (followed.connection === connection && followed.workspaceId === wsId) return;
  if (followed.connection === connection && followed.workspaceId !== null) {
    client.request("unsubscribe_workspace", { workspace_id: followed.workspaceId }).catch(() => {});
  }
  followed = { connection, workspaceId: wsId };
  if (wsId === null) return;
  try {
    await client.request("subscribe_workspace", { workspace_id: wsId });
  } catch (err) {
    if (followed.connection === connection && followed.workspaceId === wsId) {
      followed = { connection: null, workspaceId: null };
    }
    if (err.code !== "connection_lost") console.warn("roomchat: could not follow the workspace", err);
    return;
  }
  if (reload && selectedWorkspace()?.id === wsId) loadRooms();
}

/** room_activity {room_id, seq, unread_count, last_message}: a room's badge and preview. */
export function onRoomActivity(data) {
  const room = listedRoom(data.room_id);
  if (!room) return;
  // Activity is computed a moment before it is sent: a read since then that covers it
  // (room_read_updated came first) leaves nothing unread up to its seq.
  const readPast = typeof room.last_read_seq === "number" && data.seq <= room.last_read_seq;
  updateListedRoom(room.id, {
    unread_count: readPast ? 0 : data.unread_count,
    ...(typeof data.mention_count === "number" ? { mention_count: readPast ? 0 : data.mention_count } : {}),
    last_message: data.last_message ?? null,
  });
  renderRoomStatus(room.id);
}

/** room_read_updated {room_id, last_read_seq, unread_count}, also the mark_room_read reply. */
export function onReadUpdated(data) {
  if (!listedRoom(data.room_id)) return;
  updateListedRoom(data.room_id, {
    last_read_seq: data.last_read_seq,
    unread_count: data.unread_count,
    ...(typeof data.mention_count === "number" ? { mention_count: data.mention_count } : {}),
  });
  renderRoomStatus(data.room_id);
}
