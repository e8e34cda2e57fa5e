// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// @roomchat/client: the roomchat SDK for browsers and Node.js (docs/sdk-js.md).
export { RoomchatClient } from "./client.js";
export { RoomHandle } from "./room.js";
export { RoomchatError } from "./errors.js";
export { classifyClose } from "./closes.js";
export { RestApi, ENDPOINTS } from "./rest.js";
export { Http } from "./http.js";
export { TokenKeeper, jwtExpiry } from "./tokens.js";
export { memoryOutbox, webStorageOutbox } from "./outbox.js";
export { Backoff, MAX_RETRY_WAIT_MS } from "./backoff.js";
export { Sequencer, roomPosition } from "./sequencer.js";
export { ROOM_EVENT_ACTIONS, SIGNAL_ACTIONS } from "./generated/actions.js";
