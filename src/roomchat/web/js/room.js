// The open room: opening and closing it, its header, and joining it over the socket
// (the full history the first time, only what was missed after a reconnect).

import { $, toast, copyText } from "/js/dom.js";
import { state, ctx, KEY_ROOM, setPane } from "/js/state.js";
import { renderRooms, loadRooms } from "/js/rooms.js";
import { askPasscode } from "/js/passcode.js";
import { loadMembers, renderMembers } from "/js/members.js";
import { renderOlder, fillViewport } from "/js/history.js";
import { flushOutbox } from "/js/composer.js";
import { stopTyping, clearTypers } from "/js/typing.js";

export function closeRoom({ leave = true } = {}) {
  const socket = ctx.socket;
  if (state.room && leave && state.joined && socket?.isOpen) {
    socket.request("leave_room_chat", { room_id: state.room.id }).catch(() => {});
  }
  stopTyping();
  clearTypers();
  state.gen += 1;
  state.room = null;
  state.joined = false;
  state.historyLoaded = false;
  state.members = new Map();
  ctx.timeline?.reset(null);
  $("chat-inner").hidden = true;
  $("empty-chat").hidden = false;
  $("members-panel").hidden = true;
  localStorage.removeItem(KEY_ROOM);
  setPane("list");
  renderRooms();
}

export async function openRoom(room) {
  if (state.room?.id === room.id) {
    setPane("chat");
    return;
  }
  if (state.room) closeRoom();
  state.gen += 1;
  const gen = state.gen;
  state.room = room;
  state.joined = false;
  state.historyLoaded = false;
  state.hasOlder = false;
  state.members = new Map();
  localStorage.setItem(KEY_ROOM, String(room.id));
  ctx.timeline.reset(room.id);
  for (const item of state.outbox.values()) {
    if (item.room_id === room.id) ctx.timeline.addPending(item, state.me);
  }
  renderRoomHeader();
  renderRooms();
  renderMembers();
  renderOlder();
  $("typing").textContent = "";
  $("empty-chat").hidden = true;
  $("chat-inner").hidden = false;
  setPane("chat");

  const isMember = await loadMembers();
  if (gen !== state.gen) return;
  if (room.has_passcode && !isMember && !state.passcodes.has(room.id)) {
    const code = await askPasscode(room, null);
    if (gen !== state.gen) return;
    if (code === null) {
      closeRoom({ leave: false });
      return;
    }
    state.passcodes.set(room.id, code);
  }
  await joinCurrentRoom();
  if (gen === state.gen) $("composer-input").focus({ preventScroll: true });
}

function renderRoomHeader() {
  const room = state.room;
  $("room-title").textContent = room.name;
  const ws = state.workspaces.find((w) => w.id === room.workspace_id);
  $("room-subtitle").textContent = [ws?.name, room.has_passcode ? "passcode" : null].filter(Boolean).join(" · ");
  // Only a room's members are shown its link (null until joined).
  $("copy-link-btn").hidden = !room.link_join;
}

/** Follow a join link: a passcode room asks for its passcode (the link alone is not
 *  enough). Resolves to the joined room, or null (cancelled, or refused: toasted). */
export async function joinByLink(token) {
  let passcode = null;
  for (;;) {
    try {
      const body = passcode === null ? undefined : { passcode };
      const room = await ctx.api.request("POST", `/api/v1/room-chats/join/${encodeURIComponent(token)}`, body);
      if (passcode !== null) state.passcodes.set(room.id, passcode);
      return room;
    } catch (err) {
      if (err.code === "wrong_passcode" || err.code === "rate_limited") {
        const code = await askPasscode(null, err.code, passcode !== null, err.message);
        if (code === null) return null;
        passcode = code;
        continue;
      }
      const text = err.code === "not_found" ? "This join link is not valid."
        : err.code === "forbidden" ? `Could not join: ${err.message}. Ask the workspace owner to invite you, then open the link again.`
          : `Could not join: ${err.message}`;
      toast(text, { error: true, ms: 8000 });
      return null;
    }
  }
}

/** After joining by link: show the room's workspace and open the room. */
export async function openJoinedRoom(room, selectWorkspace) {
  toast(`You joined #${room.name}`);
  if (room.workspace_id !== state.workspace?.id && state.workspaces.some((w) => w.id === room.workspace_id)) {
    await selectWorkspace(room.workspace_id);
  } else {
    await loadRooms(); // the room list now shows its link
  }
  await openRoom(room);
}

export async function copyJoinLink() {
  const link = state.room?.link_join;
  if (!link) return;
  toast(await copyText(link) ? "Join link copied" : `Join link: ${link}`, { ms: 4000 });
}

/** join_room_chat for the open room: the full history the first time, then (after a
 *  reconnect) everything after the last seq seen, paging while has_more. */
export function joinCurrentRoom() {
  if (!state.room || !ctx.socket?.isOpen) return Promise.resolve();
  if (state.joining) return state.joining;
  const gen = state.gen;
  const room = state.room;
  const timeline = ctx.timeline;
  const run = async () => {
    for (;;) {
      const payload = { room_id: room.id };
      const catchingUp = state.historyLoaded;
      if (catchingUp) payload.after_seq = timeline.lastSeq;
      const passcode = state.passcodes.get(room.id);
      if (passcode) payload.passcode = passcode;
      let data;
      try {
        data = await ctx.socket.request("join_room_chat", payload, { timeout: 15000 });
      } catch (err) {
        if (gen !== state.gen) return;
        if (err.code === "wrong_passcode" || err.code === "rate_limited") {
          state.passcodes.delete(room.id);
          const code = await askPasscode(room, err.code, Boolean(passcode), err.message);
          if (gen !== state.gen) return;
          if (code === null) {
            closeRoom({ leave: false });
            return;
          }
          state.passcodes.set(room.id, code);
          if (!ctx.socket?.isOpen) return; // the reconnect will join with it
          continue;
        }
        if (err.code === "disconnected") return; // the reconnect will join again
        if (err.code === "timeout") {
          toast("The server is not answering; retrying…", { error: true });
          ctx.socket.ws?.close(4000, "join timeout");
          return;
        }
        toast(err.code === "forbidden" ? "You cannot join this room." : `Could not join: ${err.message}`, { error: true });
        closeRoom({ leave: false });
        return;
      }
      if (gen !== state.gen) return;
      if (data.room) {
        state.room = { ...state.room, ...data.room };
        renderRoomHeader();
      }
      state.joined = true;
      const messages = data.messages || [];
      if (!catchingUp) {
        state.historyLoaded = true;
        state.hasOlder = Boolean(data.has_more) || (messages.length > 0 && messages[0].seq > 1);
        timeline.add(messages, { scroll: "bottom" });
        renderOlder();
        fillViewport();
        break;
      }
      timeline.add(messages);
      renderOlder();
      if (!data.has_more || messages.length === 0) break;
    }
    // Joins are not broadcast, so the members list is refreshed on every (re)join.
    loadMembers();
    await flushOutbox();
  };
  state.joining = run().finally(() => { state.joining = null; });
  return state.joining;
}
