// The protocol's objects and frames, as the AsyncAPI document describes them
// (src/generated/asyncapi.ts, generated from src/roomchat/contract/asyncapi.yaml): the
// names a client uses, and the unions it switches on.

import type {
  ActivityData,
  DeleteReplyData,
  EditReplyData,
  Error as ErrorBody,
  JoinCatchUpData,
  JoinHistoryData,
  MemberJoinedData,
  MemberLeftData,
  Message,
  MessageContent,
  MessageDeletedData,
  MessageEditedData,
  PresenceData,
  ReactionCount,
  ReactionEventData,
  ReactionReplyData,
  ReadPositionData,
  ReadReceiptData,
  Room,
  RoomDeletedData,
  RoomEventItem,
  RoomUpdatedData,
  Thread,
  ThreadPositionData,
  ThreadUpdatedData,
  Timestamp,
  TypingData,
  User,
} from "./generated/asyncapi.js";

export type {
  ActivityData,
  DeleteReplyData,
  EditReplyData,
  JoinCatchUpData,
  JoinHistoryData,
  MemberJoinedData,
  MemberLeftData,
  Message,
  MessageContent,
  MessageDeletedData,
  MessageEditedData,
  PresenceData,
  ReactionEventData,
  ReactionReplyData,
  ReadReceiptData,
  Room,
  RoomDeletedData,
  RoomUpdatedData,
  Thread,
  ThreadPositionData,
  ThreadUpdatedData,
  Timestamp,
  TypingData,
  User,
};

/** One reaction on a message: `{reaction, count, user_ids}` (the first 20 who gave it). */
export type Reaction = ReactionCount;

/** The error object of REST and WebSocket alike. */
export type ErrorObject = ErrorBody;

/** A durable room event, as broadcast and as replayed (`{action, data}`): each takes the
 * room's next seq. */
export type RoomEvent = RoomEventItem;
export type RoomEventAction = RoomEvent["action"];

/** One's own read position (`mark_room_read` reply, `room_read_updated`). */
export type ReadStateData = ReadPositionData;
export type ReadReplyData = ReadPositionData;

/** A signal: no seq of its own, never replayed, may be lost. */
export type Signal =
  | { action: "typing_indicator"; data: TypingData }
  | { action: "room_chat_read"; data: ReadReceiptData }
  | { action: "room_read_updated"; data: ReadPositionData }
  | { action: "room_presence"; data: PresenceData }
  | { action: "room_activity"; data: ActivityData };
export type SignalAction = Signal["action"];

/** A broadcast this version does not know (a newer server): passed on, never dropped. */
export interface UnknownBroadcast {
  action: string;
  data: unknown;
}

/** A `join_room_chat` reply: the history (no after_seq), or a catch-up (after_seq). */
export type JoinReplyData = JoinHistoryData | JoinCatchUpData;
