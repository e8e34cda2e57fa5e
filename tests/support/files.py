"""Helpers of the attachment tests (issue 24): images made with Pillow, uploads through
the real REST route, a process's resident memory, and moto's S3 server as a process."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from tests.support import process as kit
from tests.support.client import Account, Api

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def jpeg(width: int = 64, height: int = 32, orientation: int = 1, **exif: Any) -> bytes:
    """A JPEG of ``width`` x ``height`` with an EXIF orientation and a camera make (what a
    thumbnail must not carry on)."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    tags = Image.Exif()
    tags[ORIENTATION] = orientation
    tags[MAKE] = "SecretCam"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=tags.tobytes())
    return out.getvalue()


def png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 255, 200)).save(out, "PNG")
    return out.getvalue()


def bomb_png(side: int = 30000) -> bytes:
    """A PNG whose header says ``side`` x ``side`` pixels (900 M at 30000): a few
    hundred bytes that would decode to gigabytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * side
    body = zlib.compress(row * 64, 9)  # the first rows; a decoder would ask for more
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


async def upload(
    api: Api,
    account: Account | None,
    room_id: int,
    content: bytes,
    filename: str = "file.bin",
    expect: int = 201,
    field: str = "file",
    client_type: str = "application/octet-stream",
) -> Any:
    """POST a multipart upload; the attachment (or the error) when the status is the one
    expected."""
    headers = account.headers if account else {}
    response = await api.http.post(
        f"/api/v1/room-chats/{room_id}/attachments",
        headers=headers,
        files={field: (filename, content, client_type)},
    )
    assert response.status_code == expect, response.text
    body = response.json()
    return body["data"] if expect < 400 else body["error"]


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for an outside condition (a file gone from disk or a bucket) that sends no
    event, polling, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the timeout"
        await asyncio.sleep(0.05)


def rss_bytes(pid: int) -> int:
    """A process's resident set size now (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def peak_rss_bytes(pid: int) -> int:
    """The most resident memory the process ever had (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def fetch(url: str) -> httpx.Response:
    """GET a signed URL as a browser's <img src> would: no Authorization header."""
    with httpx.Client(timeout=10.0) as http:
        return http.get(url)


def stored_objects(files_dir: Path) -> list[str]:
    """Every object the local file store holds."""
    root = files_dir / "objects"
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@dataclass
class S3Target:
    """An S3-compatible endpoint and a bucket of its own: moto's server started here, or
    the one ROOMCHAT_TEST_S3_ENDPOINT names (real S3, MinIO)."""

    endpoint: str
    bucket: str
    access_key_id: str
    secret_access_key: str
    region: str

    def settings(self) -> dict[str, str]:
        return {
            "files_backend": "s3",
            "s3_endpoint_url": self.endpoint,
            "s3_bucket": self.bucket,
            "s3_access_key_id": self.access_key_id,
            "s3_secret_access_key": self.secret_access_key,
            "s3_region": self.region,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
        )

    def keys(self) -> list[str]:
        found = self.client().list_objects_v2(Bucket=self.bucket)
        return sorted(item["Key"] for item in found.get("Contents", []))


@contextmanager
def s3_server(directory: Path, bucket: str) -> Iterator[S3Target]:
    """moto's standalone S3 server as a real process (or the endpoint the environment
    names), with ``bucket`` made in it."""
    endpoint = os.environ.get("ROOMCHAT_TEST_S3_ENDPOINT")
    if endpoint:
        target = S3Target(
            endpoint,
            os.environ.get("ROOMCHAT_TEST_S3_BUCKET", bucket),
            os.environ.get("ROOMCHAT_TEST_S3_ACCESS_KEY_ID", "minioadmin"),
            os.environ.get("ROOMCHAT_TEST_S3_SECRET_ACCESS_KEY", "minioadmin"),
            os.environ.get("ROOMCHAT_TEST_S3_REGION", "us-east-1"),
        )
        _make_bucket(target)
        yield target
        return
    port = kit.free_port()
    log = directory / "moto.log"
    directory.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", kit.LOOPBACK, "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        kit.wait_port(port, 30.0, process, what="moto S3 server", log=log)
        target = S3Target(f"http://{kit.LOOPBACK}:{port}", bucket, "test", "test", "us-east-1")
        _make_bucket(target)
        yield target
    finally:
        kit.stop(process, 10.0)


def _make_bucket(target: S3Target) -> None:
    client = target.client()
    with suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=target.bucket)
