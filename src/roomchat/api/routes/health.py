"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter

from roomchat.api.deps import Svc
from roomchat.api.responses import JSON

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> JSON:
    return JSON({"status": "ok"})


@router.get("/readyz")
async def readyz(svc: Svc) -> JSON:
    checks: dict[str, object] = {}
    try:
        await svc.store.ping()
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    checks["bus"] = svc.bus.health()
    checks["connections"] = svc.gateway.connections
    ready = all(c.get("ok") for c in checks.values() if isinstance(c, dict))
    return JSON(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
