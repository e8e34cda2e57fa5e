// A message's action bar where there is no hover (phones): a tap on the message opens
// it, and it closes again once one of its buttons was used, another message is tapped,
// or the user taps anywhere else. One bar is open at a time (the room's timeline and a
// thread's alike); on narrow screens it sits
// under the message (style.css), so it never covers the message above it.

let listening = false;

/** A tap on a message's text: open its bar (closing any other), or close it. */
export function toggleActionBar(li) {
  const open = !li.classList.contains("show-actions");
  hideActionBars();
  li.classList.toggle("show-actions", open);
  if (open && !listening) {
    listening = true;
    document.addEventListener("click", onDocumentClick, true);
  }
}

/** Close every open bar (a button of it was used). */
export function hideActionBars() {
  for (const node of document.querySelectorAll("li.msg.show-actions")) {
    node.classList.remove("show-actions");
  }
  if (listening) {
    listening = false;
    document.removeEventListener("click", onDocumentClick, true);
  }
}

/** A tap outside the open message (and outside the emoji picker it opened) closes it. */
function onDocumentClick(ev) {
  const target = ev.target;
  if (!(target instanceof Element)) return;
  if (target.closest("li.msg.show-actions") || target.closest(".emoji-picker")) return;
  hideActionBars();
}
