// A message's text as the page shows it: web addresses become links, and a small, safe
// subset of Markdown is drawn: **bold**, *italic* (or _italic_), `code`, ``` code
// blocks ``` and "> " quotes. Everything is built as DOM nodes from text: no HTML is
// ever parsed (no innerHTML), so whatever a message holds can only ever show as text
// inside <strong>, <em>, <code>, <pre>, <blockquote> and <a href="http(s)://…">.
// Each step is linear in the text's length: a delimiter without its closing one is
// taken as text at once, and nesting stops at MAX_DEPTH.

import { el } from "/js/dom.js";

/** The elements a message's text may become (the fuzz test checks for nothing else). */
export const MESSAGE_ELEMENTS = Object.freeze(["STRONG", "EM", "CODE", "PRE", "BLOCKQUOTE", "A"]);
export const LINK_REL = "noopener noreferrer nofollow";

const MAX_DEPTH = 4;
const FENCE = /^\s{0,3}```/;
const FENCE_CLOSE = /^\s{0,3}```\s*$/;
const QUOTE = /^\s{0,3}>/;
// http(s) addresses and bare www. ones; what a link can never be (javascript:, data:)
// is not matched at all.
const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?*_'"]$/;
const CLOSERS = { ")": "(", "]": "[", "}": "{" };
// A mark inside a word is text: snake_case_names and 2*3*4 stay as written.
const WORD = /[\p{L}\p{N}_]/u;

/**
 * Show `text` in `parent` (its children are replaced). `options.decorateText(text)` may
 * turn a run of plain text (not code, not a link) into nodes or strings, e.g. to mark
 * mentions; it must build them as DOM nodes too. The default keeps it as text.
 */
export function renderMessageText(text, parent, options = {}) {
  parent.replaceChildren(...messageNodes(text, options));
}

/** The nodes of `text` (see renderMessageText). */
export function messageNodes(text, options = {}) {
  const decorate = options.decorateText ?? ((s) => [s]);
  const nodes = [];
  const lines = String(text ?? "").split("\n");
  let paragraph = [];
  const flush = () => {
    if (!paragraph.length) return;
    paragraph.forEach((line, i) => {
      if (i > 0) nodes.push("\n");
      inline(line, nodes, 0, decorate);
    });
    paragraph = [];
  };
  let i = 0;
  // Once a fence found no closing one after it, no later fence will either: no line
  // is searched twice.
  let noCloseAfter = Infinity;
  while (i < lines.length) {
    const line = lines[i];
    if (FENCE.test(line) && i < noCloseAfter) {
      let close = -1;
      for (let j = i + 1; j < lines.length; j += 1) {
        if (FENCE_CLOSE.test(lines[j])) {
          close = j;
          break;
        }
      }
      if (close === -1) noCloseAfter = i;
      else {
        flush();
        nodes.push(el("pre", {}, el("code", { text: lines.slice(i + 1, close).join("\n") })));
        i = close + 1;
        continue;
      }
    }
    if (QUOTE.test(line)) {
      flush();
      const quoted = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        quoted.push(lines[i].replace(/^\s{0,3}> ?/, ""));
        i += 1;
      }
      const block = el("blockquote");
      const inner = [];
      quoted.forEach((q, k) => {
        if (k > 0) inner.push("\n");
        inline(q, inner, 1, decorate);
      });
      block.append(...inner);
      nodes.push(block);
      continue;
    }
    paragraph.push(line);
    i += 1;
  }
  flush();
  return nodes;
}

/** One line's inline parts: `code` spans first, then emphasis, then links. */
function inline(line, out, depth, decorate) {
  let rest = line;
  for (;;) {
    const open = rest.indexOf("`");
    const close = open === -1 ? -1 : rest.indexOf("`", open + 1);
    if (close === -1) break;
    if (close === open + 1) { // `` is no code span: keep it as text
      emphasis(rest.slice(0, close + 1), out, depth, decorate);
      rest = rest.slice(close + 1);
      continue;
    }
    emphasis(rest.slice(0, open), out, depth, decorate);
    out.push(el("code", { text: rest.slice(open + 1, close) }));
    rest = rest.slice(close + 1);
  }
  emphasis(rest, out, depth, decorate);
}

/** The [start, end) of each web address in `s`, as links() will cut them: a mark
 *  inside one (https://example.com/__init__) is part of the address. */
function urlSpans(s) {
  const spans = [];
  for (const match of s.matchAll(URL_RE)) {
    const url = trimUrl(match[0]);
    if (safeHref(url)) spans.push([match.index, match.index + url.length]);
  }
  return spans;
}

/** Whether [from, to) overlaps one of `spans` (sorted, apart): a binary search. */
function inSpan(spans, from, to) {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) { // the first span that ends after `from`
    const mid = (lo + hi) >> 1;
    if (spans[mid][1] <= from) lo = mid + 1;
    else hi = mid;
  }
  return lo < spans.length && spans[lo][0] < to;
}

/** The first pair of `mark` in `s` that opens before a non-space and closes after one
 *  (not inside a word, nor inside a web address), or null: then none does. A double mark closes at the end of a run ("***": bold, then italic inside). */
function findPair(s, mark, spans) {
  let start = s.indexOf(mark);
  while (start !== -1) {
    const after = s[start + mark.length];
    const before = start > 0 ? s[start - 1] : "";
    const opens = after !== undefined && !/\s/.test(after) && after !== mark[0]
      && !(before && WORD.test(before)) && !(mark === "*" && before === "*")
      && !inSpan(spans, start, start + mark.length);
    if (opens) break;
    start = s.indexOf(mark, start + 1);
  }
  if (start === -1) return null;
  let end = s.indexOf(mark, start + mark.length + 1);
  while (end !== -1) {
    const before = s[end - 1];
    const after = s[end + mark.length];
    const closes = !/\s/.test(before) && before !== mark[0]
      && !(after !== undefined && WORD.test(after)) && !(mark === "*" && after === "*")
      && !inSpan(spans, end, end + mark.length);
    if (closes) {
      while (mark.length === 2 && s[end + 2] === mark[0]) end += 1;
      return { start, end };
    }
    end = s.indexOf(mark, end + 1);
  }
  return null;
}

const MARKS = [["**", "strong"], ["__", "strong"], ["*", "em"], ["_", "em"]];

function emphasis(s, out, depth, decorate) {
  if (!s) return;
  if (depth < MAX_DEPTH) {
    // The earliest pair of any mark wins; what is before it is plain, what is after it
    // is read again.
    let best = null;
    const spans = /www\.|:\/\//i.test(s) ? urlSpans(s) : [];
    for (const [mark, tag] of MARKS) {
      const pair = findPair(s, mark, spans);
      if (pair && (!best || pair.start < best.start)) best = { ...pair, mark, tag };
    }
    if (best) {
      links(s.slice(0, best.start), out, decorate);
      const node = el(best.tag);
      const inner = [];
      emphasis(s.slice(best.start + best.mark.length, best.end), inner, depth + 1, decorate);
      node.append(...inner);
      out.push(node);
      emphasis(s.slice(best.end + best.mark.length), out, depth, decorate);
      return;
    }
  }
  links(s, out, decorate);
}

function links(s, out, decorate) {
  if (!s) return;
  let last = 0;
  for (const match of s.matchAll(URL_RE)) {
    let url = match[0];
    url = trimUrl(url);
    const href = safeHref(url);
    if (!href) continue;
    plain(s.slice(last, match.index), out, decorate);
    out.push(el("a", { href, rel: LINK_REL, target: "_blank", text: url }));
    last = match.index + url.length;
  }
  plain(s.slice(last), out, decorate);
}

/** Punctuation that ends a sentence is not part of the address, nor an unmatched ")". */
function trimUrl(url) {
  for (;;) {
    const ch = url[url.length - 1];
    if (TRAILING.test(url)) {
      url = url.slice(0, -1);
      continue;
    }
    if (CLOSERS[ch]) {
      const opens = url.split(CLOSERS[ch]).length - 1;
      const closes = url.split(ch).length - 1;
      if (closes > opens) {
        url = url.slice(0, -1);
        continue;
      }
    }
    return url;
  }
}

/** An http(s) address as an href, or null. */
export function safeHref(text) {
  const withScheme = /^www\./i.test(text) ? `https://${text}` : text;
  try {
    const url = new URL(withScheme);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function plain(s, out, decorate) {
  if (!s) return;
  for (const part of decorate(s)) {
    if (part !== null && part !== undefined && part !== "") out.push(part);
  }
}
