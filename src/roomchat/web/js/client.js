// The REST client every module talks to, with the signed-in user's token.
// What a 401 does (sign out) is registered once at start-up by app.js: session.js is
// above every module that makes a request.

import { Api } from "/js/api.js";
import { accessToken } from "/js/session_data.js";

let unauthorized = () => {};

export const api = new Api(accessToken, () => unauthorized());

/** What to do when the server refuses the token (401). */
export function onUnauthorized(handler) {
  unauthorized = handler;
}
