// The passcode dialog shown before joining a protected room, and the passcodes that
// worked (this tab only: never stored).

import { $ } from "/js/dom.js";

const passcodes = new Map(); // room_id -> passcode that worked

export function rememberPasscode(roomId, passcode) {
  passcodes.set(roomId, passcode);
}

export function rememberedPasscode(roomId) {
  return passcodes.get(roomId);
}

export function hasPasscodeFor(roomId) {
  return passcodes.has(roomId);
}

export function forgetPasscode(roomId) {
  passcodes.delete(roomId);
}

export function forgetPasscodes() {
  passcodes.clear();
}

/** Ask for the room's passcode; resolves to the passcode, or null when cancelled.
 *  `room` is null when joining by link: the room is not known until the code is right. */
export function askPasscode(room, errorCode, hadPasscode = false, serverMessage = "") {
  const dialog = $("passcode-dialog");
  const input = $("passcode-input");
  const error = $("passcode-error");
  $("passcode-room").textContent = room
    ? `#${room.name} is protected. Enter its passcode to join.`
    : "The room this link leads to is protected. Enter its passcode to join.";
  input.value = "";
  if (errorCode === "rate_limited") {
    error.textContent = "Too many wrong attempts. Wait a while, then try again.";
  } else if (errorCode === "wrong_passcode" && hadPasscode) {
    // The server's message says how many tries are left, e.g. "wrong passcode (4 tries left)".
    const detail = /wrong passcode/i.test(serverMessage) ? serverMessage : "wrong passcode";
    error.textContent = `${detail[0].toUpperCase()}${detail.slice(1)}. Try again.`;
  } else {
    error.textContent = "";
  }
  error.hidden = !error.textContent;
  return new Promise((resolve) => {
    const finish = (value) => {
      $("passcode-form").onsubmit = null;
      $("passcode-cancel").onclick = null;
      dialog.oncancel = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    $("passcode-form").onsubmit = (ev) => {
      ev.preventDefault();
      const value = input.value;
      if (!value) {
        error.textContent = "Enter the passcode.";
        error.hidden = false;
        return;
      }
      finish(value);
    };
    $("passcode-cancel").onclick = () => finish(null);
    dialog.oncancel = (ev) => { ev.preventDefault(); finish(null); };
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}
