"""The roomchat command: serve, migrate."""

from __future__ import annotations

import argparse
import logging
import resource

from roomchat import __version__
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
    args = parser.parse_args(argv)

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "migrate":
        upgrade(settings.resolved_database_url())
        return
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    if not args.no_migrate:
        upgrade(settings.resolved_database_url())
    _serve(settings)


def _serve(settings: Settings) -> None:
    import uvicorn

    from roomchat import logs
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


def _raise_fd_limit() -> None:
    """Every connection is a file descriptor; take all the kernel allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


if __name__ == "__main__":
    main()
