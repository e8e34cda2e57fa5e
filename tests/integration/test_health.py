"""Liveness and readiness probes."""

from __future__ import annotations

from tests.support.client import Api


async def test_healthz_answers_200(api: Api) -> None:
    response = await api.http.get("/healthz")
    assert response.status_code == 200


async def test_readyz_answers_200_with_the_database_reachable(api: Api) -> None:
    response = await api.http.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
