"""Log lines: readable text or one JSON object per line, and never a secret in them.

``configure`` sets up the one handler every logger (uvicorn's too) writes through:
``ROOMCHAT_LOG_FORMAT=json`` gives {time, level, logger, message, instance,
request_id where there is one} per line (python-json-logger); the default is text.
The request id is the REST request's (``X-Request-ID``, or one made up) or the
WebSocket frame's ``request_id`` while its action runs (``request_id_var``).

Secrets are kept out: tokens, tickets, API keys, passwords, passcodes and join links.

uvicorn logs every WebSocket handshake with its full query string (``?token=...``),
and at debug level the websockets library logs request lines, headers and frames.
Rather than hunt every call, one filter on every handler rewrites each record's
final text (and its traceback) before it is written.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # The whole query string of /ws: only credentials travel there, and a client may
    # percent-encode a parameter's name ("%74oken=") past any list of names.
    (re.compile(r"(/ws)\?[^\s\"']*"), rf"\1?{REDACTED}"),
    # Query parameters that carry a credential: /ws?token=..., ?ticket=...
    (
        re.compile(
            r"(?i)([?&;](?:token|access_token|ticket|password|passcode|join_token)=)[^&;\s\"'#]*"
        ),
        rf"\1{REDACTED}",
    ),
    # Join links are capabilities: /join/{token} and /api/v1/room-chats/join/{token}
    (re.compile(r"(/join/)[^/\s?\"'#]+"), rf"\1{REDACTED}"),
    # Authorization headers (websockets logs every header at debug level)
    (re.compile(r"(?i)(authorization[\"']?\s*[:=,]\s*[\"']?)[^\r\n\"']*"), rf"\1{REDACTED}"),
    # JSON fields of frames and bodies: "passcode": "1234", 'password': '...'
    (
        re.compile(
            r"(?i)([\"'](?:password|passcode|access_token|token|ticket)[\"']\s*:\s*)"
            r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
        ),
        rf'\1"{REDACTED}"',
    ),
    # API keys (domain/api_keys.py), wherever they turn up: a header, a query, a body
    (re.compile(r"rck_[A-Za-z0-9_-]+"), REDACTED),
    # Anything shaped like a JWT, wherever it turns up
    # (its dots percent-encoded too)
    (
        re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.|%2[eE])[A-Za-z0-9_-]+(?:\.|%2[eE])[A-Za-z0-9_-]*"),
        REDACTED,
    ),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record's arguments, message and traceback with the secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            # Argument by argument, so formatters that read record.args (uvicorn's
            # access log) still get their tuple.
            record.args = tuple(_clean(arg) for arg in record.args)
        # Not the format string on its own: a pattern could eat its "%s" ("?token=%s")
        # and the line would fail to format and be lost. The whole message instead:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        cleaned = redact(message)  # a secret split across arguments ("%s: %s")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            # Formatters that format exc_info themselves (the JSON one) would undo it:
            # leave them only the redacted text.
            record.exc_info = None
        return True


def _clean(arg: object) -> object:
    if arg is None or isinstance(arg, int | float):
        return arg
    return redact(arg if isinstance(arg, str) else str(arg))


# Libraries that log SQL with its parameters at debug level (join tokens, ticket and
# password hashes): never below INFO, whatever log_level says.
_PARAMETER_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg")


# The request being served by the current task, for every line it logs: as the client
# sent it (a WebSocket frame's request_id), checked by request_id_of only when a line
# is logged, not on every frame.
request_id_var: ContextVar[object] = ContextVar("roomchat_request_id", default=None)

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_id_of(given: object) -> str | None:
    """A client's request id, if it is safe to write in a log line (no spaces, no
    newlines, at most 64 characters); None otherwise."""
    text = str(given) if isinstance(given, str | int) else None
    return text if text is not None and _REQUEST_ID.fullmatch(text) else None


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        given = request_id_var.get()
        request_id = None if given is None else request_id_of(given)
        if request_id is not None:
            record.request_id = request_id
        return True


_URL_LOGGERS = ("httpx", "httpcore")


def configure(level: str, log_format: str, instance: str) -> None:
    """The root handler, in ``log_format`` (text or json), at ``level``."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "{levelname}{name}{message}",
                style="{",
                rename_fields={"levelname": "level", "name": "logger"},
                static_fields={"instance": instance},
                timestamp="time",
            )
        )
    elif log_format == "text":
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    else:
        raise ValueError(f"ROOMCHAT_LOG_FORMAT must be text or json, not {log_format!r}")
    handler.addFilter(_RequestId())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    # httpx logs each request's full URL at INFO: a webhook URL's path or query is often
    # the receiver's own secret (Slack-style /services/T0/B0/XXXX). Webhook lines name
    # the endpoint and its host instead (webhooks/dispatcher.py).
    for name in _URL_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def install() -> None:
    """Redact on every handler configured so far; keep SQL parameters out of debug logs."""
    for name in _PARAMETER_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.getEffectiveLevel(), logging.INFO))
    the_filter = RedactSecrets()
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(the_filter)
