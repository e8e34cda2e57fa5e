// The account dialog (the top bar's gear, or the user's name and picture beside it): the
// user's own settings. Their profile (display name, picture: profile.js), and whether
// others see their read receipts (PATCH /api/v1/users/me {share_read_receipts}).

import { $, toast, displayName } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser, setCurrentUser } from "/js/session_data.js";
import { wireProfile, renderProfile } from "/js/profile.js";

export function wireAccount() {
  $("account-btn").addEventListener("click", openAccount);
  $("me-btn").addEventListener("click", openAccount);
  wireProfile();
  $("account-close").addEventListener("click", closeAccount);
  $("share-receipts").addEventListener("change", onShareChange);
}

export function closeAccount() {
  const dialog = $("account-dialog");
  if (dialog.open) dialog.close();
}

function renderShare() {
  $("share-receipts").checked = currentUser()?.share_read_receipts !== false;
}

async function openAccount() {
  const me = currentUser();
  if (!me) return;
  $("account-title").textContent = displayName(me);
  $("account-username").textContent = `@${me.username}`;
  renderProfile();
  const box = $("share-receipts");
  renderShare();
  box.disabled = true;
  $("account-dialog").showModal();
  try {
    setCurrentUser({ ...currentUser(), ...(await rest().me()) }); // the setting as stored now
  } catch (err) {
    toast(`Could not load your settings: ${err.message}`, { error: true });
  }
  if (!currentUser()) return;
  renderProfile({ keepInput: true });
  renderShare();
  box.disabled = false;
}

async function onShareChange() {
  const box = $("share-receipts");
  const share = box.checked;
  box.disabled = true;
  try {
    const me = await rest().updateMe({ share_read_receipts: share });
    if (currentUser()) setCurrentUser({ ...currentUser(), ...me });
    toast(share ? "Others now see when you have read their messages" : "Your read receipts are private now");
  } catch (err) {
    toast(`Could not change the setting: ${err.message}`, { error: true });
  } finally {
    renderShare();
    box.disabled = false;
  }
}
