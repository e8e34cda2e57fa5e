// @roomchat/client: the roomchat SDK for browsers and Node.js (docs/sdk-js.md).

export { RoomchatClient } from "./client.js";
export type { ClientEvents, ClientOptions, ConnectionState, Environment, StateChange } from "./options.js";
export { RoomHandle } from "./room.js";
export type { RoomEvents, SendOptions } from "./room.js";
export type { OptimisticMessage, RoomState, RoomStatus, SentMessage, TimelineMessage } from "./roomstate.js";
export { RoomchatError } from "./errors.js";
export type { ClientErrorCode, ErrorCode, ServerErrorCode } from "./errors.js";
export { classifyClose } from "./closes.js";
export type { CloseKind, DisconnectCode, DisconnectReason } from "./closes.js";
export { RestApi, ENDPOINTS } from "./rest.js";
export type { QueryOf, RequestBody, ResponseData, RoomPage } from "./rest.js";
export { Http } from "./http.js";
export type { BearerSource, FetchLike, HttpOptions } from "./http.js";
export { TokenKeeper, jwtExpiry } from "./tokens.js";
export type { TokenGrant, TokenProvider, TokenRequest, TokenRequestReason } from "./tokens.js";
export { memoryOutbox, webStorageOutbox } from "./outbox.js";
export type { OutboxEntry, OutboxStatus, OutboxStorage } from "./outbox.js";
export { Backoff, MAX_RETRY_WAIT_MS } from "./backoff.js";
export type { BackoffOptions } from "./backoff.js";
export { Sequencer, roomPosition } from "./sequencer.js";
export { ROOM_EVENT_ACTIONS, SIGNAL_ACTIONS } from "./generated/actions.js";
export type { ReplyHook, WebSocketConstructor, WebSocketLike } from "./socket.js";
export type * from "./types.js";
