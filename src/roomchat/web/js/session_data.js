// The signed-in user: their access token (kept across reloads) and who they are.
// A data module: it imports nothing of the client's.

const KEY_TOKEN = "roomchat.token";

let token = localStorage.getItem(KEY_TOKEN);
let me = null;

export function accessToken() {
  return token;
}

export function storeToken(value) {
  token = value;
  localStorage.setItem(KEY_TOKEN, value);
}

/** The signed-in user ({id, username, display_name, share_read_receipts}), or null. */
export function currentUser() {
  return me;
}

export function setCurrentUser(user) {
  me = user;
}

/** Signed out: no token, no user, nothing kept for the next page load. */
export function clearSession() {
  token = null;
  me = null;
  localStorage.removeItem(KEY_TOKEN);
}
