"""Messages in the web client: links, a small safe Markdown, and the emoji picker.

Web addresses become links (rel="noopener noreferrer nofollow", target=_blank), and
**bold**, *italic*, `code`, code blocks and quotes render; nothing a message holds is
ever parsed as HTML (js/format.js builds DOM nodes). A fuzz test throws thousands of
hostile strings at the renderer in the page and some of them through a real server:
no element but the allowed ones appears, no attribute but a link's, no script runs,
the page's CSP sees nothing refused, and the renderer stays linear on long input.
The emoji picker reacts beyond the four quick reactions, at desktop and phone sizes.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_room_events_ui import chip, enter_room, message, notices, two_users_in_room
from tests.browser.test_web_client import (
    PHONE,
    accept_invitation,
    add_member,
    api_login,
    bubbles,
    create_room,
    create_workspace,
    send,
    sign_up,
    ws_client,
)

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

# The `server` fixture's ServerProcess (tests/browser/conftest.py).
ServerProcess = Any

ALLOWED = {"STRONG", "EM", "CODE", "PRE", "BLOCKQUOTE", "A", "SPAN"}

CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample || ""}`);
});
"""

# What the page checks of every rendered message: returns the problems found.
AUDIT = """
(roots) => {
  const allowed = new Set(__ALLOWED__);
  const problems = [];
  for (const root of roots) {
    for (const node of root.querySelectorAll("*")) {
      if (!allowed.has(node.tagName)) problems.push(`element ${node.tagName}`);
      // A mention the server resolved is a span of text (js/mentions.js).
      const mention = node.tagName === "SPAN" && /^mention( mention-me)?$/.test(node.className);
      if (node.tagName === "SPAN" && !mention) problems.push(`span ${node.className}`);
      if (mention && node.children.length) problems.push("a mention with elements in it");
      for (const attr of node.attributes) {
        const ok = node.tagName === "A"
          ? ["href", "rel", "target"].includes(attr.name)
          : mention && ["class", "data-mention", "data-user-id"].includes(attr.name);
        if (!ok) problems.push(`attribute ${attr.name} on ${node.tagName}`);
      }
      if (node.tagName === "A") {
        const href = node.getAttribute("href") || "";
        if (!/^https?:\\/\\//.test(href)) problems.push(`href ${href}`);
        if (node.getAttribute("rel") !== "noopener noreferrer nofollow") problems.push("rel");
        if (node.getAttribute("target") !== "_blank") problems.push("target");
      }
    }
  }
  if (window.__pwned) problems.push("a script ran");
  return problems;
}
""".replace("__ALLOWED__", json.dumps(sorted(ALLOWED)))

HOSTILE_PIECES = [
    "<",
    ">",
    '"',
    "'",
    "&",
    "&lt;",
    "&gt;",
    "&amp;",
    "&#60;",
    "&#x3C;",
    "&quot;",
    "javascript:",
    "JaVaScRiPt:",
    "java\tscript:",
    "data:text/html,",
    "vbscript:",
    "*",
    "**",
    "_",
    "__",
    "`",
    "```",
    "``",
    "](",
    "[",
    "]",
    "(",
    ")",
    "> ",
    ">",
    "\n",
    " ",
    "\t",
    "a",
    "b",
    "x_y",
    "http://",
    "https://",
    "www.",
    "example.com",
    "https://example.com/p?q=<b>&r=1",
    "@room",
    "\u202e",
    "\u200b",
    "%3Cscript%3E",
    "<script>window.__pwned=1</script>",
    "<img src=x onerror=window.__pwned=1>",
    "<a href=javascript:window.__pwned=1>x</a>",
    "<svg onload=window.__pwned=1>",
    "<style>*{display:none}</style>",
    '" onmouseover="window.__pwned=1',
    "</code>",
    "<iframe src=javascript:window.__pwned=1>",
    "[x](javascript:window.__pwned=1)",
    "![i](https://example.com/i.png)",
    "<!--",
    "-->",
    "<![CDATA[",
    "\\",
    "\\*",
]


def hostile_strings(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        out.append("".join(rng.choice(HOSTILE_PIECES) for _ in range(rng.randint(1, 40))))
    return out


def import_format(page: Any) -> None:
    """Load js/format.js into the page as `window.__format` (from the page's origin)."""
    page.evaluate("import('/js/format.js').then(m => { window.__format = m; })")
    page.wait_for_function("window.__format !== undefined")


def render(page: Any, text: str) -> dict[str, Any]:
    """Render `text` as a message's bubble would be, and describe what came out."""
    return dict(
        page.evaluate(
            """(text) => {
              const div = document.createElement("div");
              document.body.append(div);
              window.__format.renderMessageText(text, div);
              const html = div.innerHTML;
              const out = { html, text: div.textContent,
                links: [...div.querySelectorAll("a")].map(a => ({
                  href: a.getAttribute("href"), rel: a.getAttribute("rel"),
                  target: a.getAttribute("target"), text: a.textContent})),
                tags: [...div.querySelectorAll("*")].map(n => n.tagName) };
              div.remove();
              return out;
            }""",
            text,
        )
    )


# ---------------------------------------------------------------- rendering


def test_links_and_markdown_render_for_the_reader(new_page: Any, server: ServerProcess) -> None:
    alice, bob = two_users_in_room(new_page)
    text = (
        "see https://example.com/a_(b)?q=1. and **bold** *it* _also it_ `x < y` snake_case_name\n"
        "> a quote with www.example.org\n"
        "```\n<b>not bold</b> **not bold**\n```\n"
        "javascript:alert(1) is not a link"
    )
    room_id = int(alice.evaluate("localStorage.getItem('roomchat.room')"))
    with ws_client(server, api_login(server, "alice")) as call:
        call("send_room_chat_message", {"room_id": room_id, "message_text": text})
    msg = bob.locator("#message-list > li.msg").last
    bubble = msg.locator(".bubble")
    link = bubble.locator("a").first
    expect(bubble.locator("a")).to_have_count(2)
    expect(link).to_have_attribute("href", "https://example.com/a_(b)?q=1")
    expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_text("https://example.com/a_(b)?q=1")
    expect(bubble.locator("blockquote a")).to_have_attribute("href", "https://www.example.org/")
    expect(bubble.locator("strong")).to_have_text("bold")
    expect(bubble.locator("em")).to_have_text(["it", "also it"])
    expect(bubble.locator(":scope > code")).to_have_text("x < y")
    expect(bubble.locator("pre code")).to_have_text("<b>not bold</b> **not bold**")
    expect(bubble.locator("blockquote")).to_contain_text("a quote with")
    expect(bubble).to_contain_text("snake_case_name")
    expect(bubble).to_contain_text("javascript:alert(1) is not a link")
    assert bubble.locator("b").count() == 0

    # The sender's own copy renders the same; an edit renders again.
    mine = alice.locator("#message-list > li.msg").last.locator(".bubble")
    expect(mine.locator("strong")).to_have_text("bold")
    send(alice, "plain text <i>stays</i> text")
    expect(bubbles(bob, "plain text <i>stays</i> text")).to_have_count(1)
    assert bob.locator("#message-list .bubble i").count() == 0


def test_renderer_cases(new_page: Any) -> None:
    page = new_page()
    page.goto("/")
    import_format(page)
    cases = {
        "**b**": ["STRONG"],
        "*i*": ["EM"],
        "__b__ and _i_": ["STRONG", "EM"],
        "**bold *and italic***": ["STRONG", "EM"],
        "a * b * c": [],
        "2*3 = 6 and 4*5": [],
        "snake_case_and_more": [],
        "`code **not bold**`": ["CODE"],
        "``": [],
        "```\ncode\n```": ["PRE", "CODE"],
        "```\nnot closed": [],
        "> quoted **b**": ["BLOCKQUOTE", "STRONG"],
        "http://example.com.": ["A"],
        "(see https://example.com/x)": ["A"],
        "javascript:alert(1)": [],
        "[x](javascript:alert(1))": [],
        "data:text/html,<script>alert(1)</script>": [],
    }
    for text, tags in cases.items():
        out = render(page, text)
        assert out["tags"] == tags, (text, out)
    assert render(page, "http://example.com.")["links"][0]["href"] == "http://example.com/"
    assert (
        render(page, "(see https://example.com/x)")["links"][0]["text"] == "https://example.com/x"
    )
    assert render(page, "a * b * c")["text"] == "a * b * c"
    assert render(page, "line one\nline two")["text"] == "line one\nline two"


# ---------------------------------------------------------------- fuzz


def test_hostile_input_never_becomes_html(new_page: Any, server: ServerProcess) -> None:
    page = new_page()
    page.context.add_init_script(CSP_RECORDER)
    page.goto("/")
    import_format(page)
    strings = hostile_strings(3000, seed=25)
    problems = page.evaluate(
        """(strings) => {
          const check = __AUDIT__;
          const roots = [];
          for (const s of strings) {
            const div = document.createElement("div");
            document.body.append(div); // attached: an <img> would load, a handler would run
            window.__format.renderMessageText(s, div);
            roots.push(div);
          }
          const found = check(roots);
          for (const r of roots) r.remove();
          return found;
        }""".replace("__AUDIT__", AUDIT),
        strings,
    )
    assert problems == [], problems[:20]

    # Long hostile input stays fast: the renderer is linear, not a backtracking regex.
    slow = page.evaluate(
        """() => {
          const inputs = ["**a ".repeat(1000), "*".repeat(4000), "_a".repeat(2000),
            "`".repeat(4000), "```\\n".repeat(1000), "> ".repeat(2000), "https://".repeat(500),
            "*a _b **c __d ".repeat(280), "(https://x.org/".repeat(260)];
          const times = [];
          for (const s of inputs) {
            const div = document.createElement("div");
            const t0 = performance.now();
            window.__format.renderMessageText(s, div);
            times.push(performance.now() - t0);
          }
          return Math.max(...times);
        }"""
    )
    assert slow < 250, f"rendering a long message took {slow:.0f} ms"
    assert page.evaluate("window.__cspViolations") == []


def test_hostile_messages_through_the_server_stay_text(
    new_page: Any, server: ServerProcess
) -> None:
    alice, bob = two_users_in_room(new_page)
    bob.context.add_init_script(CSP_RECORDER)
    room_id = int(alice.evaluate("localStorage.getItem('roomchat.room')"))
    strings = [s for s in hostile_strings(60, seed=7) if s.strip()][:40]
    with ws_client(server, api_login(server, "alice")) as call:
        for text in strings:
            call("send_room_chat_message", {"room_id": room_id, "message_text": text})
        call("send_room_chat_message", {"room_id": room_id, "message_text": "the end"})
    bob.reload()
    expect(bubbles(bob, "the end")).to_have_count(1)
    bob.locator("#older-btn").evaluate("b => b.hidden || b.click()")
    problems = bob.locator("#message-list .bubble").evaluate_all(f"(roots) => ({AUDIT})(roots)")
    assert problems == [], problems[:20]
    assert bob.evaluate("window.__cspViolations") == []
    assert bob.evaluate("window.__pwned === undefined")


# ---------------------------------------------------------------- the emoji picker


def test_emoji_picker_reacts_beyond_the_quick_four(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page)
    send(alice, "ship it?")
    expect(bubbles(bob, "ship it?")).to_have_count(1)

    msg = message(bob, "ship it?")
    msg.hover()
    msg.locator(".actions").get_by_role("button", name="More reactions").click()
    picker = bob.get_by_role("dialog", name="Pick a reaction")
    expect(picker).to_be_visible()
    expect(picker.get_by_role("button")).to_have_count(40)
    # Escape closes it; nothing was given.
    bob.keyboard.press("Escape")
    expect(picker).to_have_count(0)
    msg.hover()
    msg.locator(".actions").get_by_role("button", name="More reactions").click()
    picker.get_by_role("button", name="React with 🚀").click()
    expect(picker).to_have_count(0)
    expect(chip(bob, "ship it?", "🚀")).to_have_attribute("aria-pressed", "true")
    expect(chip(alice, "ship it?", "🚀").locator(".count")).to_have_text("1")

    # Picking a reaction one gave takes it back, as its chip does.
    msg.hover()
    msg.locator(".actions").get_by_role("button", name="More reactions").click()
    picker.get_by_role("button", name="React with 🚀").click()
    expect(chip(alice, "ship it?", "🚀")).to_have_count(0)


def test_emoji_picker_on_a_phone(new_page: Any) -> None:
    alice = new_page()
    bob = new_page(PHONE)
    sign_up(alice, "alice", "Alice")
    sign_up(bob, "bob", "Bob")
    create_workspace(alice, "Team")
    add_member(alice, "bob")
    accept_invitation(bob, "Team")
    create_room(alice, "General")
    enter_room(bob, "General")
    expect(notices(alice, "Bob joined")).to_have_count(1)
    send(alice, "lunch?")
    msg = message(bob, "lunch?")
    msg.locator(".bubble").click()  # a tap shows the actions
    msg.locator(".actions").get_by_role("button", name="More reactions").click()
    picker = bob.get_by_role("dialog", name="Pick a reaction")
    expect(picker).to_be_visible()
    box = picker.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    picker.get_by_role("button", name="React with 🍕").click()
    expect(chip(alice, "lunch?", "🍕").locator(".count")).to_have_text("1")
    expect(msg.locator(".actions")).to_be_hidden()  # done with the bar too
    assert re.search(r"🍕", chip(bob, "lunch?", "🍕").inner_text())
