// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// What a client is given (ClientOptions) and what it tells (ClientEvents, its states).
export {};
