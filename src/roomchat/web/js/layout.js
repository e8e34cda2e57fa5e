// Which screen shows (signing in, or the app), and which pane: the narrow layout shows
// either the room list or the chat.

import { $ } from "/js/dom.js";

export function showScreen(name) {
  document.body.dataset.screen = name;
  $("auth-view").hidden = name !== "auth";
  $("app-view").hidden = name !== "app";
}

export function setPane(pane) {
  document.body.dataset.pane = pane;
}
