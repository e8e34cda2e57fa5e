// A message's files (issue 24): images as thumbnails whose box is reserved from the
// attachment's width and height (no jump when they load), a click opens the full image;
// other files as a chip with the name, the size and a download link. The URLs are signed
// and short-lived: an image that fails to load, or a link clicked long after the page
// got it, asks the server once for fresh ones (GET /api/v1/attachments/{id}).
// Everything the user wrote (file names) is set as text or as an attribute, never as HTML.

import { el } from "/js/dom.js";
import { rest } from "/js/client.js";

/** The thumbnail's box: at most this wide and high, the image's own shape. */
const THUMB_MAX_W = 320;
const THUMB_MAX_H = 240;
/** A link older than this is renewed before it is followed (the server's default TTL is 1 h). */
const STALE_MS = 45 * 60 * 1000;
const RASTER = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

// attachment id -> {attachment, at}: the freshest copy this page holds (renewed URLs).
const fresh = new Map();
// attachment id -> Promise of a renewed attachment (one request at a time per file).
const renewing = new Map();

/** A size for people: 512 B, 12.3 KB, 4.5 MB. */
export function formatSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MB`;
  return `${(n / (1024 * 1024 * 1024)).toFixed(1)} GB`;
}

/** A message's files in a few words, for a preview of a message without text:
 *  "📎 holiday.png", "📎 3 files"; "" without files. */
export function attachmentSummary(message) {
  const files = Array.isArray(message?.attachments) ? message.attachments : [];
  if (!files.length) return "";
  return files.length === 1 ? `📎 ${files[0].filename}` : `📎 ${files.length} files`;
}

/** An image the page can show inline (a thumbnail was made for it). */
export function isImage(att) {
  return RASTER.has(att.content_type) && Boolean(att.thumbnail_url) && att.width > 0 && att.height > 0;
}

/** The box a thumbnail takes: the image's shape, within THUMB_MAX_W x THUMB_MAX_H. */
export function thumbnailBox(att, maxW = THUMB_MAX_W, maxH = THUMB_MAX_H) {
  const scale = Math.min(1, maxW / att.width, maxH / att.height);
  return { width: Math.max(1, Math.round(att.width * scale)), height: Math.max(1, Math.round(att.height * scale)) };
}

function remember(att) {
  const known = fresh.get(att.id);
  if (!known || known.attachment.url !== att.url) fresh.set(att.id, { attachment: att, at: Date.now() });
  return fresh.get(att.id);
}

/** The attachment with new signed URLs (once at a time per file); null if refused. */
export function renewAttachment(id) {
  let pending = renewing.get(id);
  if (!pending) {
    pending = rest().http.call("GET", `/api/v1/attachments/${encodeURIComponent(id)}`)
      .then((att) => {
        fresh.set(att.id, { attachment: att, at: Date.now() });
        return att;
      })
      .catch(() => null)
      .finally(() => renewing.delete(id));
    renewing.set(id, pending);
  }
  return pending;
}

/** An <img> of `which` ("thumbnail_url" or "url") that renews its URL once if it fails. */
function signedImage(att, which, attrs) {
  const img = el("img", { ...attrs, src: att[which], dataset: { attachmentId: att.id } });
  let retried = false;
  img.addEventListener("error", async () => {
    if (retried) {
      img.classList.add("broken");
      return;
    }
    retried = true;
    const renewed = await renewAttachment(att.id);
    if (renewed?.[which]) img.src = renewed[which];
    else img.classList.add("broken");
  });
  return img;
}

/** When a signed URL stops working (ms since the epoch): its own `exp` (the local
 *  store), an S3 presigned URL's X-Amz-Date + X-Amz-Expires, else STALE_MS after the
 *  page got it. */
export function expiresAt(url, gotAt) {
  try {
    const params = new URL(url, location.href).searchParams;
    const exp = Number(params.get("exp"));
    if (Number.isFinite(exp) && exp > 0) return exp * 1000;
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(params.get("X-Amz-Date") || "");
    const ttl = Number(params.get("X-Amz-Expires"));
    if (date && Number.isFinite(ttl)) {
      const [, y, mo, d, h, mi, se] = date.map(Number);
      return Date.UTC(y, mo - 1, d, h, mi, se) + ttl * 1000;
    }
  } catch {
    // not a URL this page can read: the default below
  }
  return gotAt + STALE_MS;
}

/** A link to a signed URL: followed at once while it works (with the newest URL this
 *  page holds), renewed first when it is about to expire. */
function signedLink(att, attrs, ...children) {
  const link = el("a", { ...attrs, href: att.url }, ...children);
  let renewedNow = false; // the click that follows a renewal goes through as it is
  link.addEventListener("click", async (ev) => {
    if (renewedNow) {
      renewedNow = false;
      return;
    }
    const known = fresh.get(att.id) ?? remember(att);
    if (known.attachment.url && link.href !== known.attachment.url) link.href = known.attachment.url;
    if (Date.now() < expiresAt(known.attachment.url, known.at) - 30_000) return;
    ev.preventDefault();
    const renewed = await renewAttachment(att.id);
    if (!renewed?.url) return;
    link.href = renewed.url;
    renewedNow = true;
    link.click();
  });
  return link;
}

/** A thumbnail (its box reserved from the attachment's size) that opens the full image. */
export function imageThumbnail(att, { maxW = THUMB_MAX_W, maxH = THUMB_MAX_H } = {}) {
  const box = thumbnailBox(att, maxW, maxH);
  const img = signedImage(att, "thumbnail_url", {
    class: "att-thumb", alt: att.filename, width: box.width, height: box.height, loading: "lazy", decoding: "async",
  });
  const link = signedLink(att, {
    class: "att-image", title: `${att.filename} (${att.width} × ${att.height}, ${formatSize(att.size)})`,
    target: "_blank", rel: "noopener noreferrer",
  }, img);
  link.addEventListener("click", (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    ev.preventDefault();
    openLightbox(fresh.get(att.id)?.attachment ?? att);
  });
  return link;
}

/** A chip for any file: its name, its size, a download link (the server sends it as an
 *  attachment unless it is a raster image). */
export function fileChip(att) {
  return signedLink(att, {
    class: "att-file", title: `Download ${att.filename}`, rel: "noopener noreferrer",
    dataset: { attachmentId: att.id },
  },
  el("span", { class: "att-icon", "aria-hidden": "true", text: extensionOf(att.filename) }),
  el("span", { class: "att-name", text: att.filename }),
  el("span", { class: "att-size", text: formatSize(att.size) }));
}

/** A file's extension for its chip's badge ("PDF", "SVG"), "FILE" when it has none. */
function extensionOf(filename) {
  const match = /\.([A-Za-z0-9]{1,5})$/.exec(filename || "");
  return match ? match[1].toUpperCase() : "FILE";
}

/** One attachment as the timeline and the Files view show it. */
export function attachmentNode(att) {
  const known = remember(att).attachment;
  return isImage(known) ? imageThumbnail(known) : fileChip(known);
}

/** Draw `message`'s attachments at the end of its node `element` (in a `.attachments`
 *  block of its own, made on first use). Called on every change of the message: the same
 *  files keep their nodes (no image loads again); a tombstone has none. */
export function renderAttachments(message, element) {
  const list = message.deleted_at ? [] : (Array.isArray(message.attachments) ? message.attachments : []);
  let block = element.querySelector(":scope > .attachments");
  const key = list.map((a) => a.id).join(",");
  if (!list.length) {
    block?.remove();
    element.classList.remove("has-attachments");
    return;
  }
  element.classList.add("has-attachments");
  if (block && block.dataset.ids === key) return;
  if (!block) {
    block = el("div", { class: "attachments" });
    const reactions = element.querySelector(":scope > .reactions");
    element.insertBefore(block, reactions);
  }
  block.dataset.ids = key;
  block.replaceChildren(...list.map(attachmentNode));
}

// ---- the full image

let lightbox = null;

function ensureLightbox() {
  if (lightbox) return lightbox;
  const img = el("img", { class: "lightbox-img", alt: "" });
  const caption = el("span", { class: "lightbox-caption" });
  const open = el("a", { class: "link-btn", target: "_blank", rel: "noopener noreferrer", text: "Open original" });
  const close = el("button", { type: "button", class: "icon-btn", "aria-label": "Close image", text: "×" });
  const dialog = el("dialog", { class: "lightbox", id: "lightbox", "aria-label": "Image" },
    el("div", { class: "lightbox-head" }, caption, open, close), img);
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (ev) => { if (ev.target === dialog) dialog.close(); });
  dialog.addEventListener("close", () => img.removeAttribute("src"));
  document.body.append(dialog);
  lightbox = { dialog, img, caption, open };
  return lightbox;
}

/** Show an image at full size in a dialog (its size reserved, within the window). */
export function openLightbox(att) {
  const box = ensureLightbox();
  let retried = false;
  box.img.onerror = async () => {
    if (retried) return;
    retried = true;
    const renewed = await renewAttachment(att.id);
    if (renewed?.url) {
      box.img.src = renewed.url;
      box.open.href = renewed.url;
    }
  };
  box.img.alt = att.filename;
  box.img.width = att.width;
  box.img.height = att.height;
  box.img.dataset.attachmentId = String(att.id);
  box.img.src = att.url;
  box.open.href = att.url;
  box.caption.textContent = `${att.filename} · ${att.width} × ${att.height} · ${formatSize(att.size)}`;
  if (!box.dialog.open) box.dialog.showModal();
}
