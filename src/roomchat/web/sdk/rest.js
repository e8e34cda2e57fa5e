// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// Every REST endpoint as a typed method. Types come from the OpenAPI document
// (src/generated/openapi.ts, `npm run generate`): a route that changes there fails the
// build here. ENDPOINTS is the table a test compares with the server's /openapi.json.
import { Http } from "./http.js";
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
};
export class RestApi {
    http;
    constructor(options) {
        this.http = options instanceof Http ? options : new Http(options);
    }
    // -- auth and the user -------------------------------------------------------------
    register(body) {
        return this.#call("register", {}, { body, auth: false });
    }
    login(body) {
        return this.#call("login", {}, { body, auth: false });
    }
    /** A new token of the same login session, for `token` (default: the current one). */
    refresh(token) {
        return this.#call("refresh", {}, token === undefined ? {} : { token });
    }
    /** Revoke this login session (`all`: every session of the user); its sockets close. */
    logout(body = { all: false }, token) {
        return this.#call("logout", {}, token === undefined ? { body } : { body, token });
    }
    /** A single-use ticket that opens one WebSocket within 30 s. */
    wsTicket(token) {
        return this.#call("wsTicket", {}, token === undefined ? {} : { token });
    }
    me() {
        return this.#call("me", {});
    }
    updateMe(body) {
        return this.#call("updateMe", {}, { body });
    }
    /** Set your picture: its bytes (PNG, JPEG, GIF or WebP, at most 2 MiB), cropped to a
     * square on the server; the user with their new `avatar_url`. */
    setAvatar(picture) {
        return this.#call("setAvatar", {}, { body: picture });
    }
    // -- workspaces ----------------------------------------------------------------------
    createWorkspace(body) {
        return this.#call("createWorkspace", {}, { body });
    }
    listWorkspaces() {
        return this.#call("listWorkspaces", {});
    }
    /** Invite `{user_id}` or `{username}` (the owner only); the same answer whoever it is. */
    inviteToWorkspace(workspaceId, body) {
        return this.#call("inviteToWorkspace", { workspace_id: workspaceId }, { body });
    }
    listWorkspaceMembers(workspaceId) {
        return this.#call("listWorkspaceMembers", { workspace_id: workspaceId });
    }
    leaveWorkspace(workspaceId) {
        return this.#call("leaveWorkspace", { workspace_id: workspaceId });
    }
    /** Remove a member (the owner; an admin: members only): they leave every room of it. */
    removeWorkspaceMember(workspaceId, userId) {
        return this.#call("removeWorkspaceMember", { workspace_id: workspaceId, user_id: userId });
    }
    /** `{role: "admin" | "member"}` (the owner only). */
    setWorkspaceRole(workspaceId, userId, body) {
        return this.#call("setWorkspaceRole", { workspace_id: workspaceId, user_id: userId }, { body });
    }
    /** `{name}` (the owner only; unique among the owner's workspaces). */
    renameWorkspace(workspaceId, body) {
        return this.#call("renameWorkspace", { workspace_id: workspaceId }, { body });
    }
    /** One page of the members by user id: `{limit, after}` (the last user_id seen). */
    listWorkspaceMembersPage(workspaceId, query = {}) {
        return this.#call("listWorkspaceMembers", { workspace_id: workspaceId }, { query: query });
    }
    /** The workspace's unanswered invitations (the owner or an admin). */
    listPendingInvitations(workspaceId) {
        return this.#call("listPendingInvitations", { workspace_id: workspaceId });
    }
    transferWorkspace(workspaceId, body) {
        return this.#call("transferWorkspace", { workspace_id: workspaceId }, { body });
    }
    workspaceUnread(workspaceId) {
        return this.#call("workspaceUnread", { workspace_id: workspaceId });
    }
    listInvitations() {
        return this.#call("listInvitations", {});
    }
    acceptInvitation(invitationId) {
        return this.#call("acceptInvitation", { invitation_id: invitationId });
    }
    declineInvitation(invitationId) {
        return this.#call("declineInvitation", { invitation_id: invitationId });
    }
    /** Cancel a pending invitation (the owner or an admin of its workspace). */
    cancelInvitation(invitationId) {
        return this.#call("cancelInvitation", { invitation_id: invitationId });
    }
    // -- rooms ---------------------------------------------------------------------------
    createRoom(body) {
        return this.#call("createRoom", {}, { body });
    }
    /** The workspace's rooms (all of them within the server's default page of 1000). */
    listRooms(workspaceId) {
        return this.#call("listRooms", { workspace_id: workspaceId });
    }
    /** One page of the room list; follow `nextCursor` until it is null. */
    async listRoomsPage(workspaceId, query = {}) {
        const reply = await this.#request("listRooms", { workspace_id: workspaceId }, { query });
        return { rooms: reply.data, nextCursor: nextCursor(reply) };
    }
    joinByToken(joinToken, body) {
        return this.#call("joinByToken", { join_token: joinToken }, body === undefined ? {} : { body });
    }
    /** Join with `{link_token}` or `{link_join}` (the room's link as shown), and `passcode`. */
    joinByLink(body) {
        return this.#call("joinByLink", {}, { body });
    }
    getRoom(roomId) {
        return this.#call("getRoom", { room_id: roomId });
    }
    updateRoom(roomId, body) {
        return this.#call("updateRoom", { room_id: roomId }, { body });
    }
    rotateRoomLink(roomId) {
        return this.#call("rotateRoomLink", { room_id: roomId });
    }
    deleteRoom(roomId) {
        return this.#call("deleteRoom", { room_id: roomId });
    }
    /** History as it is now: `{before_seq}` (older), `{after_seq}`, `limit` 1-100. */
    listMessages(roomId, query = {}) {
        return this.#call("listMessages", { room_id: roomId }, { query: query });
    }
    /** Send as a room member over REST (a bot by API key, say); the stored message. */
    postMessage(roomId, body) {
        return this.#call("postMessage", { room_id: roomId }, { body });
    }
    messageReaders(roomId, messageId) {
        return this.#call("messageReaders", { room_id: roomId, message_id: messageId });
    }
    /** The room's event log after `after_seq`, each event as broadcast. */
    roomEvents(roomId, query = {}) {
        return this.#call("roomEvents", { room_id: roomId }, { query: query });
    }
    /** A thread after `after_seq`: its root (when after it), then its replies. */
    threadMessages(roomId, rootId, query = {}) {
        return this.#call("threadMessages", { room_id: roomId, root_id: rootId }, { query: query });
    }
    /** The threads you follow in a workspace, newest activity first, with your unread replies. */
    followedThreads(workspaceId, query = {}) {
        return this.#call("followedThreads", { workspace_id: workspaceId }, { query: query });
    }
    /** The one direct conversation of you and `user_ids` (made if there is none): join it as a room. */
    openDirectChat(body) {
        return this.#call("openDirectChat", {}, { body });
    }
    // -- files ---------------------------------------------------------------------------
    /** Upload one file to a room (a member's): the attachment, to send with
     * `attachment_ids`. Its type is read from its bytes by the server; `filename` is what
     * others see (default: the Blob's own name when it is a File). Over the server's limit:
     * `payload_too_large`, whose `details.max_upload_bytes` says the limit. */
    uploadAttachment(roomId, file, filename) {
        const blob = file instanceof Blob ? file : new Blob([file.slice()]);
        const name = filename ?? (typeof File !== "undefined" && blob instanceof File ? blob.name : "file");
        const form = new FormData();
        form.append("file", blob, name);
        return this.#call("uploadAttachment", { room_id: roomId }, { body: form });
    }
    /** A room's files, newest first (the "Files" view), with fresh URLs. */
    listAttachments(roomId, query = {}) {
        return this.#call("listAttachments", { room_id: roomId }, { query: query });
    }
    /** One attachment with freshly signed URLs (a page open past their expiry). */
    getAttachment(attachmentId) {
        return this.#call("getAttachment", { attachment_id: attachmentId }, {});
    }
    listRoomMembers(roomId) {
        return this.#call("listRoomMembers", { room_id: roomId });
    }
    addRoomMember(roomId, body) {
        return this.#call("addRoomMember", { room_id: roomId }, { body });
    }
    /** Leave (your own id) or remove someone (the room's creator or the workspace owner). */
    removeRoomMember(roomId, userId) {
        return this.#call("removeRoomMember", { room_id: roomId, user_id: userId });
    }
    // -- API keys and webhooks (the workspace owner) ---------------------------------------
    createApiKey(workspaceId, body) {
        return this.#call("createApiKey", { workspace_id: workspaceId }, { body });
    }
    listApiKeys(workspaceId) {
        return this.#call("listApiKeys", { workspace_id: workspaceId });
    }
    revokeApiKey(workspaceId, keyId) {
        return this.#call("revokeApiKey", { workspace_id: workspaceId, key_id: keyId });
    }
    createWebhook(workspaceId, body) {
        return this.#call("createWebhook", { workspace_id: workspaceId }, { body });
    }
    listWebhooks(workspaceId) {
        return this.#call("listWebhooks", { workspace_id: workspaceId });
    }
    getWebhook(workspaceId, webhookId) {
        return this.#call("getWebhook", { workspace_id: workspaceId, webhook_id: webhookId });
    }
    updateWebhook(workspaceId, webhookId, body) {
        return this.#call("updateWebhook", { workspace_id: workspaceId, webhook_id: webhookId }, { body });
    }
    rotateWebhookSecret(workspaceId, webhookId) {
        return this.#call("rotateWebhookSecret", { workspace_id: workspaceId, webhook_id: webhookId });
    }
    deleteWebhook(workspaceId, webhookId) {
        return this.#call("deleteWebhook", { workspace_id: workspaceId, webhook_id: webhookId });
    }
    webhookDeliveries(workspaceId, webhookId, query = {}) {
        return this.#call("webhookDeliveries", { workspace_id: workspaceId, webhook_id: webhookId }, { query: query });
    }
    // -- operations ----------------------------------------------------------------------
    healthz() {
        return this.#call("healthz", {}, { auth: false });
    }
    readyz() {
        return this.#call("readyz", {}, { auth: false });
    }
    async #call(name, params, options = {}) {
        return (await this.#request(name, params, options)).data;
    }
    #request(name, params, options = {}) {
        const [method, template] = ENDPOINTS[name];
        const path = template.replace(/\{(\w+)\}/g, (_, key) => {
            const value = params[key];
            if (value === undefined)
                throw new TypeError(`${name}: ${key} is missing`);
            return encodeURIComponent(String(value));
        });
        return this.http.request(method, path, options);
    }
}
/** The `cursor` of a `Link: <...>; rel="next"` header. */
function nextCursor(reply) {
    const link = reply.headers.get("link");
    const match = link?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
    if (!match?.[1])
        return null;
    try {
        return new URL(match[1]).searchParams.get("cursor");
    }
    catch {
        return null;
    }
}
