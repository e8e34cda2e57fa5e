// The open room: opening and closing it, its header, joining it over the socket (the
// recent history the first time, the events missed after a reconnect), and what the
// room's own events do to it (renamed, deleted, or we left it).

import { $, toast, copyText } from "/js/dom.js";
import { api } from "/js/client.js";
import { currentSocket, dropConnection } from "/js/connection.js";
import { currentUser } from "/js/session_data.js";
import { workspaceById, selectedWorkspace, allWorkspaces } from "/js/workspace_data.js";
import { updateListedRoom, unlistRoom, lastReadSeq } from "/js/rooms_data.js";
import {
  currentRoom, roomGeneration, setOpenRoom, updateOpenRoom, isJoined, setJoined, canModerate,
} from "/js/open_room_data.js";
import { setPane } from "/js/layout.js";
import { currentTimeline } from "/js/timeline.js";
import { renderRooms, loadRooms } from "/js/rooms.js";
import { askPasscode, rememberPasscode, rememberedPasscode, hasPasscodeFor, forgetPasscode } from "/js/passcode.js";
import { loadMembers, renderMembers, clearMembers, nameOf } from "/js/members.js";
import { renderOlder, fillViewport, resetHistory, historyShown, isHistoryShown } from "/js/history.js";
import { flushOutbox, unsentFor } from "/js/composer.js";
import { stopTyping, clearTypers } from "/js/typing.js";
import { resetRoomEvents, holdRoomEvents, startRoomEvents, catchUp, lastAppliedSeq } from "/js/events.js";
import { renderSettings, closeSettings } from "/js/settings.js";
import { closeConfirm } from "/js/confirm.js";
import { resetReading, recheckReading } from "/js/readmark.js";
import { setOnline } from "/js/presence.js";
import { updateSeenBy } from "/js/seenby.js";

let joining = null; // the join in flight (a promise)
let joinAgain = false; // a join was asked for while one was in flight: run another after it

export function closeRoom({ leave = true } = {}) {
  const socket = currentSocket();
  const room = currentRoom();
  if (room && leave && isJoined() && socket?.isOpen) {
    socket.request("leave_room_chat", { room_id: room.id }).catch(() => {});
  }
  stopTyping();
  clearTypers();
  closeSettings();
  closeConfirm();
  resetReading(null);
  setOpenRoom(null);
  resetHistory();
  clearMembers();
  setOnline(null, null);
  resetRoomEvents(null);
  currentTimeline()?.reset(null);
  $("chat-notice").hidden = true;
  $("chat-inner").hidden = true;
  $("empty-chat").hidden = false;
  $("members-panel").hidden = true;
  setPane("list");
  renderRooms();
}

export async function openRoom(room) {
  if (currentRoom()?.id === room.id) {
    setPane("chat");
    return;
  }
  if (currentRoom()) closeRoom();
  setOpenRoom(room);
  const gen = roomGeneration();
  resetHistory();
  clearMembers();
  resetReading(room.id);
  setOnline(room.id, null); // no dots until the join reply says who is here
  resetRoomEvents(room.id);
  const timeline = currentTimeline();
  timeline.reset(room.id);
  $("chat-notice").hidden = true;
  for (const item of unsentFor(room.id)) timeline.addPending(item, currentUser());
  renderRoomHeader();
  renderRooms();
  renderMembers();
  renderOlder();
  $("typing").textContent = "";
  $("empty-chat").hidden = true;
  $("chat-inner").hidden = false;
  setPane("chat");

  const isMember = await loadMembers();
  if (gen !== roomGeneration()) return;
  if (room.has_passcode && !isMember && !hasPasscodeFor(room.id)) {
    const code = await askPasscode(room, null);
    if (gen !== roomGeneration()) return;
    if (code === null) {
      closeRoom({ leave: false });
      return;
    }
    rememberPasscode(room.id, code);
  }
  await joinCurrentRoom();
  if (gen === roomGeneration()) $("composer-input").focus({ preventScroll: true });
}

function renderRoomHeader() {
  const room = currentRoom();
  $("room-title").textContent = room.name;
  const ws = workspaceById(room.workspace_id);
  $("room-subtitle").textContent = [ws?.name, room.has_passcode ? "passcode" : null].filter(Boolean).join(" · ");
  // Only a room's members are shown its link (null until joined).
  $("copy-link-btn").hidden = !room.link_join;
  currentTimeline().setModerator(canModerate(room));
}

/** The open room is gone for us (deleted, left, removed): close it and say why. */
export function roomGone(text) {
  closeRoom(); // leave_room_chat too: after a rejoin (catch-up) the server may still send
  $("chat-notice").textContent = text;
  $("chat-notice").hidden = false;
  toast(text, { ms: 5000 });
}

/** room_member_left for the user: the server delivers nothing more of this room to us. */
export function leftRoom(data) {
  const room = currentRoom();
  const self = data.removed_by === data.user_id;
  forgetPasscode(room.id);
  roomGone(self ? `You left #${room.name}.` : `You were removed from #${room.name} by ${nameOf(data.removed_by)}.`);
  loadRooms(); // its join link is no longer ours to see
}

/** room_chat_updated: the room as its members see it now; a quiet line says what changed. */
export function applyRoomUpdated(data) {
  const prev = currentRoom();
  if (!prev || data.room_id !== prev.id || !data.room) return;
  const room = { ...prev, ...data.room };
  const changes = [];
  if (room.name !== prev.name) changes.push(`The room was renamed to #${room.name}`);
  if (room.has_passcode !== prev.has_passcode) {
    changes.push(room.has_passcode ? "A passcode was set: joining now needs it" : "The passcode was removed");
  }
  if (prev.link_join && room.link_join && room.link_join !== prev.link_join) {
    changes.push("The join link was replaced: the old one no longer works");
  }
  updateOpenRoom(data.room);
  updateListedRoom(room.id, data.room);
  currentTimeline().addNotice(data.seq, changes.length ? changes.join(". ") : "The room's settings were changed");
  renderRoomHeader();
  renderRooms();
  renderSettings();
}

/** room_chat_deleted (or our own delete's reply): gone from the list, and from view. */
export function applyRoomDeleted(data) {
  const open = currentRoom()?.id === data.room_id ? currentRoom() : null;
  unlistRoom(data.room_id);
  if (open) roomGone(`#${open.name} was deleted.`);
  else renderRooms();
}

/** Follow a join link: a passcode room asks for its passcode (the link alone is not
 *  enough). Resolves to the joined room, or null (cancelled, or refused: toasted). */
export async function joinByLink(token) {
  let passcode = null;
  for (;;) {
    try {
      const body = passcode === null ? undefined : { passcode };
      const room = await api.request("POST", `/api/v1/room-chats/join/${encodeURIComponent(token)}`, body);
      if (passcode !== null) rememberPasscode(room.id, passcode);
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
  if (room.workspace_id !== selectedWorkspace()?.id && allWorkspaces().some((w) => w.id === room.workspace_id)) {
    await selectWorkspace(room.workspace_id);
  } else {
    await loadRooms(); // the room list now shows its link
  }
  await openRoom(room);
}

export async function copyJoinLink() {
  const link = currentRoom()?.link_join;
  if (!link) return;
  toast(await copyText(link) ? "Join link copied" : `Join link: ${link}`, { ms: 4000 });
}

/** join_room_chat for the open room: the recent history the first time, then (after a
 *  reconnect) the events after the last one applied, paged by REST while has_more. */
export function joinCurrentRoom() {
  if (!currentRoom() || !currentSocket()?.isOpen) return Promise.resolve();
  if (joining) {
    joinAgain = true; // e.g. a new connection while the last join is still paging
    return joining;
  }
  const gen = roomGeneration();
  const room = currentRoom();
  const timeline = currentTimeline();
  const run = async () => {
    for (;;) {
      const payload = { room_id: room.id };
      const catchingUp = isHistoryShown();
      if (catchingUp) payload.after_seq = lastAppliedSeq();
      // A catch-up is a member's: no passcode, so that one removed meanwhile is not let
      // back in by the passcode this tab remembers.
      const passcode = catchingUp ? null : rememberedPasscode(room.id);
      if (passcode) payload.passcode = passcode;
      holdRoomEvents();
      let data;
      try {
        data = await currentSocket().request("join_room_chat", payload, { timeout: 15000 });
      } catch (err) {
        if (gen !== roomGeneration()) return;
        // A catch-up resumes a membership and never creates one: forbidden (or, from
        // an older server, wrong_passcode) means we were removed while away.
        if ((err.code === "forbidden" || err.code === "wrong_passcode") && catchingUp) {
          forgetPasscode(room.id);
          roomGone(`You are no longer a member of #${room.name}.`);
          loadRooms();
          return;
        }
        if (err.code === "wrong_passcode" || err.code === "rate_limited") {
          forgetPasscode(room.id);
          const code = await askPasscode(room, err.code, Boolean(passcode), err.message);
          if (gen !== roomGeneration()) return;
          if (code === null) {
            closeRoom({ leave: false });
            return;
          }
          rememberPasscode(room.id, code);
          if (!currentSocket()?.isOpen) return; // the reconnect will join with it
          continue;
        }
        if (err.code === "disconnected") return; // the reconnect will join again
        if (err.code === "timeout") {
          toast("The server is not answering; retrying…", { error: true });
          dropConnection("join timeout");
          return;
        }
        if (err.code === "not_found" && catchingUp) {
          applyRoomDeleted({ room_id: room.id }); // deleted while we were away
          return;
        }
        toast(err.code === "forbidden" ? "You cannot join this room." : `Could not join: ${err.message}`, { error: true });
        closeRoom({ leave: false });
        return;
      }
      if (gen !== roomGeneration()) return;
      setJoined(true);
      setOnline(room.id, data.online_user_ids);
      renderMembers(); // the dots
      if (!catchingUp) {
        if (data.room) {
          updateOpenRoom(data.room);
          renderRoomHeader();
        }
        // Message seqs have gaps (edits, reactions, joins take seqs too): only has_more tells.
        historyShown(Boolean(data.has_more));
        timeline.add(data.messages || [], { scroll: "bottom" });
        timeline.markUnread(lastReadSeq(room.id), data.seq);
        timeline.revealDivider();
        startRoomEvents(data.seq);
        renderOlder();
        fillViewport();
        break;
      }
      // The missed events, through the same code as live broadcasts (the room's changes
      // too: its room_chat_updated events bring the open room to the reply's room).
      if (!(await catchUp(data))) return;
      renderOlder();
      break;
    }
    // Refreshed on every (re)join: the membership events cover only what happens after,
    // and read receipts are signals (lost while away).
    loadMembers();
    updateSeenBy({ refetch: true });
    recheckReading();
    await flushOutbox();
  };
  joining = run().finally(() => {
    joining = null;
    if (joinAgain) {
      joinAgain = false;
      joinCurrentRoom();
    }
  });
  return joining;
}
