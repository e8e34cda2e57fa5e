// Who is a bot: an API key's user (docs/server-api.md, "The bot: who a key acts as").
// Its username is "bot-" and hex digits, a name no person can register, so the name
// alone tells. A data module: it imports nothing.

const BOT_PREFIX = "bot-";

/** Whether `user` ({username}) is a bot; an unknown user is taken as a person. */
export function isBot(user) {
  return typeof user?.username === "string" && user.username.toLowerCase().startsWith(BOT_PREFIX);
}
