"""Prometheus metrics at /metrics: request latency, jobs, digests, papers; who may read them."""

from __future__ import annotations

import pytest

from tests.conftest import make_paper

pytestmark = pytest.mark.django_db


def value(text: str, prefix: str) -> float:
    return float(next(line for line in text.splitlines() if line.startswith(prefix)).rsplit(" ", 1)[1])


def test_metrics_count_requests_by_route_and_read_the_database(client):
    make_paper("2501.00001", "A paper")
    make_paper("2501.00002", "Another paper")
    assert client.get("/papers").status_code == 200
    r = client.get("/metrics")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    text = r.content.decode()
    counted = [line for line in text.splitlines() if line.startswith("paperboard_http_request_duration_seconds_count{")]
    # Labelled by the URL pattern, not the path (ids would make a series per paper).
    assert any('method="GET",route="^papers(' in line and 'status="200"' in line for line in counted), counted
    assert value(text, "paperboard_papers ") == 2.0
    assert "# TYPE paperboard_digest_deliveries gauge" in text and "# TYPE paperboard_jobs gauge" in text


def test_metrics_are_for_this_host_only_unless_a_token_is_set(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    settings.PAPERBOARD_METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    ok = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert ok.status_code == 200 and b"paperboard_papers" in ok.content


def test_behind_a_trusted_proxy_metrics_judge_the_forwarded_client_not_the_proxy(client, settings):
    settings.PAPERBOARD_TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    remote = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert remote.status_code == 403 and remote.json()["code"] == "forbidden"
    spoofed = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.9")
    assert spoofed.status_code == 403
    # Prometheus on this host, straight to the app server (or through nginx from this host), still scrapes.
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1", HTTP_X_FORWARDED_FOR="::1").status_code == 200
    settings.PAPERBOARD_METRICS_TOKEN = "s3cret-token"
    scraper = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9",
                         HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert scraper.status_code == 200


@pytest.mark.parametrize("header", ["HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP"])
def test_a_same_host_proxy_that_is_not_trusted_cannot_forward_metrics_to_anyone(client, settings, header):
    settings.PAPERBOARD_TRUSTED_PROXIES = []
    value = "for=203.0.113.9" if header == "HTTP_FORWARDED" else "203.0.113.9"
    r = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **{header: value})
    assert r.status_code == 403 and "PAPERBOARD_METRICS_TOKEN" in r.json()["error"]
