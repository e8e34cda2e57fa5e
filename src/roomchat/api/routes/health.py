"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from roomchat.api import schemas
from roomchat.api.deps import Svc
from roomchat.api.responses import JSON
from roomchat.api.routing import StrictJSONRoute

router = APIRouter(tags=["health"], route_class=StrictJSONRoute)


@router.get("/healthz", response_model=schemas.Health)
async def healthz() -> JSON:
    return JSON({"status": "ok"})


@router.get(
    "/readyz",
    response_model=schemas.Readiness,
    responses={503: {"model": schemas.Readiness, "description": "a check failed"}},
)
async def readyz(svc: Svc) -> JSON:
    checks: dict[str, object] = {}
    try:
        await svc.store.ping()
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    checks["bus"] = svc.bus_health()
    checks["connections"] = svc.gateway.connections
    checks["websocket"] = svc.gateway.sinks.health()
    ready = all(c.get("ok") for c in checks.values() if isinstance(c, dict))
    return JSON(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
