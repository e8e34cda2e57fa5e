// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
export {};
