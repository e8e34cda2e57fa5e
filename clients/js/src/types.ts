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
  InvitationCancelledData,
  InvitationReceivedData,
  UserUpdatedData,
  WorkspaceMemberJoinedData,
  WorkspaceMemberLeftData,
  WorkspaceMemberUpdatedData,
  WorkspaceRoomData,
  WorkspaceRoomDeletedData,
  WorkspaceUpdatedData,
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
  InvitationCancelledData,
  InvitationReceivedData,
  UserUpdatedData,
  WorkspaceMemberJoinedData,
  WorkspaceMemberLeftData,
  WorkspaceMemberUpdatedData,
  WorkspaceRoomData,
  WorkspaceRoomDeletedData,
  WorkspaceUpdatedData,
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
  | { action: "room_activity"; data: ActivityData }
  // The live sidebar of a followed workspace (subscribe_workspace): re-read the room
  // list and the members after a reconnect, as for room_activity.
  | { action: "workspace_room_created"; data: WorkspaceRoomData }
  | { action: "workspace_room_updated"; data: WorkspaceRoomData }
  | { action: "workspace_room_deleted"; data: WorkspaceRoomDeletedData }
  | { action: "workspace_member_joined"; data: WorkspaceMemberJoinedData }
  | { action: "workspace_member_left"; data: WorkspaceMemberLeftData }
  | { action: "workspace_member_updated"; data: WorkspaceMemberUpdatedData }
  | { action: "workspace_updated"; data: WorkspaceUpdatedData }
  // Someone's profile changed: show every message of `user_id` with this `user`.
  | { action: "user_updated"; data: UserUpdatedData }
  // An invitation to you, on every connection of yours.
  | { action: "invitation_received"; data: InvitationReceivedData }
  // An invitation to you was cancelled: take it off the list.
  | { action: "invitation_cancelled"; data: InvitationCancelledData };
export type SignalAction = Signal["action"];

/** A broadcast this version does not know (a newer server): passed on, never dropped. */
export interface UnknownBroadcast {
  action: string;
  data: unknown;
}

/** A `join_room_chat` reply: the history (no after_seq), or a catch-up (after_seq). */
export type JoinReplyData = JoinHistoryData | JoinCatchUpData;
