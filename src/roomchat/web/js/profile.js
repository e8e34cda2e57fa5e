// The user's profile (issue 25): their display name and picture, edited in the account
// dialog (PATCH /api/v1/users/me {display_name}, PUT /api/v1/users/me/avatar with the
// picture's bytes), shown in the top bar; and everyone's profile kept current on the
// page: user_updated {user_id, user} (live.js) goes into users_data.js, and every view
// that draws users is drawn again from it (old messages show the new name and picture).

import { $, toast, displayName } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser, setCurrentUser } from "/js/session_data.js";
import { noteUsers, userUpdated } from "/js/users_data.js";
import { avatar, refreshAvatar } from "/js/avatars.js";
import { renderMembers } from "/js/members.js";
import { currentTimeline } from "/js/timeline.js";
import { threadTimeline } from "/js/threadpanel.js";
import { refreshSeenBy } from "/js/seenby.js";
import { renderTyping } from "/js/typing.js";
import { refreshPicker } from "/js/directs.js";
import { renderRooms } from "/js/rooms.js";
import { listedRooms } from "/js/rooms_data.js";
import { currentRoom } from "/js/open_room_data.js";
import { roomTitle } from "/js/people_data.js";

// The server's rules (domain/users.py clean_display_name, routes/users.py), said here
// before anything is sent; the server's own message shows for what only it checks.
export const MAX_DISPLAY_NAME_CHARS = 64;
export const MAX_AVATAR_BYTES = 2 * 1024 * 1024;
const PICTURE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const CONTROL = /\p{Cc}/u;

/** What is wrong with `name` as a display name (null: nothing the client can tell). */
export function displayNameProblem(name) {
  if (!name) return "Enter a display name.";
  if (CONTROL.test(name)) return "A display name cannot contain control characters (such as tabs or line breaks).";
  const length = [...name].length;
  if (length > MAX_DISPLAY_NAME_CHARS) {
    return `A display name has at most ${MAX_DISPLAY_NAME_CHARS} characters (this one has ${length}).`;
  }
  return null;
}

/** What is wrong with `file` as a picture before it is sent (null: send it). */
export function pictureProblem(file) {
  if (file.type && !PICTURE_TYPES.includes(file.type)) return "Choose a PNG, JPEG, GIF or WebP picture.";
  if (file.size > MAX_AVATAR_BYTES) {
    return `That picture is ${megabytes(file.size)}: the limit is 2 MB. Choose a smaller one.`;
  }
  return null;
}

function megabytes(bytes) {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Draw `user`'s avatar in `box` (the one there stays if it still shows them). */
function drawAvatar(box, user, size) {
  const old = box.firstElementChild;
  if (old) refreshAvatar(old, user, { size, userId: user.id });
  else box.append(avatar(user, { size, userId: user.id }));
}

/** The top bar's "me": the user's picture and name (a button to the account dialog). */
export function renderMe() {
  const me = currentUser();
  if (!me) return;
  const name = displayName(me);
  $("me-name").textContent = name;
  $("me-name").title = `@${me.username}`;
  drawAvatar($("me-avatar"), me, "md");
  $("me-btn").setAttribute("aria-label", `Your profile: ${name}`);
}

/** Everything that draws users, drawn again from users_data.js (the profile of
 *  `userId` changed: someone's, or the user's own). */
export function refreshUserViews(userId) {
  if (!currentUser()) return;
  renderMe();
  renderMembers();
  currentTimeline()?.refreshAll();
  threadTimeline()?.refreshAll();
  refreshSeenBy();
  renderTyping();
  refreshPicker();
  // A direct conversation is named by its people: the list, and the open one's title.
  const named = (room) => room?.kind === "direct" && (room.member_ids || []).includes(userId);
  // ...and a room's preview by its last message's author ("Bob: ...").
  const previewed = (room) => room?.last_message?.user_id === userId;
  if (listedRooms().some((room) => named(room) || previewed(room))) renderRooms();
  if (named(currentRoom())) $("room-title").textContent = roomTitle(currentRoom());
  if ($("account-dialog").open) renderProfile({ keepInput: true });
}

/** user_updated {user_id, user}: the newest profile of someone (maybe the user). */
export function applyUserUpdated(data) {
  const user = data?.user;
  if (!user || typeof user.id !== "number") return;
  userUpdated(user);
  const me = currentUser();
  if (me && me.id === user.id) setCurrentUser({ ...me, ...user });
  refreshUserViews(user.id);
}

/** The user's own profile as a reply of theirs gives it (the broadcast may come later). */
function applyMine(reply) {
  const me = currentUser();
  if (!me || reply?.id !== me.id) return;
  setCurrentUser({ ...me, ...reply });
  noteUsers([reply]);
  refreshUserViews(reply.id);
}

// ---- the profile section of the account dialog

/** Fill the profile section with the user's profile (on opening the dialog, and after a
 *  change; `keepInput`: what is being typed stays). */
export function renderProfile({ keepInput = false } = {}) {
  const me = currentUser();
  if (!me) return;
  $("account-title").textContent = displayName(me);
  drawAvatar($("profile-avatar"), me, "lg");
  $("profile-picture-btn").textContent = me.avatar_url ? "Change picture" : "Upload a picture";
  if (!keepInput) {
    $("profile-display-name").value = me.display_name || "";
    showError("profile-name-error", null);
    showError("profile-picture-error", null);
  }
}

function showError(id, text) {
  $(id).textContent = text || "";
  $(id).hidden = !text;
}

async function onNameSubmit(ev) {
  ev.preventDefault();
  const me = currentUser();
  if (!me) return;
  const input = $("profile-display-name");
  const name = input.value.trim();
  const problem = displayNameProblem(name);
  if (problem) {
    showError("profile-name-error", problem);
    input.focus();
    return;
  }
  showError("profile-name-error", null);
  if (name === me.display_name) {
    toast("Your display name is unchanged");
    return;
  }
  const button = $("profile-name-save");
  button.disabled = true;
  try {
    applyMine(await rest().updateMe({ display_name: name }));
    toast(`Your display name is now ${name}`);
  } catch (err) {
    // The server's own word (validation_error: what it refuses), nothing changed.
    showError("profile-name-error", err.code === "rate_limited"
      ? `Too many changes: ${err.message}`
      : `Not saved: ${err.message || "the server refused the name"}`);
    input.focus();
  } finally {
    button.disabled = false;
  }
}

async function onPictureChosen() {
  const input = $("profile-file");
  const file = input.files?.[0];
  input.value = ""; // the same file can be chosen again
  if (!file) return;
  const problem = pictureProblem(file);
  if (problem) {
    showError("profile-picture-error", problem);
    return;
  }
  showError("profile-picture-error", null);
  const button = $("profile-picture-btn");
  const status = $("profile-picture-status");
  button.disabled = true;
  status.textContent = "Uploading…";
  try {
    applyMine(await rest().setAvatar(file));
    status.textContent = "";
    toast("Your picture is updated");
  } catch (err) {
    status.textContent = "";
    showError("profile-picture-error", pictureErrorText(err));
  } finally {
    button.disabled = false;
  }
}

function pictureErrorText(err) {
  if (err.code === "payload_too_large" || err.status === 413) return "That picture is too large: the limit is 2 MB. Choose a smaller one.";
  if (err.code === "validation_error") return `That file cannot be used as a picture: ${err.message}`;
  if (err.code === "rate_limited") return `Too many changes: ${err.message}`;
  return `Could not upload the picture: ${err.message}`;
}

export function wireProfile() {
  $("profile-name-form").addEventListener("submit", onNameSubmit);
  $("profile-display-name").addEventListener("input", () => showError("profile-name-error", null));
  $("profile-picture-btn").addEventListener("click", () => $("profile-file").click());
  $("profile-file").addEventListener("change", onPictureChosen);
}
