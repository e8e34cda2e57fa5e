// roomchat web client: the reference front end for the REST + WebSocket API.
// Plain ES modules, no build step. User data is only ever rendered as text.
// This file wires the views in /js/ to the page and starts the client.
// Modules are imported by absolute path: /join/{token} serves this same page.

import { Api } from "/js/api.js";
import { $ } from "/js/dom.js";
import { state, ctx, KEY_JOIN, showScreen, setPane } from "/js/state.js";
import { setAuthMode, onAuthSubmit, authErrorText, showAuthError, signOut, enterApp } from "/js/session.js";
import { retryNow } from "/js/connection.js";
import { loadWorkspaces, selectWorkspace, onWorkspaceCreate, onMemberAdd } from "/js/workspaces.js";
import { onRoomCreate } from "/js/rooms.js";
import { copyJoinLink } from "/js/room.js";
import { toggleMembers } from "/js/members.js";
import { loadOlder, onMessagesScroll } from "/js/history.js";
import { onComposerSubmit, onComposerInput, onComposerKeydown } from "/js/composer.js";
import { onMessageListClick } from "/js/messageactions.js";
import { wireSettings } from "/js/settings.js";
import { wireAccount } from "/js/account.js";
import { recheckReading } from "/js/readmark.js";

ctx.api = new Api(() => state.token, () => signOut("Your session has expired. Please sign in again."));

function wire() {
  for (const tab of document.querySelectorAll(".tabs [data-mode]")) {
    tab.addEventListener("click", () => setAuthMode(tab.dataset.mode));
  }
  $("auth-form").addEventListener("submit", onAuthSubmit);
  $("signout-btn").addEventListener("click", () => signOut());
  $("workspace-select").addEventListener("change", (ev) => selectWorkspace(Number(ev.target.value)));
  $("refresh-btn").addEventListener("click", () => loadWorkspaces(state.workspace?.id));
  $("workspace-form").addEventListener("submit", onWorkspaceCreate);
  $("member-form").addEventListener("submit", onMemberAdd);
  $("room-form").addEventListener("submit", onRoomCreate);
  $("back-btn").addEventListener("click", () => setPane("list"));
  $("members-btn").addEventListener("click", () => toggleMembers());
  $("members-close").addEventListener("click", () => toggleMembers(false));
  $("retry-now-btn").addEventListener("click", retryNow);
  $("older-btn").addEventListener("click", () => loadOlder());
  $("messages").addEventListener("scroll", onMessagesScroll, { passive: true });
  $("message-list").addEventListener("click", onMessageListClick);
  $("copy-link-btn").addEventListener("click", copyJoinLink);
  wireSettings();
  wireAccount();
  $("composer").addEventListener("submit", onComposerSubmit);
  $("composer-input").addEventListener("input", onComposerInput);
  $("composer-input").addEventListener("keydown", onComposerKeydown);
  window.addEventListener("online", retryNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    retryNow();
    recheckReading(); // what is in view now counts as read
  });
}

async function boot() {
  wire();
  const match = location.pathname.match(/^\/join\/([^/]+)\/?$/);
  if (match) {
    sessionStorage.setItem(KEY_JOIN, decodeURIComponent(match[1]));
    history.replaceState(null, "", "/");
  }
  if (sessionStorage.getItem(KEY_JOIN)) $("auth-invite-note").hidden = false;
  setAuthMode("signin");
  if (state.token) {
    try {
      state.me = await ctx.api.me();
      await enterApp();
      return;
    } catch (err) {
      if (err.code !== "unauthorized") {
        showScreen("auth");
        showAuthError(authErrorText(err));
        return;
      }
    }
  }
  showScreen("auth");
  $("auth-username").focus();
}

boot();
