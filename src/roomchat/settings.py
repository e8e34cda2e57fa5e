"""Every setting roomchat reads, from ROOMCHAT_* environment variables.

Settings are built in ``create_app()`` (or by the CLI), never at import time, so
tests pass a ``Settings(...)`` instead of patching the environment.
"""

from __future__ import annotations

import os
import secrets
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROOMCHAT_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./data")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite+aiosqlite:///{data_dir}/roomchat.db",
    )
    database_pool_size: int = 20
    database_statement_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="a database statement not answered within this fails the request with "
        "unavailable (503); on SQLite, how long to wait for another process's lock",
    )
    database_pool_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="longest wait for a database connection (a free one in the pool, or a "
        "new one opened), then unavailable (503)",
    )
    readiness_timeout_s: float = Field(
        default=2.0, gt=0, description="/readyz says the database is down past this"
    )
    public_base_url: str | None = Field(
        default=None, description="Base of link_join; default http://{host}:{port}"
    )
    jwt_secret: str | None = Field(
        default=None, description="HS256 key; default: generated once, kept in data_dir"
    )
    jwt_ttl_seconds: int = 7 * 24 * 3600
    history_limit: int = 50
    catch_up_limit: int = 500
    send_rate_per_second: float = 20.0
    send_burst: int = 40
    edit_rate_per_second: float = Field(
        default=5.0, description="edits, deletes and reactions per connection (one bucket)"
    )
    edit_burst: int = 20
    read_rate_per_second: float = Field(
        default=5.0, description="mark_room_read and mark_room_unread per connection"
    )
    read_burst: int = 20
    presence_enabled: bool = Field(
        default=True, description="false: no presence at all (online_user_ids null)"
    )
    presence_grace_s: float = Field(
        default=5.0, description="a reconnect within this long is no offline-then-online"
    )
    presence_ttl_s: float = Field(
        default=15.0, description="a killed instance's users are offline everywhere after this"
    )
    presence_refresh_s: float = Field(
        default=5.0, description="each instance repeats what it holds this often"
    )
    presence_max_members: int = Field(
        default=1000, description="larger rooms get no presence (online_user_ids null)"
    )
    activity_interval_ms: int = Field(
        default=250, description="at most one room_activity per room this often (coalesced)"
    )
    read_receipt_interval_ms: int = Field(
        default=1000, description="at most one room_chat_read per member and room this often"
    )
    passcode_max_failures: int = 5
    passcode_window_seconds: int = 15 * 60
    max_frame_bytes: int = 64 * 1024
    max_message_text_chars: int = 4000
    max_message_content_bytes: int = 16 * 1024
    outbound_queue_frames: int = 1024
    gap_fill_delay_ms: int = 300
    sweep_interval_s: float = 5.0
    kafka_bootstrap_servers: str | None = None
    kafka_topic: str = "roomchat.room-events"
    kafka_fetch_max_wait_ms: int = 5
    kafka_heartbeat_interval_s: float = 2.0
    kafka_deaf_after_s: float = 10.0
    kafka_partitions: int = Field(default=6, description="when roomchat creates the topic")
    kafka_replication_factor: int = 1
    kafka_linger_ms: int = 1
    kafka_produce_timeout_s: float = Field(
        default=5.0, description="a send not acknowledged by then counts as Kafka down"
    )
    kafka_connect_timeout_s: float = 5.0
    kafka_retry_interval_s: float = 0.5
    kafka_typing_ttl_s: float = Field(
        default=5.0, description="typing indicators older than this are not shown"
    )
    commits_in_flight: int = Field(
        default=2,
        description="group commits of new messages in flight at once on PostgreSQL (no two "
        "sharing a room); SQLite always has one",
    )
    outbox_batch: int = 500
    outbox_orphan_after_s: float = Field(
        default=30.0,
        description="outbox rows of another instance older than this are published for it",
    )
    instance_id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    log_level: str = "info"
    log_format: str = Field(
        default="text", description="text: readable lines; json: one JSON object per line"
    )
    metrics_token: str | None = Field(
        default=None, description="set: /metrics requires it as a bearer token (else 401)"
    )
    metrics_address: str | None = Field(
        default=None,
        description="host:port: serve /metrics there instead of on the public port "
        "(neither set: /metrics answers loopback clients only)",
    )
    ws_impl: str = Field(
        default="websockets-sansio",
        description="uvicorn's WebSocket implementation: websockets-sansio, websockets, wsproto",
    )
    serve_web_client: bool = True

    # --- Security and robustness limits (docs/security.md) ---
    jwt_issuer: str = Field(default="roomchat", description="iss claim issued and required")
    jwt_audience: str = Field(default="roomchat", description="aud claim issued and required")
    session_max_age_s: int = Field(
        default=30 * 24 * 3600,
        description="a login session's tokens can be refreshed until this long after login",
    )
    ws_ticket_ttl_s: float = Field(
        default=30.0, description="lifetime of a single-use WebSocket connection ticket"
    )
    revocation_poll_interval_s: float = Field(
        default=1.0, description="how often an instance looks for newly revoked tokens"
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, description="largest REST request body; larger gets 413"
    )
    max_password_chars: int = Field(
        default=128, description="longer passwords are refused unhashed"
    )
    login_limit_per_account: str = Field(
        default="10/5minutes",
        description="failed logins allowed per username and client address (N/period)",
    )
    login_limit_per_address: str = Field(
        default="50/5minutes", description="failed logins allowed per client address"
    )
    register_limit_per_address: str = Field(
        default="20/hour", description="registrations allowed per client address"
    )
    forwarded_allow_ips: str = Field(
        default="",
        description="proxies whose X-Forwarded-For is trusted for the client address "
        "(comma-separated; empty: none, the socket's peer is the client)",
    )
    outbound_buffer_bytes: int = Field(
        default=4 * 1024 * 1024,
        description="bytes of frames a connection may have waiting; past it: close 1013",
    )
    write_timeout_s: float = Field(
        default=30.0, description="a connection that could write nothing this long: close 1013"
    )
    join_rate_per_second: float = Field(default=2.0, description="join_room_chat per connection")
    join_burst: int = 10
    catch_up_max_bytes: int = Field(
        default=1024 * 1024,
        description="largest join reply and events page; the rest by REST pages (has_more)",
    )
    max_ws_per_user: int = Field(default=20, description="open WebSockets per user")
    ws_allowed_origins: str = Field(
        default="",
        description="comma-separated Origins allowed on /ws (the server's own always is); "
        "empty: any",
    )
    header_read_timeout_s: float = Field(
        default=10.0, description="a client must finish its request headers within this"
    )
    api_keys_per_workspace: int = Field(
        default=25, description="unrevoked API keys a workspace may have (docs/server-api.md)"
    )
    api_key_rate_limit: str = Field(
        default="20/second",
        description="requests per API key and instance (the limits notation; ';' joins several)",
    )
    rest_send_limit: str = Field(
        default="20/second",
        description="messages a user (or bot) may post per instance through "
        "POST /api/v1/room-chats/{room_id}/messages",
    )
    api_key_create_limit: str = Field(
        default="10/hour;50/day",
        description="API keys an owner may make per instance (the limits notation)",
    )
    workspaces_per_owner: int = Field(
        default=20, description="workspaces a user may own; one more is a conflict"
    )
    rooms_per_workspace: int = Field(
        default=1000, description="rooms (not deleted) a workspace may have"
    )
    rooms_per_creator: int = Field(
        default=100, description="rooms (not deleted) one member may have made in a workspace"
    )
    direct_chats_per_creator: int = Field(
        default=1000,
        description="direct conversations (not deleted) one member may have opened in a workspace",
    )
    invitations_per_user: int = Field(
        default=100,
        description="pending invitations a user's list holds; a new one takes the place "
        "of the oldest from a stranger (someone sharing no workspace with them)",
    )
    invitations_from_one_inviter: int = Field(
        default=3,
        description="of those, how many one inviter may hold; their newer one replaces "
        "their oldest",
    )
    invitation_rate_limit: str = Field(
        default="120/hour;1000/day",
        description="invitations an owner may send per instance (the limits notation)",
    )
    profile_change_limit: str = Field(
        default="10/minute;100/hour",
        description="display name and picture changes per user and instance (each one "
        "tells every room the user is in)",
    )

    # --- Webhooks (docs/integration.md) ---
    webhooks_per_workspace: int = Field(
        default=10, description="webhook endpoints a workspace may register"
    )
    webhook_allowed_networks: str = Field(
        default="",
        description="comma-separated CIDRs webhook URLs may resolve to besides public "
        "addresses (loopback, private, link-local and other special ranges are refused)",
    )
    webhook_timeout_s: float = Field(
        default=10.0, description="a delivery not answered within this (in all) has failed"
    )
    webhook_connect_timeout_s: float = Field(
        default=3.0,
        description="a receiver's host that has not accepted the connection within this "
        "has failed (frees the request slot sooner than webhook_timeout_s)",
    )
    webhook_concurrency: int = Field(
        default=16, description="webhook requests in flight at once per instance"
    )
    webhook_workspace_concurrency: int = Field(
        default=4,
        description="of those, at most this many for one workspace's endpoints (a "
        "workspace whose receivers hang never holds them all)",
    )
    webhook_retry_window_s: float = Field(
        default=24 * 3600.0,
        description="an endpoint failing for longer than this is disabled (its events wait)",
    )
    webhook_backoff_initial_s: float = Field(
        default=5.0, description="first retry after a failed delivery; doubles each time"
    )
    webhook_backoff_max_s: float = Field(
        default=3600.0, description="longest wait between two retries"
    )
    webhook_poll_interval_s: float = Field(
        default=5.0,
        description="how often one query looks for events of the endpoints this instance "
        "delivers that no event heard announced (events heard start deliveries at once)",
    )
    webhook_lease_s: float = Field(
        default=15.0,
        description="an instance's hold on an endpoint; a stopped instance's endpoints "
        "are taken over after this",
    )

    # --- Attachments: files and images in messages (docs/operations.md) ---
    max_upload_bytes: int = Field(
        default=25 * 1024 * 1024,
        gt=0,
        description="largest uploaded file; a larger one is refused (413) while it streams, "
        "before anything is stored",
    )
    files_backend: str = Field(
        default="local", description="where uploaded files are kept: local (files_dir) or s3"
    )
    files_dir: Path | None = Field(
        default=None, description="local backend: the folder; default {data_dir}/files"
    )
    files_base_url: str | None = Field(
        default=None,
        description="local backend: the origin signed download URLs point at (a separate "
        "origin is safer: docs/security.md); default public_base_url",
    )
    files_signing_secret: str | None = Field(
        default=None,
        description="key of the local backend's signed URLs (every instance the same); "
        "default: derived from jwt_secret",
    )
    file_url_ttl_s: int = Field(
        default=3600, ge=60, description="how long a signed file URL works after it is minted"
    )
    s3_bucket: str | None = Field(default=None, description="s3 backend: the bucket")
    s3_endpoint_url: str | None = Field(
        default=None, description="s3 backend: an S3-compatible endpoint (MinIO...); default AWS"
    )
    s3_region: str = Field(default="us-east-1", description="s3 backend: the region")
    s3_access_key_id: str | None = Field(default=None, description="s3 backend: access key id")
    s3_secret_access_key: str | None = Field(
        default=None, description="s3 backend: secret key (never logged)"
    )
    s3_prefix: str = Field(default="attachments/", description="s3 backend: key prefix")
    workspace_storage_quota_bytes: int = Field(
        default=10 * 1024**3,
        description="bytes of files a workspace may keep; an upload past it: quota_exceeded",
    )
    upload_rate_limit: str = Field(
        default="30/minute", description="uploads per user per instance (the limits notation)"
    )
    max_image_pixels: int = Field(
        default=50_000_000,
        description="an image with more pixels is refused (decompression bombs)",
    )
    attachment_unattached_ttl_s: float = Field(
        default=24 * 3600.0, description="an upload never sent in a message is removed after"
    )
    attachment_orphan_grace_s: float = Field(
        default=600.0,
        description="a stored file no row names is removed by the sweep once this old",
    )
    attachment_sweep_interval_s: float = Field(
        default=600.0,
        description="how often the sweep removes unattached, deleted and orphan files",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'roomchat.db'}"

    def files_origin(self) -> str | None:
        """The origin attachments' URLs point at when it is not the server's own (the
        web client's CSP lets its pages show images from there); None when it is."""
        if self.files_backend == "s3":
            # AWS itself: obstore's path-style URLs
            base = self.s3_endpoint_url or f"https://s3.{self.s3_region}.amazonaws.com"
        elif self.files_base_url:
            base = self.files_base_url
        else:
            return None
        parts = urlsplit(base)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None

    def resolved_files_dir(self) -> Path:
        return self.files_dir if self.files_dir is not None else self.data_dir / "files"

    def resolved_public_base_url(self) -> str:
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    def resolved_jwt_secret(self) -> str:
        """The configured secret, or one generated on first use and kept in data_dir."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt_secret"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        # Created owner-only: never readable by others, not even for a moment.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secret)
        return secret
