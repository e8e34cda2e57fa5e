"""Files and images in the web client (issue 24), in a real browser against a real server.

Alice attaches files (the attach button's file input, a paste, a drop), sees each one's
progress, cancels one, and sends; Bob, in his own browser context, sees the image as a
thumbnail whose box was reserved from its size, loaded (naturalWidth > 0), opens the full
image, and gets other files as chips whose link downloads them. An SVG (which could run
script if rendered in the chat's origin) downloads: the page stays where it is and the
response says ``Content-Disposition: attachment``. A file over the server's limit is
refused with a message that says so, and nothing is sent. The room's Files view lists
what was sent, newest first. Nothing waits by sleeping.
"""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_room_events_ui import delete, tombstones, two_users_in_room
from tests.browser.test_web_client import bubbles

pytestmark = pytest.mark.browser

expect.set_options(timeout=15_000)

SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>document.title='pwned'</script><rect width='10' height='10'/></svg>"
)
# Small enough for the test's upload limit, with room for the multipart framing.
UPLOAD_LIMIT = 200_000


def png(width: int, height: int, colour: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def attach(page: Any, name: str, mime: str, data: bytes) -> None:
    """Choose a file with the composer's attach button (its file input)."""
    page.locator("#attach-input").set_input_files({"name": name, "mimeType": mime, "buffer": data})


def upload_row(page: Any, name: str) -> Any:
    return page.locator("#upload-tray li.upload").filter(has_text=name)


def send_files(page: Any, text: str = "") -> None:
    box = page.locator("#composer-input")
    box.fill(text)
    box.press("Enter")
    expect(page.locator("#upload-tray")).to_be_hidden()


def file_message(page: Any, filename: str) -> Any:
    """The confirmed message that carries a file of that name."""
    return page.locator("#message-list > li.msg").filter(
        has=page.locator(f'.attachments [title*="{filename}"]')
    )


def natural_width(img: Any) -> int:
    return int(img.evaluate("(el) => el.complete ? el.naturalWidth : 0"))


def wait_loaded(img: Any) -> None:
    img.page.wait_for_function(
        "(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle()
    )


def open_files(page: Any) -> Any:
    page.locator("#files-btn").click()
    dialog = page.locator("#files-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#files-status")).not_to_have_text("Loading…")
    return dialog


# ---------------------------------------------------------------- tests


def test_image_and_file_reach_the_other_user(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")

    # Alice picks an image and a PDF: each shows in the tray, uploaded, ready to go.
    attach(alice, "holiday.png", "image/png", png(640, 480))
    expect(upload_row(alice, "holiday.png").locator(".upload-status")).to_have_text("Ready")
    attach(alice, "report.pdf", "application/pdf", b"%PDF-1.4\n" + b"x" * 3000)
    expect(upload_row(alice, "report.pdf").locator(".upload-status")).to_have_text("Ready")
    expect(upload_row(alice, "report.pdf")).to_contain_text("2.9 KB")
    # Files with no text: the message is sent all the same.
    send_files(alice, "")

    # A message of files only is named by its files in the room list.
    expect(bob.locator("#room-list .room-preview")).to_have_text("Alice: 📎 2 files")

    # Bob sees the image as a thumbnail, its box reserved before it loads, then loaded.
    thumb = file_message(bob, "holiday.png").locator("img.att-thumb")
    expect(thumb).to_have_count(1)
    expect(thumb).to_have_attribute("width", "320")
    expect(thumb).to_have_attribute("height", "240")
    wait_loaded(thumb)
    assert natural_width(thumb) > 0
    box = thumb.bounding_box()
    assert box is not None and round(box["width"]) == 320 and round(box["height"]) == 240

    # The PDF is a chip: its name, its size, a link to the file.
    chip = file_message(bob, "report.pdf").locator("a.att-file")
    expect(chip.locator(".att-name")).to_have_text("report.pdf")
    expect(chip.locator(".att-size")).to_have_text("2.9 KB")
    expect(chip).to_have_attribute("href", re.compile(r"/api/v1/files/\d+\?exp=\d+&sig="))

    # A click opens the full image, at its own size.
    thumb.click()
    full = bob.locator("#lightbox img.lightbox-img")
    expect(bob.locator("#lightbox")).to_be_visible()
    wait_loaded(full)
    assert int(full.evaluate("(el) => el.naturalWidth")) == 640
    expect(bob.locator("#lightbox .lightbox-caption")).to_contain_text("holiday.png")
    bob.keyboard.press("Escape")
    expect(bob.locator("#lightbox")).to_be_hidden()

    # A signed URL that no longer works (expired) is renewed once, and the image shows.
    bob.evaluate(
        """() => {
            const img = document.querySelector('#message-list img.att-thumb');
            img.src = img.src.replace(/sig=[^&]+/, 'sig=expired');
        }"""
    )
    thumb = file_message(bob, "holiday.png").locator("img.att-thumb")
    expect(thumb).not_to_have_attribute("src", re.compile("sig=expired"))
    wait_loaded(thumb)
    expect(thumb).not_to_have_class(re.compile("broken"))

    # With text and a file, both show; Alice sees her own message with its thumbnail.
    attach(alice, "second.png", "image/png", png(100, 400, (200, 50, 50)))
    expect(upload_row(alice, "second.png").locator(".upload-status")).to_have_text("Ready")
    send_files(alice, "tall one")
    expect(bubbles(bob, "tall one")).to_have_count(1)
    tall = file_message(bob, "second.png").locator("img.att-thumb")
    expect(tall).to_have_attribute("width", "60")
    expect(tall).to_have_attribute("height", "240")
    wait_loaded(file_message(alice, "second.png").locator("img.att-thumb"))

    # The Files view lists the three files, newest first.
    open_files(bob)
    rows = bob.locator("#files-list li.files-row")
    expect(rows).to_have_count(3)
    expect(rows.locator(".att-name")).to_have_text(["second.png", "report.pdf", "holiday.png"])
    wait_loaded(rows.nth(0).locator("img.att-thumb"))


def test_svg_downloads_instead_of_rendering(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")
    attach(alice, "drawing.svg", "image/svg+xml", SVG)
    expect(upload_row(alice, "drawing.svg").locator(".upload-status")).to_have_text("Ready")
    send_files(alice, "an svg")

    # Bob gets a chip, not an image: nothing of the SVG is drawn in the page.
    message = file_message(bob, "drawing.svg")
    expect(message.locator("img")).to_have_count(0)
    chip = message.locator("a.att-file")
    expect(chip.locator(".att-name")).to_have_text("drawing.svg")
    href = chip.get_attribute("href")
    assert href

    # Clicking it downloads the file; the chat stays where it was, its script never ran.
    url_before = bob.url
    with bob.expect_download() as info:
        chip.click()
    download = info.value
    assert download.suggested_filename == "drawing.svg"
    assert bob.url == url_before
    assert bob.title() != "pwned"
    expect(bob.locator("#room-title")).to_have_text("General")
    with open(download.path(), "rb") as fh:
        assert fh.read() == SVG

    # The server said so: an attachment, as text, never a document of this origin.
    response = bob.request.get(href)
    assert response.status == 200
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]

    # The Files view lists it as a chip too.
    open_files(bob)
    rows = bob.locator("#files-list li.files-row")
    expect(rows).to_have_count(1)
    expect(rows.locator("a.att-file .att-name")).to_have_text("drawing.svg")
    expect(rows.locator("img")).to_have_count(0)
    bob.locator("#files-close").click()

    # Deleted, the message keeps no file: gone from the timeline and from the Files view.
    delete(alice, "an svg")
    expect(tombstones(bob)).to_have_count(1)
    expect(bob.locator("#message-list .attachments")).to_have_count(0)
    expect(open_files(bob).locator("#files-list li")).to_have_count(0)
    expect(bob.locator("#files-status")).to_have_text("No files in this room yet.")
    assert bob.request.get(href).status == 404


@pytest.mark.parametrize("server_env", [{"ROOMCHAT_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)}])
def test_oversized_file_refused_with_a_clear_message(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")
    attach(alice, "huge.bin", "application/octet-stream", b"\0" * (UPLOAD_LIMIT * 2))
    row = upload_row(alice, "huge.bin")
    expect(row.locator(".upload-status")).to_have_text(
        re.compile(r"^Not uploaded: too large \(391 KB\): over the limit of 195 KB")
    )
    expect(row.locator("button")).to_have_text("Remove")

    # The limit is known now: the next big file is refused at once, nothing sent.
    posts: list[str] = []
    alice.on("request", lambda r: posts.append(r.url) if r.url.endswith("/attachments") else None)
    attach(alice, "huge2.bin", "application/octet-stream", b"\0" * (UPLOAD_LIMIT + 1))
    expect(upload_row(alice, "huge2.bin").locator(".upload-status")).to_have_text(
        re.compile(r"^Not uploaded: too large \(195 KB\): over the limit of 195 KB")
    )
    assert posts == []
    upload_row(alice, "huge2.bin").locator("button").click()

    # Nothing goes out while it is there: the user is told why.
    box = alice.locator("#composer-input")
    box.fill("with the big file")
    box.press("Enter")
    expect(alice.locator("#toast")).to_have_text(re.compile("could not be uploaded"))
    expect(box).to_have_value("with the big file")

    # Removed, the message goes out alone; a file under the limit goes up and is sent.
    row.locator("button").click()
    expect(alice.locator("#upload-tray")).to_be_hidden()
    attach(alice, "small.txt", "text/plain", b"hello " * 100)
    expect(upload_row(alice, "small.txt").locator(".upload-status")).to_have_text("Ready")
    send_files(alice, "with the small file")
    expect(bubbles(bob, "with the small file")).to_have_count(1)
    expect(file_message(bob, "small.txt").locator(".att-size")).to_have_text("600 B")
    rows = open_files(bob).locator("#files-list li.files-row")
    expect(rows).to_have_count(1)
    expect(rows.locator(".att-name").first).to_have_text("small.txt")

    # Hours later by the page's clock, the link's signed URL has expired: a click asks for
    # a new one first (GET /api/v1/attachments/{id}), then downloads the file with it (the
    # same minute's URL may come back: the server rounds expiry up to the minute).
    chip = rows.locator("a.att-file")
    bob.clock.set_fixed_time(time.time() + 3 * 3600)
    renewal = re.compile(r"/api/v1/attachments/\d+$")
    with bob.expect_request(renewal), bob.expect_download() as info:
        chip.click()
    assert info.value.suggested_filename == "small.txt"
    with open(info.value.path(), "rb") as fh:
        assert fh.read() == b"hello " * 100


def test_paste_drop_and_cancel(new_page: Any) -> None:
    alice, bob = two_users_in_room(new_page, "General")

    # A pasted screenshot and a dropped file go up like a chosen one.
    alice.locator("#composer-input").focus()
    alice.evaluate(
        """async (bytes) => {
            const file = new File([new Uint8Array(bytes)], 'screenshot.png', {type: 'image/png'});
            const data = new DataTransfer();
            data.items.add(file);
            const init = {clipboardData: data, bubbles: true, cancelable: true};
            const ev = new ClipboardEvent('paste', init);
            document.getElementById('composer-input').dispatchEvent(ev);
        }""",
        list(png(200, 100)),
    )
    expect(upload_row(alice, "screenshot.png").locator(".upload-status")).to_have_text("Ready")
    alice.evaluate(
        """() => {
            const data = new DataTransfer();
            data.items.add(new File(['dropped text'], 'notes.txt', {type: 'text/plain'}));
            const area = document.getElementById('chat-inner');
            const init = {dataTransfer: data, bubbles: true, cancelable: true};
            for (const type of ['dragenter', 'dragover', 'drop']) {
                area.dispatchEvent(new DragEvent(type, init));
            }
        }"""
    )
    expect(upload_row(alice, "notes.txt").locator(".upload-status")).to_have_text("Ready")

    # A slow upload shows its progress and can be cancelled: it is not sent.
    cdp = alice.context.new_cdp_session(alice)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 50_000},
    )
    attach(alice, "slow.bin", "application/octet-stream", b"\1" * 2_000_000)
    slow = upload_row(alice, "slow.bin")
    expect(slow.locator("progress")).to_be_visible()
    expect(slow.locator(".upload-status")).to_have_text(re.compile(r"^\d+%$"))
    expect(slow.locator("button")).to_have_text("Cancel")
    slow.locator("button").click()
    expect(slow).to_have_count(0)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    send_files(alice, "pasted and dropped")
    expect(bubbles(bob, "pasted and dropped")).to_have_count(1)
    message = file_message(bob, "screenshot.png")
    wait_loaded(message.locator("img.att-thumb"))
    expect(message.locator("a.att-file .att-name")).to_have_text("notes.txt")
    expect(bob.locator(".attachments [title*='slow.bin']")).to_have_count(0)
