// The signed-in user's RoomchatClient (the SDK, served at /sdk/): the one connection, the
// followed room, the outbox and every REST endpoint. Every module reaches the server
// through it; none speaks the protocol itself.
// A data module: it imports nothing of the client's. What a refused session does (sign
// out) is registered once at start-up by app.js: session.js is above every module here.

let client = null;
let connectionNumber = 0;
let unauthorized = () => {};

/** A REST API for when nobody is signed in: every call fails as a closed client's would. */
const SIGNED_OUT = new Proxy({}, {
  get: () => () => Promise.reject(Object.assign(new Error("Signed out"), { code: "client_closed" })),
});

let guardedRest = SIGNED_OUT;

/** The RoomchatClient while signed in, else null. */
export function chat() {
  return client;
}

/** Signed in with `value` (a RoomchatClient), or signed out (null). */
export function setChat(value) {
  client = value;
  guardedRest = value ? guard(value.rest) : SIGNED_OUT;
}

/** Every REST endpoint (the SDK's RestApi), with the user's token. A session the server
 *  no longer accepts (`unauthorized`: the token cannot be renewed) signs out. */
export function rest() {
  return guardedRest;
}

/** What to do when the server refuses the session. */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

/** The connection is up and every followed room caught up: requests go out at once. */
export function isConnected() {
  return client?.state === "connected";
}

/** Which connection this is: it grows with every (re)connection, as the server forgets
 *  a connection's subscriptions when it closes. */
export function currentConnection() {
  return connectionNumber;
}

export function connectedAgain() {
  connectionNumber += 1;
}

function guard(api) {
  return new Proxy(api, {
    get(target, name) {
      const value = target[name];
      if (typeof value !== "function") return value;
      return (...args) => value.apply(target, args).catch((err) => {
        if (err?.code === "unauthorized" && client?.rest === target) unauthorized();
        throw err;
      });
    },
  });
}
