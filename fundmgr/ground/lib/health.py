"""`/healthz` (the process answers) and `/readyz` (it can serve: the database, and Redis when
configured, answer): for load balancers and orchestrators, without authentication, outside
/api/, and cheap enough to call every few seconds."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

log = logging.getLogger(__name__)


def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # any driver error means "not ready", never a 500
        log.warning("readiness: database unavailable: %s", exc)
        return "unavailable"


def _redis() -> str | None:
    url = getattr(settings, "REDIS_URL", None)
    if not url:
        return None
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        return "ok"
    except Exception as exc:
        log.warning("readiness: Redis unavailable: %s", exc)
        return "unavailable"


def readyz(request) -> JsonResponse:
    checks = {"database": _database()}
    redis_state = _redis()
    if redis_state is not None:
        checks["redis"] = redis_state
    ready = all(state == "ok" for state in checks.values())
    headers = {"Cache-Control": "no-store"}
    if not ready:
        headers["Retry-After"] = "5"
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
        headers=headers,
    )
