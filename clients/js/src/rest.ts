// Every REST endpoint as a typed method. Types come from the OpenAPI document
// (src/generated/openapi.ts, `npm run generate`): a route that changes there fails the
// build here. ENDPOINTS is the table a test compares with the server's /openapi.json.

import type { paths } from "./generated/openapi.js";
import { Http, type HttpOptions, type HttpReply, type Query } from "./http.js";

/** method, path template (as OpenAPI writes it). */
export const ENDPOINTS = {
  register: ["POST", "/api/v1/auth/register"],
  login: ["POST", "/api/v1/auth/login"],
  refresh: ["POST", "/api/v1/auth/refresh"],
  logout: ["POST", "/api/v1/auth/logout"],
  wsTicket: ["POST", "/api/v1/auth/ws-ticket"],
  me: ["GET", "/api/v1/users/me"],
  updateMe: ["PATCH", "/api/v1/users/me"],
  setAvatar: ["PUT", "/api/v1/users/me/avatar"],

  createWorkspace: ["POST", "/api/v1/workspaces/"],
  listWorkspaces: ["GET", "/api/v1/workspaces/"],
  inviteToWorkspace: ["POST", "/api/v1/workspaces/{workspace_id}/members"],
  listWorkspaceMembers: ["GET", "/api/v1/workspaces/{workspace_id}/members"],
  leaveWorkspace: ["DELETE", "/api/v1/workspaces/{workspace_id}/members/me"],
  removeWorkspaceMember: ["DELETE", "/api/v1/workspaces/{workspace_id}/members/{user_id}"],
  setWorkspaceRole: ["PATCH", "/api/v1/workspaces/{workspace_id}/members/{user_id}"],
  renameWorkspace: ["PATCH", "/api/v1/workspaces/{workspace_id}"],
  listPendingInvitations: ["GET", "/api/v1/workspaces/{workspace_id}/invitations"],
  transferWorkspace: ["POST", "/api/v1/workspaces/{workspace_id}/owner"],
  workspaceUnread: ["GET", "/api/v1/workspaces/{workspace_id}/unread"],

  listInvitations: ["GET", "/api/v1/invitations"],
  acceptInvitation: ["POST", "/api/v1/invitations/{invitation_id}/accept"],
  declineInvitation: ["POST", "/api/v1/invitations/{invitation_id}/decline"],
  cancelInvitation: ["DELETE", "/api/v1/invitations/{invitation_id}"],

  createRoom: ["POST", "/api/v1/room-chats/"],
  listRooms: ["GET", "/api/v1/room-chats/workspace/{workspace_id}"],
  joinByToken: ["POST", "/api/v1/room-chats/join/{join_token}"],
  joinByLink: ["POST", "/api/v1/room-chats/join"],
  getRoom: ["GET", "/api/v1/room-chats/{room_id}"],
  updateRoom: ["PATCH", "/api/v1/room-chats/{room_id}"],
  rotateRoomLink: ["POST", "/api/v1/room-chats/{room_id}/link/rotate"],
  deleteRoom: ["DELETE", "/api/v1/room-chats/{room_id}"],
  listMessages: ["GET", "/api/v1/room-chats/{room_id}/messages"],
  postMessage: ["POST", "/api/v1/room-chats/{room_id}/messages"],
  messageReaders: ["GET", "/api/v1/room-chats/{room_id}/messages/{message_id}/readers"],
  roomEvents: ["GET", "/api/v1/room-chats/{room_id}/events"],
  threadMessages: ["GET", "/api/v1/room-chats/{room_id}/threads/{root_id}"],
  followedThreads: ["GET", "/api/v1/workspaces/{workspace_id}/threads"],
  openDirectChat: ["POST", "/api/v1/direct-chats/"],
  uploadAttachment: ["POST", "/api/v1/room-chats/{room_id}/attachments"],
  listAttachments: ["GET", "/api/v1/room-chats/{room_id}/attachments"],
  getAttachment: ["GET", "/api/v1/attachments/{attachment_id}"],

  listRoomMembers: ["GET", "/api/v1/room-users/room/{room_id}"],
  addRoomMember: ["POST", "/api/v1/room-users/room/{room_id}"],
  removeRoomMember: ["DELETE", "/api/v1/room-users/room/{room_id}/users/{user_id}"],

  createApiKey: ["POST", "/api/v1/workspaces/{workspace_id}/api-keys"],
  listApiKeys: ["GET", "/api/v1/workspaces/{workspace_id}/api-keys"],
  revokeApiKey: ["DELETE", "/api/v1/workspaces/{workspace_id}/api-keys/{key_id}"],

  createWebhook: ["POST", "/api/v1/workspaces/{workspace_id}/webhooks"],
  listWebhooks: ["GET", "/api/v1/workspaces/{workspace_id}/webhooks"],
  getWebhook: ["GET", "/api/v1/workspaces/{workspace_id}/webhooks/{webhook_id}"],
  updateWebhook: ["PATCH", "/api/v1/workspaces/{workspace_id}/webhooks/{webhook_id}"],
  rotateWebhookSecret: ["POST", "/api/v1/workspaces/{workspace_id}/webhooks/{webhook_id}/secret/rotate"],
  deleteWebhook: ["DELETE", "/api/v1/workspaces/{workspace_id}/webhooks/{webhook_id}"],
  webhookDeliveries: ["GET", "/api/v1/workspaces/{workspace_id}/webhooks/{webhook_id}/deliveries"],

  healthz: ["GET", "/healthz"],
  readyz: ["GET", "/readyz"],
} as const satisfies Record<string, readonly [string, keyof paths]>;

type Endpoints = typeof ENDPOINTS;
type Name = keyof Endpoints;
type PathOf<N extends Name> = Endpoints[N][1];
type MethodOf<N extends Name> = Lowercase<Endpoints[N][0]>;
type Operation<N extends Name> = paths[PathOf<N>] extends infer P
  ? MethodOf<N> extends keyof P
    ? NonNullable<P[MethodOf<N>]>
    : never
  : never;

type JsonOf<R> = R extends { content: { "application/json": infer B } } ? B : never;
type SuccessCodes = 200 | 201 | 202;
type SuccessBody<O> = O extends { responses: infer Rs }
  ? { [S in keyof Rs]: S extends SuccessCodes ? JsonOf<Rs[S]> : never }[keyof Rs]
  : never;

/** What an endpoint answers: the envelope's `data`. */
export type ResponseData<N extends Name> = SuccessBody<Operation<N>> extends infer B
  ? B extends { data: infer D }
    ? D
    : B
  : never;

/** What an endpoint takes as its JSON body. */
export type RequestBody<N extends Name> = Operation<N> extends { requestBody?: infer R } ? JsonOf<NonNullable<R>> : never;

/** What an endpoint takes as its query. */
export type QueryOf<N extends Name> = Operation<N> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

export interface RoomPage {
  rooms: ResponseData<"listRooms">;
  /** The next page's cursor (the `Link` header), or null on the last page. */
  nextCursor: string | null;
}

export class RestApi {
  readonly http: Http;

  constructor(options: HttpOptions | Http) {
    this.http = options instanceof Http ? options : new Http(options);
  }

  // -- auth and the user -------------------------------------------------------------

  register(body: RequestBody<"register">): Promise<ResponseData<"register">> {
    return this.#call("register", {}, { body, auth: false });
  }
  login(body: RequestBody<"login">): Promise<ResponseData<"login">> {
    return this.#call("login", {}, { body, auth: false });
  }
  /** A new token of the same login session, for `token` (default: the current one). */
  refresh(token?: string): Promise<ResponseData<"refresh">> {
    return this.#call("refresh", {}, token === undefined ? {} : { token });
  }
  /** Revoke this login session (`all`: every session of the user); its sockets close. */
  logout(body: RequestBody<"logout"> = { all: false }, token?: string): Promise<ResponseData<"logout">> {
    return this.#call("logout", {}, token === undefined ? { body } : { body, token });
  }
  /** A single-use ticket that opens one WebSocket within 30 s. */
  wsTicket(token?: string): Promise<ResponseData<"wsTicket">> {
    return this.#call("wsTicket", {}, token === undefined ? {} : { token });
  }
  me(): Promise<ResponseData<"me">> {
    return this.#call("me", {});
  }
  updateMe(body: RequestBody<"updateMe">): Promise<ResponseData<"updateMe">> {
    return this.#call("updateMe", {}, { body });
  }
  /** Set your picture: its bytes (PNG, JPEG, GIF or WebP, at most 2 MiB), cropped to a
   * square on the server; the user with their new `avatar_url`. */
  setAvatar(picture: Blob | Uint8Array): Promise<ResponseData<"setAvatar">> {
    return this.#call("setAvatar", {}, { body: picture });
  }

  // -- workspaces ----------------------------------------------------------------------

  createWorkspace(body: RequestBody<"createWorkspace">): Promise<ResponseData<"createWorkspace">> {
    return this.#call("createWorkspace", {}, { body });
  }
  listWorkspaces(): Promise<ResponseData<"listWorkspaces">> {
    return this.#call("listWorkspaces", {});
  }
  /** Invite `{user_id}` or `{username}` (the owner only); the same answer whoever it is. */
  inviteToWorkspace(workspaceId: number, body: RequestBody<"inviteToWorkspace">): Promise<ResponseData<"inviteToWorkspace">> {
    return this.#call("inviteToWorkspace", { workspace_id: workspaceId }, { body });
  }
  listWorkspaceMembers(workspaceId: number): Promise<ResponseData<"listWorkspaceMembers">> {
    return this.#call("listWorkspaceMembers", { workspace_id: workspaceId });
  }
  leaveWorkspace(workspaceId: number): Promise<ResponseData<"leaveWorkspace">> {
    return this.#call("leaveWorkspace", { workspace_id: workspaceId });
  }
  /** Remove a member (the owner; an admin: members only): they leave every room of it. */
  removeWorkspaceMember(workspaceId: number, userId: number): Promise<ResponseData<"removeWorkspaceMember">> {
    return this.#call("removeWorkspaceMember", { workspace_id: workspaceId, user_id: userId });
  }
  /** `{role: "admin" | "member"}` (the owner only). */
  setWorkspaceRole(workspaceId: number, userId: number, body: RequestBody<"setWorkspaceRole">): Promise<ResponseData<"setWorkspaceRole">> {
    return this.#call("setWorkspaceRole", { workspace_id: workspaceId, user_id: userId }, { body });
  }
  /** `{name}` (the owner only; unique among the owner's workspaces). */
  renameWorkspace(workspaceId: number, body: RequestBody<"renameWorkspace">): Promise<ResponseData<"renameWorkspace">> {
    return this.#call("renameWorkspace", { workspace_id: workspaceId }, { body });
  }
  /** One page of the members by user id: `{limit, after}` (the last user_id seen). */
  listWorkspaceMembersPage(workspaceId: number, query: QueryOf<"listWorkspaceMembers"> = {}): Promise<ResponseData<"listWorkspaceMembers">> {
    return this.#call("listWorkspaceMembers", { workspace_id: workspaceId }, { query: query as Query });
  }
  /** The workspace's unanswered invitations (the owner or an admin). */
  listPendingInvitations(workspaceId: number): Promise<ResponseData<"listPendingInvitations">> {
    return this.#call("listPendingInvitations", { workspace_id: workspaceId });
  }
  transferWorkspace(workspaceId: number, body: RequestBody<"transferWorkspace">): Promise<ResponseData<"transferWorkspace">> {
    return this.#call("transferWorkspace", { workspace_id: workspaceId }, { body });
  }
  workspaceUnread(workspaceId: number): Promise<ResponseData<"workspaceUnread">> {
    return this.#call("workspaceUnread", { workspace_id: workspaceId });
  }

  listInvitations(): Promise<ResponseData<"listInvitations">> {
    return this.#call("listInvitations", {});
  }
  acceptInvitation(invitationId: number): Promise<ResponseData<"acceptInvitation">> {
    return this.#call("acceptInvitation", { invitation_id: invitationId });
  }
  declineInvitation(invitationId: number): Promise<ResponseData<"declineInvitation">> {
    return this.#call("declineInvitation", { invitation_id: invitationId });
  }
  /** Cancel a pending invitation (the owner or an admin of its workspace). */
  cancelInvitation(invitationId: number): Promise<ResponseData<"cancelInvitation">> {
    return this.#call("cancelInvitation", { invitation_id: invitationId });
  }

  // -- rooms ---------------------------------------------------------------------------

  createRoom(body: RequestBody<"createRoom">): Promise<ResponseData<"createRoom">> {
    return this.#call("createRoom", {}, { body });
  }
  /** The workspace's rooms (all of them within the server's default page of 1000). */
  listRooms(workspaceId: number): Promise<ResponseData<"listRooms">> {
    return this.#call("listRooms", { workspace_id: workspaceId });
  }
  /** One page of the room list; follow `nextCursor` until it is null. */
  async listRoomsPage(workspaceId: number, query: { limit?: number; cursor?: string | null } = {}): Promise<RoomPage> {
    const reply = await this.#request<ResponseData<"listRooms">>("listRooms", { workspace_id: workspaceId }, { query });
    return { rooms: reply.data, nextCursor: nextCursor(reply) };
  }
  joinByToken(joinToken: string, body?: RequestBody<"joinByToken">): Promise<ResponseData<"joinByToken">> {
    return this.#call("joinByToken", { join_token: joinToken }, body === undefined ? {} : { body });
  }
  /** Join with `{link_token}` or `{link_join}` (the room's link as shown), and `passcode`. */
  joinByLink(body: RequestBody<"joinByLink">): Promise<ResponseData<"joinByLink">> {
    return this.#call("joinByLink", {}, { body });
  }
  getRoom(roomId: number): Promise<ResponseData<"getRoom">> {
    return this.#call("getRoom", { room_id: roomId });
  }
  updateRoom(roomId: number, body: RequestBody<"updateRoom">): Promise<ResponseData<"updateRoom">> {
    return this.#call("updateRoom", { room_id: roomId }, { body });
  }
  rotateRoomLink(roomId: number): Promise<ResponseData<"rotateRoomLink">> {
    return this.#call("rotateRoomLink", { room_id: roomId });
  }
  deleteRoom(roomId: number): Promise<ResponseData<"deleteRoom">> {
    return this.#call("deleteRoom", { room_id: roomId });
  }
  /** History as it is now: `{before_seq}` (older), `{after_seq}`, `limit` 1-100. */
  listMessages(roomId: number, query: QueryOf<"listMessages"> = {}): Promise<ResponseData<"listMessages">> {
    return this.#call("listMessages", { room_id: roomId }, { query: query as Query });
  }
  /** Send as a room member over REST (a bot by API key, say); the stored message. */
  postMessage(roomId: number, body: RequestBody<"postMessage">): Promise<ResponseData<"postMessage">> {
    return this.#call("postMessage", { room_id: roomId }, { body });
  }
  messageReaders(roomId: number, messageId: number): Promise<ResponseData<"messageReaders">> {
    return this.#call("messageReaders", { room_id: roomId, message_id: messageId });
  }
  /** The room's event log after `after_seq`, each event as broadcast. */
  roomEvents(roomId: number, query: QueryOf<"roomEvents"> = {}): Promise<ResponseData<"roomEvents">> {
    return this.#call("roomEvents", { room_id: roomId }, { query: query as Query });
  }

  /** A thread after `after_seq`: its root (when after it), then its replies. */
  threadMessages(roomId: number, rootId: number, query: QueryOf<"threadMessages"> = {}): Promise<ResponseData<"threadMessages">> {
    return this.#call("threadMessages", { room_id: roomId, root_id: rootId }, { query: query as Query });
  }
  /** The threads you follow in a workspace, newest activity first, with your unread replies. */
  followedThreads(workspaceId: number, query: QueryOf<"followedThreads"> = {}): Promise<ResponseData<"followedThreads">> {
    return this.#call("followedThreads", { workspace_id: workspaceId }, { query: query as Query });
  }
  /** The one direct conversation of you and `user_ids` (made if there is none): join it as a room. */
  openDirectChat(body: RequestBody<"openDirectChat">): Promise<ResponseData<"openDirectChat">> {
    return this.#call("openDirectChat", {}, { body });
  }

  // -- files ---------------------------------------------------------------------------

  /** Upload one file to a room (a member's): the attachment, to send with
   * `attachment_ids`. Its type is read from its bytes by the server; `filename` is what
   * others see (default: the Blob's own name when it is a File). Over the server's limit:
   * `payload_too_large`, whose `details.max_upload_bytes` says the limit. */
  uploadAttachment(roomId: number, file: Blob | Uint8Array, filename?: string): Promise<ResponseData<"uploadAttachment">> {
    const blob = file instanceof Blob ? file : new Blob([file.slice()]);
    const name = filename ?? (typeof File !== "undefined" && blob instanceof File ? blob.name : "file");
    const form = new FormData();
    form.append("file", blob, name);
    return this.#call("uploadAttachment", { room_id: roomId }, { body: form });
  }
  /** A room's files, newest first (the "Files" view), with fresh URLs. */
  listAttachments(roomId: number, query: QueryOf<"listAttachments"> = {}): Promise<ResponseData<"listAttachments">> {
    return this.#call("listAttachments", { room_id: roomId }, { query: query as Query });
  }
  /** One attachment with freshly signed URLs (a page open past their expiry). */
  getAttachment(attachmentId: number): Promise<ResponseData<"getAttachment">> {
    return this.#call("getAttachment", { attachment_id: attachmentId }, {});
  }

  listRoomMembers(roomId: number): Promise<ResponseData<"listRoomMembers">> {
    return this.#call("listRoomMembers", { room_id: roomId });
  }
  addRoomMember(roomId: number, body: RequestBody<"addRoomMember">): Promise<ResponseData<"addRoomMember">> {
    return this.#call("addRoomMember", { room_id: roomId }, { body });
  }
  /** Leave (your own id) or remove someone (the room's creator or the workspace owner). */
  removeRoomMember(roomId: number, userId: number): Promise<ResponseData<"removeRoomMember">> {
    return this.#call("removeRoomMember", { room_id: roomId, user_id: userId });
  }

  // -- API keys and webhooks (the workspace owner) ---------------------------------------

  createApiKey(workspaceId: number, body: RequestBody<"createApiKey">): Promise<ResponseData<"createApiKey">> {
    return this.#call("createApiKey", { workspace_id: workspaceId }, { body });
  }
  listApiKeys(workspaceId: number): Promise<ResponseData<"listApiKeys">> {
    return this.#call("listApiKeys", { workspace_id: workspaceId });
  }
  revokeApiKey(workspaceId: number, keyId: number): Promise<ResponseData<"revokeApiKey">> {
    return this.#call("revokeApiKey", { workspace_id: workspaceId, key_id: keyId });
  }
  createWebhook(workspaceId: number, body: RequestBody<"createWebhook">): Promise<ResponseData<"createWebhook">> {
    return this.#call("createWebhook", { workspace_id: workspaceId }, { body });
  }
  listWebhooks(workspaceId: number): Promise<ResponseData<"listWebhooks">> {
    return this.#call("listWebhooks", { workspace_id: workspaceId });
  }
  getWebhook(workspaceId: number, webhookId: number): Promise<ResponseData<"getWebhook">> {
    return this.#call("getWebhook", { workspace_id: workspaceId, webhook_id: webhookId });
  }
  updateWebhook(workspaceId: number, webhookId: number, body: RequestBody<"updateWebhook">): Promise<ResponseData<"updateWebhook">> {
    return this.#call("updateWebhook", { workspace_id: workspaceId, webhook_id: webhookId }, { body });
  }
  rotateWebhookSecret(workspaceId: number, webhookId: number): Promise<ResponseData<"rotateWebhookSecret">> {
    return this.#call("rotateWebhookSecret", { workspace_id: workspaceId, webhook_id: webhookId });
  }
  deleteWebhook(workspaceId: number, webhookId: number): Promise<ResponseData<"deleteWebhook">> {
    return this.#call("deleteWebhook", { workspace_id: workspaceId, webhook_id: webhookId });
  }
  webhookDeliveries(workspaceId: number, webhookId: number, query: QueryOf<"webhookDeliveries"> = {}): Promise<ResponseData<"webhookDeliveries">> {
    return this.#call("webhookDeliveries", { workspace_id: workspaceId, webhook_id: webhookId }, { query: query as Query });
  }

  // -- operations ----------------------------------------------------------------------

  healthz(): Promise<ResponseData<"healthz">> {
    return this.#call("healthz", {}, { auth: false });
  }
  readyz(): Promise<ResponseData<"readyz">> {
    return this.#call("readyz", {}, { auth: false });
  }

  async #call<T>(name: Name, params: Record<string, string | number>, options: CallOptions = {}): Promise<T> {
    return (await this.#request<T>(name, params, options)).data;
  }

  #request<T>(name: Name, params: Record<string, string | number>, options: CallOptions = {}): Promise<HttpReply<T>> {
    const [method, template] = ENDPOINTS[name];
    const path = template.replace(/\{(\w+)\}/g, (_, key: string) => {
      const value = params[key];
      if (value === undefined) throw new TypeError(`${name}: ${key} is missing`);
      return encodeURIComponent(String(value));
    });
    return this.http.request<T>(method, path, options);
  }
}

interface CallOptions {
  body?: unknown;
  query?: Query;
  auth?: boolean;
  token?: string;
}

/** The `cursor` of a `Link: <...>; rel="next"` header. */
function nextCursor(reply: HttpReply<unknown>): string | null {
  const link = reply.headers.get("link");
  const match = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
  if (!match?.[1]) return null;
  try {
    return new URL(match[1]).searchParams.get("cursor");
  } catch {
    return null;
  }
}
