"""Routes whose JSON bodies are parsed like WebSocket frames: by orjson, strictly.

Python's ``json`` accepts escapes of lone surrogates (``"\\ud800"``), strings that no
encoder, hasher or database driver takes afterwards; orjson refuses them as
invalid JSON, as the WebSocket side already does. Every router uses this class.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from roomchat import jsoncodec


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = jsoncodec.loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_json_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_json_handler
