// The rooms of the selected workspace as the room list shows them, each with the user's
// read state in it (unread_count, last_read_seq) and its newest message (last_message).
// A data module: it imports nothing of the client's.

let rooms = [];

export function listedRooms() {
  return rooms;
}

export function setListedRooms(list) {
  rooms = list;
}

export function listedRoom(roomId) {
  return rooms.find((r) => r.id === roomId) || null;
}

/** Some of a listed room's fields changed (its settings, its unread state). */
export function updateListedRoom(roomId, changes) {
  rooms = rooms.map((r) => (r.id === roomId ? { ...r, ...changes } : r));
}

export function unlistRoom(roomId) {
  rooms = rooms.filter((r) => r.id !== roomId);
}

/** The user's read position in a room, as the room list knows it (null: not a member). */
export function lastReadSeq(roomId) {
  const room = listedRoom(roomId);
  return typeof room?.last_read_seq === "number" ? room.last_read_seq : null;
}
