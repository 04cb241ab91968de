"""`/healthz` (the process answers) and `/readyz` (it can serve: database, migrations, cache).

Both are JSON, never cached, and not rate-limited; `/readyz` answers 503 with the failing checks so a
load balancer takes the instance out of rotation until they pass."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from paperboard.ops import probes


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": probes.database()}
    if checks["database"][0]:
        checks["migrations"] = probes.migrations()
    checks["cache"] = probes.cache()
    ready = all(ok for ok, _ in checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)
