// roomchat web client: the reference front end for the REST + WebSocket API.
// Plain ES modules, no build step. User data is only ever rendered as text.
// This file wires the views in /js/ to the page and starts the client.
// Modules are imported by absolute path: /join/{token} serves this same page.
//
// The protocol is the SDK's (@roomchat/client, served at /sdk/: the connection and its
// states, catching up, the outbox, the token, every REST call); the modules in /js/ are
// the UI on top of it. Each owns its state and exposes functions; they form no import
// cycle (scripts/check-js-cycles.mjs, run by `make lint` and `make test`). The *_data.js
// modules and client.js at the bottom hold what many read (the user, the workspaces,
// the room list, the open room, the RoomchatClient). Where a lower module must call up
// (a refused session signs out, a room is chosen in the list), the call is registered
// here, at start-up.

import { $ } from "/js/dom.js";
import { onUnauthorized } from "/js/client.js";
import { accessToken, currentUser } from "/js/session_data.js";
import { selectedWorkspace } from "/js/workspace_data.js";
import { showScreen, setPane } from "/js/layout.js";
import {
  setAuthMode, onAuthSubmit, signOut, sessionEnded, resumeSession, savePendingJoin, hasPendingJoin,
} from "/js/session.js";
import { retryNow } from "/js/connection.js";
import { watchNetwork } from "/js/heartbeat.js";
import { wireLive } from "/js/live.js";
import { loadWorkspaces, selectWorkspace, onWorkspaceCreate, onMemberAdd } from "/js/workspaces.js";
import { wireRooms } from "/js/rooms.js";
import { openRoom, copyJoinLink, roomGone, applyRoomDeleted } from "/js/room.js";
import { toggleMembers, onMembersLoaded, roomMembers } from "/js/members.js";
import { renderTyping } from "/js/typing.js";
import { loadOlder, onMessagesScroll } from "/js/history.js";
import { onComposerSubmit, onComposerInput, onComposerKeydown, onPendingListClick } from "/js/composer.js";
import { onMessageListClick } from "/js/messageactions.js";
import { wireSettings } from "/js/settings.js";
import { wireAccount } from "/js/account.js";
import { recheckReading } from "/js/readmark.js";
import { currentTimeline } from "/js/timeline.js";
import { wireThreadPanel, threadTimeline } from "/js/threadpanel.js";
import { wireThreadList } from "/js/threadlist.js";
import { wireDirects } from "/js/directs.js";
import { attachMentionPicker } from "/js/mentionpicker.js";
import { wireUploads } from "/js/upload.js";
import { wireFilesView } from "/js/files_view.js";
// workspace admin and the live sidebar (issue 25)
import { sidebarSignals, resync } from "/js/sidebar_live.js";
import { wireAdmin } from "/js/admin.js";
import { onFollowedAgain } from "/js/unread.js";
import { applyWorkspaceUpdated, invite } from "/js/workspaces.js";

/** The calls that go up the module graph. */
function wireModules() {
  onUnauthorized(() => signOut("Your session has expired. Please sign in again."));
  wireLive({ sessionEnded, signals: sidebarSignals });
  onFollowedAgain(resync); // after a reconnect: what the lost workspace signals said
  wireAdmin({ workspaceUpdated: applyWorkspaceUpdated, invite });
  wireRooms({ openRoom });
  wireSettings({ roomDeleted: applyRoomDeleted, roomGone });
  wireThreadList({ openRoom });
  onMembersLoaded(() => { // the typing line and the mentions name whom they now know
    renderTyping();
    currentTimeline()?.refreshAll();
    threadTimeline()?.refreshAll();
  });
}

/** Whom `@` can name: the open room's other members. */
function mentionCandidates() {
  const me = currentUser()?.id;
  return roomMembers().filter((u) => u.id !== me);
}

function wire() {
  for (const tab of document.querySelectorAll(".tabs [data-mode]")) {
    tab.addEventListener("click", () => setAuthMode(tab.dataset.mode));
  }
  $("auth-form").addEventListener("submit", onAuthSubmit);
  $("signout-btn").addEventListener("click", () => signOut());
  $("workspace-select").addEventListener("change", (ev) => selectWorkspace(Number(ev.target.value)));
  $("refresh-btn").addEventListener("click", () => loadWorkspaces(selectedWorkspace()?.id));
  $("workspace-form").addEventListener("submit", onWorkspaceCreate);
  $("member-form").addEventListener("submit", onMemberAdd);
  $("back-btn").addEventListener("click", () => setPane("list"));
  $("members-btn").addEventListener("click", () => toggleMembers());
  $("members-close").addEventListener("click", () => toggleMembers(false));
  $("retry-now-btn").addEventListener("click", retryNow);
  $("older-btn").addEventListener("click", () => loadOlder());
  $("messages").addEventListener("scroll", onMessagesScroll, { passive: true });
  $("message-list").addEventListener("click", onMessageListClick);
  $("pending-list").addEventListener("click", onPendingListClick);
  $("copy-link-btn").addEventListener("click", copyJoinLink);
  wireAccount();
  // The pickers first: a key they use while open (Enter, Tab) is not the composer's.
  attachMentionPicker($("composer-input"), { candidates: mentionCandidates });
  attachMentionPicker($("thread-input"), { candidates: mentionCandidates });
  watchNetwork(); // offline, online, back in front: js/heartbeat.js
  wireUploads(); // files (issue 24): attach button, drop, paste
  wireFilesView();
  $("composer").addEventListener("submit", onComposerSubmit);
  $("composer-input").addEventListener("input", onComposerInput);
  $("composer-input").addEventListener("keydown", onComposerKeydown);
  wireThreadPanel();
  $("thread-list").addEventListener("click", (ev) => onMessageListClick(ev, threadTimeline()));
  $("thread-pending-list").addEventListener("click", onPendingListClick);
  wireDirects();
  // Back online or in front, the SDK reconnects by itself; what is in view counts as read.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") recheckReading();
  });
}

async function boot() {
  wireModules();
  wire();
  const match = location.pathname.match(/^\/join\/([^/]+)\/?$/);
  if (match) {
    savePendingJoin(decodeURIComponent(match[1]));
    history.replaceState(null, "", "/");
  }
  if (hasPendingJoin()) $("auth-invite-note").hidden = false;
  setAuthMode("signin");
  if (accessToken() && (await resumeSession())) return;
  showScreen("auth");
  $("auth-username").focus();
}

boot();
