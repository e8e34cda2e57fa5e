// Who is online in the open room, as the SDK's room state has it (the join reply's
// online_user_ids, then room_presence; null: the room shows no presence, and no dots).

import { openHandle } from "/js/open_room_data.js";

/** true / false, or null when the room shows no presence. */
export function isOnline(userId) {
  const online = openHandle()?.state.online ?? null;
  return online === null ? null : online.includes(userId);
}

/** A key that changes when who is online does (to redraw the members only then). */
export function onlineKey() {
  const online = openHandle()?.state.online ?? null;
  return online === null ? "" : online.join(",");
}
