// A user's avatar, wherever a user is drawn: their picture (avatar_url) when they set
// one, else their initial on a colour of their own. Decorative (aria-hidden, alt ""): the
// name is always beside it. Its size is fixed by its class (and the picture's
// width/height), so nothing moves when the picture loads; until then, or if it cannot be
// read, the initial shows. The page's Content-Security-Policy refuses a style attribute:
// the colour goes through the CSSOM, the initial through CSS (content: attr(data-initial)),
// so an avatar adds no text to the name beside it.

import { el, initials, colourFor } from "/js/dom.js";

/** Pixel size per size name (style.css: .avatar, .avatar.sm, .avatar.lg). */
const SIZES = { sm: 20, md: 28, lg: 64 };

/** What an avatar shows, to tell whether a drawn one is still right. */
function keyOf(user, userId) {
  return `${user?.avatar_url || ""}|${initials(user)}|${user?.id ?? userId}`;
}

/** An avatar node for `user` ({id, display_name, username, avatar_url}; null when not
 *  known: `userId` then gives its colour). size: "sm" (20 px), "md" (28 px), "lg" (64 px). */
/** Only an http(s) address becomes a picture (a javascript: or data: one never does). */
function isWebUrl(url) {
  if (typeof url !== "string" || !url) return false;
  try {
    return ["http:", "https:"].includes(new URL(url, location.href).protocol);
  } catch {
    return false;
  }
}

export function avatar(user, { size = "md", userId = null } = {}) {
  const node = el("span", {
    class: size === "md" ? "avatar" : `avatar ${size}`,
    "aria-hidden": "true",
    dataset: { initial: initials(user), avatarKey: keyOf(user, userId) },
  });
  node.style.background = colourFor(user?.id ?? userId);
  if (isWebUrl(user?.avatar_url)) {
    const px = SIZES[size] ?? SIZES.md;
    const img = el("img", {
      class: "avatar-img", src: user.avatar_url, alt: "", "aria-hidden": "true",
      width: px, height: px, decoding: "async", draggable: "false",
    });
    // A picture that cannot be read (gone, offline): the initial under it shows.
    img.addEventListener("error", () => {
      img.remove();
      node.classList.remove("has-img");
    }, { once: true });
    node.classList.add("has-img");
    node.append(img);
  }
  return node;
}

/** Bring an avatar drawn earlier up to date with `user` (a changed picture or name): the
 *  same node when nothing changed, else a new one in its place. */
export function refreshAvatar(node, user, { size = "md", userId = null } = {}) {
  if (node.dataset.avatarKey === keyOf(user, userId)) return node;
  const fresh = avatar(user, { size, userId });
  node.replaceWith(fresh);
  return fresh;
}
