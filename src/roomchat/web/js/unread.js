// Unread counts in the room list, kept live: the connection follows the selected
// workspace (subscribe_workspace, through the SDK's request) and gets a room_activity
// for each message stored, edited or deleted in its rooms (with the user's unread count,
// unread thread replies and unread mentions there); room_read_updated (every connection
// of the user) moves a room's read position; room_chat_mention (every connection, joined
// to the room or not) bumps a room's mention badge. All are signals: after a reconnect
// the room list is read again and the workspace followed again. Activity in a room the
// list does not have (a direct conversation someone just started) reads the list again.

import { chat, rest, isConnected, currentConnection } from "/js/client.js";
import { selectedWorkspace } from "/js/workspace_data.js";
import { listedRoom, updateListedRoom } from "/js/rooms_data.js";
import { loadRooms, renderRoomStatus } from "/js/rooms.js";

const RELOAD_GAP_MS = 2000;
const reload = { timer: 0, at: 0 };
// room id -> the highest seq a room_activity has counted (a mention at or below it is in
// its mention_count already).
const counted = new Map();

let followed = { connection: null, workspaceId: null }; // what the current connection follows

// What following again after a reconnect reads again (app.js registers sidebar_live.js's
// resync: the workspaces, the invitations, the room list and the people).
let followedAgain = () => loadRooms();

/** handler(): run once the workspace is followed again after a reconnect. */
export function onFollowedAgain(handler) {
  followedAgain = handler;
}

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
  if (wsId === null) {
    if (reload) followedAgain(); // no workspace yet: an invitation may have come meanwhile
    return;
  }
  try {
    await client.request("subscribe_workspace", { workspace_id: wsId });
  } catch (err) {
    if (followed.connection === connection && followed.workspaceId === wsId) {
      followed = { connection: null, workspaceId: null };
    }
    if (err.code !== "connection_lost") console.warn("roomchat: could not follow the workspace", err);
    // Removed from it (while offline, or while another workspace was shown): reading the
    // workspaces again drops it from the switcher, so the refusal cannot repeat.
    if (err.code === "forbidden" && selectedWorkspace()?.id === wsId) followedAgain();
    return;
  }
  if (reload && selectedWorkspace()?.id === wsId) followedAgain();
}

/** Read the room list again soon (at most every 2 s): a room it lacks had activity. */
function reloadSoon() {
  if (reload.timer) return;
  reload.timer = setTimeout(() => {
    reload.timer = 0;
    reload.at = Date.now();
    loadRooms();
  }, Math.max(0, reload.at + RELOAD_GAP_MS - Date.now()));
}

/** room_activity {room_id, seq, unread_count, thread_unread, mention_count, last_message}:
 *  a room's badges and preview. */
export function onRoomActivity(data) {
  const room = listedRoom(data.room_id);
  if (!room) {
    reloadSoon();
    return;
  }
  counted.set(room.id, Math.max(counted.get(room.id) ?? 0, data.seq));
  // Activity is computed a moment before it is sent: a read since then that covers it
  // (room_read_updated came first) leaves nothing unread up to its seq.
  const readPast = typeof room.last_read_seq === "number" && data.seq <= room.last_read_seq;
  const changes = {
    unread_count: readPast ? 0 : data.unread_count,
    ...(typeof data.mention_count === "number" ? { mention_count: readPast ? 0 : data.mention_count } : {}),
    last_message: data.last_message ?? null,
  };
  if (typeof data.mention_count === "number") changes.mention_count = data.mention_count;
  if (typeof data.thread_unread === "number") changes.thread_unread = data.thread_unread;
  updateListedRoom(room.id, changes);
  renderRoomStatus(room.id);
}

/** room_read_updated {room_id, last_read_seq, unread_count, thread_unread, mention_count},
 *  also the mark_room_read reply. */
export function onReadUpdated(data) {
  if (!listedRoom(data.room_id)) return;
  const changes = { last_read_seq: data.last_read_seq, unread_count: data.unread_count };
  if (typeof data.mention_count === "number") changes.mention_count = data.mention_count;
  if (typeof data.thread_unread === "number") changes.thread_unread = data.thread_unread;
  updateListedRoom(data.room_id, changes);
  renderRoomStatus(data.room_id);
}

/** room_chat_mention {room_id, seq, message}: someone mentioned the user. A room the list
 *  has gets one more mention (unless an activity counted it already, or it is read); one
 *  it lacks is read with the list. */
export function onMention(data) {
  const room = listedRoom(data.room_id);
  if (!room) {
    reloadSoon();
    return;
  }
  const seq = data.seq ?? data.message?.seq ?? 0;
  if (seq <= (counted.get(room.id) ?? 0)) return;
  if (!data.message?.thread_root_id && typeof room.last_read_seq === "number" && seq <= room.last_read_seq) return;
  counted.set(room.id, seq);
  updateListedRoom(room.id, { mention_count: Math.max(0, room.mention_count || 0) + 1 });
  renderRoomStatus(room.id);
}

let refreshing = null;

/** Read the unread counts of the workspace's rooms again (a thread was read: the server
 *  tells no other signal of it). */
export function refreshUnread() {
  const ws = selectedWorkspace();
  if (!ws || refreshing) return;
  refreshing = rest().workspaceUnread(ws.id).then((summary) => {
    if (selectedWorkspace()?.id !== ws.id) return;
    for (const row of summary.rooms || []) {
      if (!listedRoom(row.room_id)) continue;
      updateListedRoom(row.room_id, {
        unread_count: row.unread_count, thread_unread: row.thread_unread, mention_count: row.mention_count,
      });
      renderRoomStatus(row.room_id);
    }
  }).catch(() => {}).finally(() => {
    refreshing = null;
  });
}
