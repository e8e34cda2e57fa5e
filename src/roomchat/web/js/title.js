// The page's title: "roomchat", or "(N) roomchat" while N unread messages mention the
// user in the selected workspace's rooms (each room row's mention_count, kept live by
// room_activity and room_read_updated: js/unread.js), so a background tab says so.

import { listedRooms } from "/js/rooms_data.js";

export const BASE_TITLE = "roomchat";

/** The unread mentions of the listed rooms, summed. */
export function unreadMentions() {
  let total = 0;
  for (const room of listedRooms()) total += Math.max(0, Number(room.mention_count) || 0);
  return total;
}

/** Bring the title up to date with the room list. */
export function updateTitle() {
  const mentions = unreadMentions();
  const title = mentions > 0 ? `(${mentions > 99 ? "99+" : mentions}) ${BASE_TITLE}` : BASE_TITLE;
  if (document.title !== title) document.title = title;
}
