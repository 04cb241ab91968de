"""Prometheus metrics at `/metrics` (text exposition format, prometheus_client).

Per process (each gunicorn worker counts its own; scrape every worker, or set PROMETHEUS_MULTIPROC_DIR
for prometheus_client's multiprocess mode):
    paperboard_http_request_duration_seconds{method, route, status}   histogram
Read from the database at scrape time (the same from every process and host):
    paperboard_jobs{task, status}                 background jobs (django-tasks) by status: queue depth is READY
    paperboard_job_runs{job, status}              runs of the scheduled jobs (done, failed, queued, running)
    paperboard_job_last_success_timestamp_seconds{job}   when each scheduled job last finished well
    paperboard_digest_deliveries{status}          digest deliveries by status (sent, failed, unknown, ...)
    paperboard_digest_subscribers{state}          confirmed / suppressed / paused subscribers
    paperboard_papers                             visible papers
"""

from __future__ import annotations

import hmac
import time

from django.conf import settings
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_tasks_db.models import DBTaskResult
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from paperboard.digests.models import Delivery, Subscription
from paperboard.jobs.models import JobRun
from paperboard.papers.models import Paper
from paperboard.web import client_ip, from_trusted_proxy

REQUESTS = Histogram(
    "paperboard_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class MetricsMiddleware:
    """Times every request; labels it by its URL pattern (not the path, so ids do not explode the labels)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.route or match.view_name) if match else "unmatched"
        REQUESTS.labels(request.method, route or "unmatched", str(response.status_code)).observe(
            time.perf_counter() - start
        )
        return response


class DatabaseCollector:
    """Gauges read from the database when Prometheus scrapes."""

    def collect(self):
        jobs = GaugeMetricFamily("paperboard_jobs", "Background jobs by task and status.", labels=["task", "status"])
        for task, status, n in DBTaskResult.objects.values_list("task_path", "status").annotate(n=Count("id")):
            jobs.add_metric([task.rsplit(".", 1)[-1], status], n)
        yield jobs
        runs = GaugeMetricFamily("paperboard_job_runs", "Runs of the scheduled jobs by status.", labels=["job", "status"])
        for job, status, n in JobRun.objects.order_by().values_list("job", "status").annotate(n=Count("id")):
            runs.add_metric([job, status], n)
        yield runs
        last = GaugeMetricFamily("paperboard_job_last_success_timestamp_seconds",
                                 "When each scheduled job last finished well (Unix time).", labels=["job"])
        for job, at in JobRun.objects.filter(status=JobRun.DONE).order_by().values_list("job").annotate(at=Max("finished_at")):
            last.add_metric([job], at.timestamp())
        yield last
        deliveries = GaugeMetricFamily("paperboard_digest_deliveries", "Digest deliveries by status.", labels=["status"])
        for status, n in Delivery.objects.values_list("status").annotate(n=Count("id")):
            deliveries.add_metric([status], n)
        yield deliveries
        subs = GaugeMetricFamily("paperboard_digest_subscribers", "Digest subscribers.", labels=["state"])
        subs.add_metric(["confirmed"], Subscription.objects.filter(confirmed_at__isnull=False, unsubscribed_at__isnull=True).count())
        subs.add_metric(["suppressed"], Subscription.objects.filter(suppressed_at__isnull=False).count())
        subs.add_metric(["paused"], Subscription.objects.filter(paused=True).count())
        yield subs
        papers = GaugeMetricFamily("paperboard_papers", "Visible papers.")
        papers.add_metric([], Paper.objects.filter(hidden=False).count())
        yield papers


LOOPBACK = {"127.0.0.1", "::1"}
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def allowed(request: HttpRequest) -> tuple[bool, int, str]:
    """With PAPERBOARD_METRICS_TOKEN set, a matching `Authorization: Bearer` header; without, loopback only.

    Loopback means the client address (`paperboard.web.client_ip`): a request that a same-host proxy
    forwards for a remote client is refused, and so is one forwarded by a proxy that is not trusted.
    """
    token = settings.PAPERBOARD_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if hmac.compare_digest(given.encode(), token.encode()):
            return True, 200, ""
        return False, 401, "a valid `Authorization: Bearer <PAPERBOARD_METRICS_TOKEN>` header is required"
    if any(h in request.headers for h in FORWARDING_HEADERS) and not from_trusted_proxy(request):
        # Forwarded by a proxy we were not told to trust: the peer's address says nothing about the client.
        return False, 403, ("metrics are not served through a proxy without PAPERBOARD_METRICS_TOKEN "
                            "(or list the proxy in PAPERBOARD_TRUSTED_PROXIES)")
    if client_ip(request) in LOOPBACK:
        return True, 200, ""
    return False, 403, "metrics are served to this host only; set PAPERBOARD_METRICS_TOKEN to scrape from elsewhere"


def metrics_view(request: HttpRequest) -> HttpResponse:
    ok, status, reason = allowed(request)
    if not ok:
        return JsonResponse({"error": reason, "code": "forbidden" if status == 403 else "unauthorized"}, status=status)

    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
