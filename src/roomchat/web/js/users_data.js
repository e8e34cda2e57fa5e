// Everyone the page has seen, by id, as newest known (docs/protocol.md "Profiles:
// user_updated"): every place that draws a user (a message's author, the members, "Seen
// by", the typing line, the pickers) reads userById(), so a changed name or picture shows
// on old messages too.
//
// What counts as newest: a user_updated signal, then a list read from the server (room
// members, workspace members, the user's own profile) unless a user_updated for that id
// came while the list was being read, and only for a user not known yet, the copy a
// message carries (as it was when it was sent).
// A data module: it imports nothing of the client's.

let users = new Map(); // user_id -> user
let clock = 0; // counts user_updated signals
const updatedAt = new Map(); // user_id -> the clock of its last user_updated

/** The newest user known with this id (undefined: never seen). */
export function userById(userId) {
  return users.get(userId);
}

/** The clock to pass as `asOf` to noteUsers(), read before a list is requested. */
export function usersClock() {
  return clock;
}

function merge(user) {
  users.set(user.id, { ...users.get(user.id), ...user });
}

/** Users read from the server (a members list, the user's profile): newer than what was
 *  known, except for an id whose user_updated came after `asOf` (usersClock() taken
 *  before the request). */
export function noteUsers(list, { asOf = clock } = {}) {
  for (const user of list) {
    if (!user || typeof user.id !== "number") continue;
    if ((updatedAt.get(user.id) ?? 0) > asOf) continue;
    merge(user);
  }
}

/** A user as a message or an event carried it (maybe old): kept only if nobody newer is. */
export function noteUserSeen(user) {
  if (user && typeof user.id === "number" && !users.has(user.id)) users.set(user.id, { ...user });
}

/** user_updated {user_id, user}: the newest there is. */
export function userUpdated(user) {
  if (!user || typeof user.id !== "number") return;
  clock += 1;
  updatedAt.set(user.id, clock);
  merge(user);
}

/** Signed out: nobody known. */
export function clearUsers() {
  users = new Map();
  updatedAt.clear();
}
