// A confirmation dialog for what cannot be undone (deleting, removing, leaving).

import { $ } from "/js/dom.js";

let finishOpen = null;

/** Ask; resolves to true when the user confirms, false when they cancel. */
export function confirmAction(title, text, okLabel = "OK") {
  closeConfirm(); // one question at a time: an earlier one counts as cancelled
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-text").hidden = !text;
  $("confirm-ok").textContent = okLabel;
  return new Promise((resolve) => {
    const finish = (value) => {
      finishOpen = null;
      $("confirm-form").onsubmit = null;
      $("confirm-cancel").onclick = null;
      dialog.oncancel = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    finishOpen = finish;
    $("confirm-form").onsubmit = (ev) => { ev.preventDefault(); finish(true); };
    $("confirm-cancel").onclick = () => finish(false);
    dialog.oncancel = (ev) => { ev.preventDefault(); finish(false); };
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

/** Close an open question as cancelled (its subject went away, e.g. the room was deleted). */
export function closeConfirm() {
  if (finishOpen) finishOpen(false);
}
