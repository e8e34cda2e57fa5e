// Invitations to workspaces: the signed-in user's pending ones, accepted or declined
// here. (A workspace owner's "Add member" sends one; nobody joins without accepting.)

import { $, el, toast, displayName } from "/js/dom.js";
import { rest } from "/js/client.js";

/** Load and show the pending invitations; onJoined(workspace) runs after an accept. */
export async function loadInvitations(onJoined) {
  let invitations;
  try {
    invitations = await rest().listInvitations();
  } catch {
    return; // the workspace list still works; the next refresh tries again
  }
  renderInvitations(invitations, onJoined);
}

function renderInvitations(invitations, onJoined) {
  $("invitations").hidden = invitations.length === 0;
  $("invitation-list").replaceChildren(...invitations.map((inv) => el("li", { dataset: { invitationId: inv.id } },
    el("span", { class: "names" },
      el("span", { class: "invitation-workspace", text: inv.workspace_name }),
      el("span", { class: "muted small", text: `from ${displayName(inv.invited_by)}` })),
    el("button", { type: "button", class: "primary small-btn", text: "Accept", onclick: () => answer(inv, "accept", onJoined) }),
    el("button", { type: "button", class: "small-btn", text: "Decline", onclick: () => answer(inv, "decline", onJoined) }))));
}

async function answer(invitation, verb, onJoined) {
  try {
    const data = verb === "accept"
      ? await rest().acceptInvitation(invitation.id)
      : await rest().declineInvitation(invitation.id);
    if (verb === "accept") {
      toast(`You joined ${data.name}`);
      await onJoined(data);
      return;
    }
    toast(`Declined the invitation to ${invitation.workspace_name}`);
  } catch (err) {
    toast(err.code === "not_found" ? "That invitation is no longer open." : `Could not answer: ${err.message}`, { error: true });
  }
  await loadInvitations(onJoined);
}
