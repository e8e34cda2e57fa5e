"""The roomchat command: serve, migrate, and the operator commands (roomchat/admin.py)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import resource
import sys
from typing import Any

from roomchat import __version__, logs
from roomchat.domain.models import MAX_ID
from roomchat.settings import Settings
from roomchat.store.migrate import upgrade


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="roomchat",
        description="Workspace-based room chat. Settings come from ROOMCHAT_* variables (README).",
    )
    parser.add_argument("--version", action="version", version=f"roomchat {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="apply migrations, then serve REST + WebSocket")
    serve.add_argument("--host", help="overrides ROOMCHAT_HOST")
    serve.add_argument("--port", type=int, help="overrides ROOMCHAT_PORT")
    serve.add_argument("--no-migrate", action="store_true", help="skip applying migrations")
    commands.add_parser("migrate", help="apply database migrations and exit")
    _operator_commands(commands)
    args = parser.parse_args(argv)

    settings = Settings()
    logs.configure(settings.log_level, settings.log_format, settings.instance_id)
    if args.command == "migrate":
        upgrade(settings.resolved_database_url())
        return
    if args.command in ("users", "workspaces", "api-keys", "webhooks"):
        sys.exit(_operate(settings, args))
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    if not args.no_migrate:
        upgrade(settings.resolved_database_url())
    _serve(settings)


def _serve(settings: Settings) -> None:
    import uvicorn

    from roomchat.app import create_app
    from roomchat.httpserver import protocol_class

    _raise_fd_limit()
    http = protocol_class(settings.header_read_timeout_s)
    if http is None:
        logging.getLogger("roomchat").warning(
            "uvicorn's httptools protocol is not the one roomchat was written for: "
            "serving without a header read timeout"
        )
    trusted_proxies = settings.forwarded_allow_ips.strip()
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's loggers write through roomchat's handler (logs.py)
        http=http or "auto",
        ws=settings.ws_impl,
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,  # compression costs memory and CPU per connection
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        # uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told otherwise: anyone
        # on this host could then pick the address the login throttle counts.
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
    )
    logs.install()  # after uvicorn configured its loggers
    uvicorn.Server(config).run()


def _operator_commands(commands: Any) -> None:
    users = commands.add_parser("users", help="manage users").add_subparsers(
        dest="what", required=True
    )
    user = users.add_parser("create", help="register a user (password from stdin or a prompt)")
    user.add_argument("username")
    user.add_argument("--display-name")
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    user.add_argument("--json", action="store_true", help="print the user as JSON")
    workspaces = commands.add_parser("workspaces", help="manage workspaces").add_subparsers(
        dest="what", required=True
    )
    workspace = workspaces.add_parser("create", help="create a workspace owned by a user")
    workspace.add_argument("name")
    workspace.add_argument("--owner", required=True, help="the owner's username")
    workspace.add_argument("--json", action="store_true", help="print the workspace as JSON")
    keys = commands.add_parser(
        "api-keys", help="manage workspaces' API keys (docs/server-api.md)"
    ).add_subparsers(dest="what", required=True)
    key = keys.add_parser("create", help="make a key for a workspace; the key is printed once")
    key.add_argument("--workspace", type=_id, required=True, help="the workspace's id")
    key.add_argument("--name", required=True, help="what it is for; its bot's display name")
    key.add_argument("--json", action="store_true", help="print it, the key included, as JSON")
    revoke = keys.add_parser("revoke", help="revoke a key: every instance refuses it from now")
    revoke.add_argument("id", type=_id, help="the key's id (as created or listed)")
    revoke.add_argument("--json", action="store_true", help="print the revoked key as JSON")
    hooks = commands.add_parser(
        "webhooks", help="see workspaces' webhook endpoints (docs/integration.md)"
    ).add_subparsers(dest="what", required=True)
    listing = hooks.add_parser("list", help="endpoints and their delivery state; no secrets")
    listing.add_argument("--workspace", type=_id, help="one workspace's only (default: all)")
    listing.add_argument("--json", action="store_true", help="print them as a JSON list")


def _id(text: str) -> int:
    """A row id on the command line: a plain decimal 1..2^63-1 (else exit 2)."""
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ID):
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (1 to {MAX_ID})")
    return int(text)


def _operate(settings: Settings, args: argparse.Namespace) -> int:
    """Run an operator command: 0 done, 1 refused (the reason on stderr)."""
    from roomchat import admin, jsoncodec
    from roomchat.errors import ChatError

    upgrade(settings.resolved_database_url())
    try:
        if args.command == "users":
            password = _password(args.password_stdin)
            done = asyncio.run(
                admin.create_user(settings, args.username, password, args.display_name)
            )
        elif args.command == "workspaces":
            done = asyncio.run(admin.create_workspace(settings, args.name, args.owner))
        elif args.command == "webhooks":
            done = asyncio.run(admin.list_webhooks(settings, args.workspace))
        elif args.what == "create":
            done = asyncio.run(admin.create_api_key(settings, args.workspace, args.name))
        else:
            done = asyncio.run(admin.revoke_api_key(settings, args.id))
    except ChatError as err:
        print(f"error: {err.code}: {err.message}", file=sys.stderr)
        return 1
    print(jsoncodec.dumps(done.data).decode() if args.json else done.line)
    return 0


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        print("error: give --password-stdin, or run in a terminal", file=sys.stderr)
        sys.exit(2)
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        print("error: the passwords differ", file=sys.stderr)
        sys.exit(2)
    return first


def _raise_fd_limit() -> None:
    """Every connection is a file descriptor; take all the kernel allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    main()
