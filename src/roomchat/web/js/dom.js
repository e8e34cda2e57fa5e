// Tiny DOM helpers. User data only ever reaches the page as text (textContent / text nodes).

export const $ = (id) => document.getElementById(id);

/** el("li", {class: "x", dataset: {seq: 3}}, "text", childNode) — strings become text nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

let toastTimer = 0;
export function toast(text, { error = false, ms = 3000 } = {}) {
  const node = $("toast");
  node.textContent = text;
  node.classList.toggle("error", error);
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, ms);
}

export function displayName(user, fallbackId) {
  if (!user) return fallbackId != null ? `user ${fallbackId}` : "someone";
  return user.display_name || user.username || `user ${user.id}`;
}

export function initials(user) {
  const name = displayName(user).trim();
  return (name[0] || "?").toUpperCase();
}

/** A stable colour per user id for avatars. */
export function colourFor(id) {
  const hues = [220, 260, 300, 340, 20, 40, 140, 170, 195];
  return `hsl(${hues[Math.abs(Number(id) || 0) % hues.length]} 55% 48%)`;
}

export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return sameDay ? time : `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${time}`;
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Fallback for contexts without the async clipboard API.
    // Out of sight by its class: the page's CSP refuses a style attribute.
    const area = el("textarea", { readonly: true, class: "clipboard-helper", "aria-hidden": "true", tabindex: "-1" });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand("copy"); } catch { ok = false; }
    area.remove();
    return ok;
  }
}
