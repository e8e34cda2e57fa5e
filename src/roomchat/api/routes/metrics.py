"""GET /metrics: the instance's Prometheus metrics (roomchat/metrics.py says who may)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from roomchat.api.deps import Svc, client_address
from roomchat.errors import ChatError, Code
from roomchat.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])

_REFUSALS = {
    401: ChatError(Code.UNAUTHORIZED, "send Authorization: Bearer <metrics token>"),
    403: ChatError(Code.FORBIDDEN, "metrics answer loopback clients only (docs/operations.md)"),
    404: ChatError(Code.NOT_FOUND, "metrics are served on the metrics address"),
}


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, svc: Svc) -> Response:
    status = svc.metrics_access.refusal(
        request.headers.get("authorization"), client_address(request), public=True
    )
    if status:
        raise _REFUSALS[status]
    return Response(svc.metrics.exposition(), media_type=CONTENT_TYPE)
