// Who is online in the open room: the join reply's online_user_ids (null: the room has
// no presence, and no dots are shown), then room_presence broadcasts. A signal: every
// (re)join's reply is the truth again. Whoever changes it redraws the members panel.

import { currentRoomId } from "/js/open_room_data.js";

let online = null; // Set of user ids, or null: not shown
let roomId = null;

/** A join reply's online_user_ids for the open room (or null when the room closes). */
export function setOnline(forRoomId, userIds) {
  roomId = forRoomId;
  online = Array.isArray(userIds) ? new Set(userIds) : null;
}

/** room_presence {room_id, user_id, online}. Returns whether it concerned the open room. */
export function onPresence(data) {
  if (online === null || data.room_id !== roomId || currentRoomId() !== roomId) return false;
  if (data.online) online.add(data.user_id);
  else online.delete(data.user_id);
  return true;
}

/** true / false, or null when the room shows no presence. */
export function isOnline(userId) {
  return online === null ? null : online.has(userId);
}
