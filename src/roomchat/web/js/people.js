// Loading the selected workspace's members (people_data.js holds them): whom the
// "New message" picker offers, whose names a direct conversation and a mention show.

import { rest } from "/js/client.js";
import { setPeople, person, peopleWorkspaceId } from "/js/people_data.js";
import { usersClock, noteUsers } from "/js/users_data.js";
import { selectedWorkspace } from "/js/workspace_data.js";

let loading = null; // {wsId, promise}

/** Load workspace `wsId`'s members (once per workspace unless `force`). */
export function loadPeople(wsId, { force = false } = {}) {
  if (wsId === null || wsId === undefined) return Promise.resolve();
  if (!force && peopleWorkspaceId() === wsId) return Promise.resolve();
  if (loading?.wsId === wsId) {
    // A forced load reads what changed since the one under way started.
    return force ? loading.promise.then(() => loadPeople(wsId, { force: true })) : loading.promise;
  }
  const asOf = usersClock();
  const promise = rest().listWorkspaceMembers(wsId)
    .then((rows) => {
      noteUsers(rows.map((r) => r.user), { asOf }); // the newest names and pictures
      // Another workspace was chosen meanwhile: its people are not these.
      if (selectedWorkspace()?.id !== wsId) return;
      setPeople(wsId, rows);
    })
    .catch(() => {}) // names fall back to "user N"; the next room list tries again
    .finally(() => {
      if (loading?.promise === promise) loading = null;
    });
  loading = { wsId, promise };
  return promise;
}

/** Whether every one of `ids` is known (else the members are read again). */
export function knowsAll(ids) {
  return (ids || []).every((id) => person(id) !== undefined);
}
