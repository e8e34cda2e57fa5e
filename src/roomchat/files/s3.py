"""The S3-compatible file store (AWS S3, MinIO, moto's server...) with obstore.

Uploads still pass through roomchat (sniffed, bounded, thumbnailed) and are streamed
from the upload's temporary file (obstore uploads large files in parts); downloads
are the store's own presigned GET URLs, so file bytes never cross roomchat again. The
object keeps its Content-Type and Content-Disposition (set when it is put), which the
store answers with.

obstore over aiobotocore/aioboto3 (docs/operations.md): presigning is a plain function
call (no await, no client context), which is what re-minting the URLs of every served
message needs; it has no pin on a botocore release and no aiohttp; one wheel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from time import time

import obstore
from obstore.store import S3Store


class S3FileStore:
    def __init__(
        self,
        bucket: str,
        temp_dir: Path,
        *,
        endpoint: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        prefix: str = "attachments/",
    ) -> None:
        config: dict[str, object] = {"region": region}
        if access_key_id:
            config["access_key_id"] = access_key_id
        if secret_access_key:
            config["secret_access_key"] = secret_access_key
        if endpoint:
            config["endpoint"] = endpoint
            config["virtual_hosted_style_request"] = False
        client_options = {"allow_http": True} if endpoint and endpoint.startswith("http:") else None
        self._store = S3Store(bucket, client_options=client_options, **config)  # type: ignore[arg-type]
        self._temp = temp_dir
        self._prefix = prefix

    @property
    def temp_dir(self) -> Path:
        return self._temp

    async def put(self, key: str, source: Path, content_type: str, disposition: str) -> None:
        await obstore.put_async(
            self._store,
            self._prefix + key,
            source,
            attributes={"Content-Type": content_type, "Content-Disposition": disposition},
        )

    async def delete(self, keys: Sequence[str]) -> None:
        if keys:
            await obstore.delete_async(self._store, [self._prefix + k for k in keys])

    async def keys_before(self, cutoff: datetime) -> list[str]:
        found: list[str] = []
        async for batch in obstore.list(self._store, prefix=self._prefix):
            for meta in batch:
                if meta["last_modified"] < cutoff:
                    found.append(meta["path"][len(self._prefix) :])
        return found

    def url(self, key: str, attachment_id: int, thumbnail: bool, expires_at: int) -> str:
        ttl = max(1, expires_at - int(time()))
        return obstore.sign(self._store, "GET", self._prefix + key, timedelta(seconds=ttl))

    def local_path(
        self, key: str, attachment_id: int, thumbnail: bool, expires_at: int, signature: str
    ) -> Path | None:
        return None  # served by the store itself
