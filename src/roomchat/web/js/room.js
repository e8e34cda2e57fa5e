// The open room: opening and closing it, its header, joining it through the SDK (which
// keeps it joined and caught up across reconnects: its room handle), drawing the room's
// state as it changes, and what the room's own events do to it (renamed, deleted, or we
// left it). A direct conversation is a room too: named by its people, with no settings.

import { $, toast, copyText } from "/js/dom.js";
import { RoomchatError } from "/sdk/index.js";
import { chat, rest, isConnected } from "/js/client.js";
import { workspaceById, selectedWorkspace, allWorkspaces } from "/js/workspace_data.js";
import { updateListedRoom, unlistRoom, lastReadSeq } from "/js/rooms_data.js";
import {
  currentRoom, roomGeneration, setOpenRoom, updateOpenRoom, setOpenHandle, canModerate,
} from "/js/open_room_data.js";
import { setPane } from "/js/layout.js";
import { currentTimeline } from "/js/timeline.js";
import { renderRooms, loadRooms } from "/js/rooms.js";
import { askPasscode, rememberPasscode, rememberedPasscode, forgetPasscode } from "/js/passcode.js";
import { loadMembers, renderMembers, clearMembers, nameOf } from "/js/members.js";
import { renderOlder, fillViewport, resetHistory, historyShown, isHistoryShown } from "/js/history.js";
import { stopTyping, renderTyping } from "/js/typing.js";
import { renderSettings, closeSettings } from "/js/settings.js";
import { closeConfirm } from "/js/confirm.js";
import { resetReading, recheckReading } from "/js/readmark.js";
import { onlineKey } from "/js/presence.js";
import { updateSeenBy } from "/js/seenby.js";
import { roomTitle, roomPhrase } from "/js/people_data.js";
import { closeThread, threadStateChanged } from "/js/threadpanel.js";
import { resetUploads } from "/js/upload.js";
import { closeFilesView } from "/js/files_view.js";

let unfollow = () => {}; // removes the listener on the open room's handle
let shownOnline = ""; // who was online when the members were last drawn

export function closeRoom() {
  const room = currentRoom();
  stopTyping();
  closeSettings();
  closeConfirm();
  closeThread();
  resetReading(null); // sends what was read, while the room is still followed
  unfollow();
  unfollow = () => {};
  // The SDK stops following it (leave_room_chat): nothing more of it comes here.
  if (room) chat()?.leave(room.id).catch(() => {});
  setOpenRoom(null);
  resetUploads(); // files (issue 24) are per room
  closeFilesView();
  resetHistory();
  clearMembers();
  currentTimeline()?.reset(null);
  $("typing").textContent = "";
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
  resetUploads(); // files (issue 24) are per room
  closeFilesView();
  const gen = roomGeneration();
  resetHistory();
  clearMembers();
  resetReading(room.id);
  currentTimeline().reset(room.id);
  $("chat-notice").hidden = true;
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
  if (room.has_passcode && !isMember && !(await enterWithPasscode(room, gen))) return;
  await joinOpenRoom(room, gen);
  if (gen === roomGeneration()) $("composer-input").focus({ preventScroll: true });
}

/** Become a member of a passcode room: its passcode (the one this tab remembers, or
 *  asked for) with a join. False when cancelled or refused: the room is closed then. */
async function enterWithPasscode(room, gen) {
  let passcode = rememberedPasscode(room.id) ?? null;
  let refused = null;
  for (;;) {
    if (passcode === null) {
      passcode = await askPasscode(room, refused?.code ?? null, refused !== null, refused?.message ?? "");
      if (gen !== roomGeneration()) return false;
      if (passcode === null) {
        closeRoom();
        return false;
      }
    }
    try {
      await joinWithPasscode(room.id, passcode);
    } catch (err) {
      if (gen !== roomGeneration()) return false;
      if (err.code === "wrong_passcode" || err.code === "rate_limited") {
        forgetPasscode(room.id);
        refused = err;
        passcode = null;
        continue;
      }
      joinRefused(err);
      return false;
    }
    rememberPasscode(room.id, passcode);
    return gen === roomGeneration();
  }
}

/** join_room_chat with a passcode, which makes the user a member; the SDK's join then
 *  follows the room as any member's. Settled by the first reply: the SDK waits out a
 *  rate limit before it tells, and a passcode lockout lasts minutes. */
function joinWithPasscode(roomId, passcode) {
  // When the SDK sends the join again after that wait, the user has long moved on: the
  // passcode goes with the first sending only (a join without one changes nothing).
  let sent = false;
  const payload = {
    room_id: roomId,
    get passcode() {
      if (sent) return undefined;
      sent = true;
      return passcode;
    },
  };
  return new Promise((resolve, reject) => {
    const onReply = (frame) => {
      if (frame.status === "success") resolve(frame.data);
      else reject(RoomchatError.fromBody(frame.error, null));
    };
    chat().request("join_room_chat", payload, { onReply }).then(resolve, reject);
  });
}

/** Join the open room through the SDK and show it; it stays joined (and caught up)
 *  across reconnects until closed. */
async function joinOpenRoom(room, gen) {
  const client = chat();
  if (!client) return;
  let handle;
  try {
    handle = await client.join(room.id);
  } catch (err) {
    if (gen !== roomGeneration()) return;
    if (err.code === "wrong_passcode" && room.has_passcode) {
      // Not a member after all (the members could not be read): ask for the passcode.
      if (await enterWithPasscode(room, gen)) await joinOpenRoom(room, gen);
      return;
    }
    if (err.code === "client_closed" || err.code === "unauthorized") return; // signed out
    joinRefused(err);
    return;
  }
  if (gen !== roomGeneration()) return;
  setOpenHandle(handle);
  unfollow = handle.on("change", showState);
  showHistory(handle.state);
}

function joinRefused(err) {
  const text = err.code === "forbidden" ? "You cannot join this room."
    : err.code === "timeout" || err.code === "connection_lost" ? "Could not join: not connected. Try again in a moment."
      : `Could not join: ${err.message}`;
  toast(text, { error: true });
  closeRoom();
}

/** The room as it was joined: its recent history, the "new messages" line. */
function showHistory(state) {
  const room = currentRoom();
  if (state.room) {
    updateOpenRoom(state.room);
    renderRoomHeader();
  }
  historyShown();
  const timeline = currentTimeline();
  timeline.setConnected(isConnected());
  timeline.sync(state, { scroll: "bottom" });
  timeline.markUnread(lastReadSeq(room.id), state.seq);
  timeline.revealDivider();
  shownOnline = onlineKey();
  renderMembers(); // the dots
  renderTyping();
  renderOlder();
  fillViewport();
  refreshRoom();
}

/** The room's state changed (an event, a signal, a message sent or paged in). */
function showState(state) {
  if (!isHistoryShown()) return;
  currentTimeline().sync(state);
  threadStateChanged(state);
  renderOlder();
  renderTyping();
  const online = onlineKey();
  if (online !== shownOnline) {
    shownOnline = online;
    renderMembers();
  }
}

/** After every (re)join: the members (their events cover only what happens after),
 *  "Seen by" (read receipts are signals, lost while away) and what is in view. */
export function refreshRoom() {
  loadMembers();
  updateSeenBy({ refetch: true });
  recheckReading();
}

/** The SDK could not resume the open room after a reconnect (or read its events): we
 *  were removed meanwhile, or it was deleted. */
export function roomLost(error) {
  const room = currentRoom();
  if (!room || !isHistoryShown()) return; // a refused first join: joinOpenRoom says why
  if (error.code === "forbidden" || error.code === "wrong_passcode") {
    forgetPasscode(room.id);
    roomGone(`You are no longer a member of ${roomPhrase(room)}.`);
    loadRooms();
  } else if (error.code === "not_found") {
    applyRoomDeleted({ room_id: room.id });
  } else {
    roomGone(`Lost ${roomPhrase(room)}: ${error.message}`);
  }
}

/** The open room's title and subtitle (its workspace's name), as they are now. */
export function renderRoomHeader() {
  const room = currentRoom();
  if (!room) return;
  const direct = room.kind === "direct";
  $("room-title").textContent = roomTitle(room);
  const ws = workspaceById(room.workspace_id);
  $("room-subtitle").textContent = [ws?.name, direct ? "direct message" : null, room.has_passcode ? "passcode" : null]
    .filter(Boolean).join(" · ");
  $("chat-inner").classList.toggle("direct", direct);
  // A direct conversation has no name, passcode or link to change, and nobody leaves it.
  $("settings-btn").hidden = direct;
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
  roomGone(self ? `You left ${roomPhrase(room)}.` : `You were removed from ${roomPhrase(room)} by ${nameOf(data.removed_by)}.`);
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
  if (open) roomGone(`${roomPhrase(open)} was deleted.`);
  else renderRooms();
}

/** Follow a join link: a passcode room asks for its passcode (the link alone is not
 *  enough). Resolves to the joined room, or null (cancelled, or refused: toasted). */
export async function joinByLink(token) {
  let passcode = null;
  for (;;) {
    try {
      const room = await rest().joinByToken(token, passcode === null ? undefined : { passcode });
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
