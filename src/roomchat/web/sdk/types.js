// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// The protocol's objects and frames, as the AsyncAPI document describes them
// (src/generated/asyncapi.ts, generated from src/roomchat/contract/asyncapi.yaml): the
// names a client uses, and the unions it switches on.
export {};
