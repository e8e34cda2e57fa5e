"""The API's documents: ``/docs`` (Swagger UI over /openapi.json) and ``/asyncapi.yaml``
(the WebSocket protocol, AsyncAPI 3), both served from the package.

Swagger UI is vendored (src/roomchat/web/vendor/swagger/: its LICENSE and VERSION are
there), so ``/docs`` works with no network and under a CSP that runs only this
origin's scripts: the page has no inline script, ``roomchat-docs.js`` starts it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from roomchat.errors import not_found

SWAGGER_DIR = Path(__file__).resolve().parent.parent / "web" / "vendor" / "swagger"
DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
ASYNCAPI_PATH = "/asyncapi.yaml"
ASYNCAPI_TYPE = "application/yaml"

# Relative URLs: the page works behind a proxy that serves roomchat under a prefix.
_PAGE = b"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>roomchat API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/roomchat-docs.js"></script>
</body>
</html>
"""


class _AsyncApi:
    """The AsyncAPI document's bytes, read from the package once it is there."""

    def __init__(self) -> None:
        self._bytes: bytes | None = None

    def read(self) -> bytes:
        if self._bytes is None:
            resource = resources.files("roomchat.contract") / "asyncapi.yaml"
            try:
                self._bytes = resource.read_bytes()
            except FileNotFoundError:
                raise not_found("the AsyncAPI document") from None
        return self._bytes


def install(app: FastAPI) -> None:
    """Add ``/docs``, its assets and ``/asyncapi.yaml`` to ``app`` (none of them in the
    OpenAPI document)."""
    asyncapi = _AsyncApi()

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(_PAGE)

    @app.get(ASYNCAPI_PATH, include_in_schema=False)
    async def asyncapi_document() -> Response:
        return Response(asyncapi.read(), media_type=ASYNCAPI_TYPE)

    app.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_DIR), name="docs-assets")
