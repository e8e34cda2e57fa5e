// REST client for /api/v1. Every reply is {status, data} or {status:"error", error:{code, message}}.

export class ApiError extends Error {
  constructor(code, message, httpStatus) {
    super(message || code);
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

export class Api {
  constructor(getToken, onUnauthorized) {
    this.getToken = getToken;
    this.onUnauthorized = onUnauthorized;
  }

  async request(method, path, body, { quiet = false } = {}) {
    const headers = { Accept: "application/json" };
    const token = this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError("network_error", "Cannot reach the server", 0);
    }
    let json = null;
    try { json = await res.json(); } catch { json = null; }
    if (res.ok && json && json.status === "success") return json.data;
    const err = json?.error || {};
    const code = err.code || (res.status === 401 ? "unauthorized" : "http_error");
    let message = err.message || `${res.status} ${res.statusText}`;
    if (typeof message !== "string") message = JSON.stringify(message);
    if (res.status === 401 && token && this.onUnauthorized && !quiet) this.onUnauthorized();
    throw new ApiError(code, message, res.status);
  }

  register(username, password, display_name) {
    const body = { username, password };
    if (display_name) body.display_name = display_name;
    return this.request("POST", "/api/v1/auth/register", body);
  }
  login(username, password) { return this.request("POST", "/api/v1/auth/login", { username, password }); }
  me() { return this.request("GET", "/api/v1/users/me"); }
  /** {share_read_receipts?}: the user as it is now (with share_read_receipts). */
  updateMe(changes) { return this.request("PATCH", "/api/v1/users/me", changes); }
  /** A new token for the current one (same reply as login), before it expires. */
  refresh() { return this.request("POST", "/api/v1/auth/refresh"); }
  /** Revoke the current token server-side; its sockets close (4401 token_revoked). */
  logout() { return this.request("POST", "/api/v1/auth/logout", undefined, { quiet: true }); }
  /** A single-use, 30-second ticket for /ws?ticket=: the token never goes in a URL. */
  wsTicket() { return this.request("POST", "/api/v1/auth/ws-ticket"); }

  workspaces() { return this.request("GET", "/api/v1/workspaces/"); }
  createWorkspace(name) { return this.request("POST", "/api/v1/workspaces/", { name }); }
  addWorkspaceMember(workspaceId, username) {
    return this.request("POST", `/api/v1/workspaces/${workspaceId}/members`, { username });
  }

  rooms(workspaceId) { return this.request("GET", `/api/v1/room-chats/workspace/${workspaceId}`); }
  room(roomId) { return this.request("GET", `/api/v1/room-chats/${roomId}`); }
  createRoom(workspaceId, name, passcode) {
    const body = { workspace_id: workspaceId, name };
    if (passcode) body.passcode = passcode;
    return this.request("POST", "/api/v1/room-chats/", body);
  }
  joinByToken(token) { return this.request("POST", `/api/v1/room-chats/join/${encodeURIComponent(token)}`); }
  roomMembers(roomId) { return this.request("GET", `/api/v1/room-users/room/${roomId}`); }
  messagesBefore(roomId, beforeSeq, limit = 50) {
    return this.request("GET", `/api/v1/room-chats/${roomId}/messages?before_seq=${beforeSeq}&limit=${limit}`);
  }
  /** Who read a message (members but its author, who share receipts): {readers: [user]}. */
  readers(roomId, messageId) {
    return this.request("GET", `/api/v1/room-chats/${roomId}/messages/${messageId}/readers`);
  }
  /** The room's durable events after afterSeq, each {action, data} exactly as broadcast. */
  roomEvents(roomId, afterSeq, limit = 100) {
    return this.request("GET", `/api/v1/room-chats/${roomId}/events?after_seq=${afterSeq}&limit=${limit}`);
  }
  /** Leave (your own id) or remove someone (the room's creator or the workspace owner). */
  removeRoomMember(roomId, userId) {
    return this.request("DELETE", `/api/v1/room-users/room/${roomId}/users/${userId}`);
  }
  /** {name?, passcode?}: a passcode string sets it, null clears it. */
  updateRoom(roomId, changes) { return this.request("PATCH", `/api/v1/room-chats/${roomId}`, changes); }
  rotateRoomLink(roomId) { return this.request("POST", `/api/v1/room-chats/${roomId}/link/rotate`); }
  deleteRoom(roomId) { return this.request("DELETE", `/api/v1/room-chats/${roomId}`); }
}
