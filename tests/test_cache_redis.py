"""The shared cache: PAPERBOARD_CACHE_URL=redis://… puts pages, API answers and rate limits in Redis."""

from __future__ import annotations

import socket

import pytest
from django.utils import timezone

from paperboard import conf
from tests.conftest import make_paper, put_on_feed

REDIS = ("127.0.0.1", 6379)
DB = 15  # a database of its own, emptied before and after


def redis_up() -> bool:
    try:
        socket.create_connection(REDIS, timeout=0.5).close()
        return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not redis_up(), reason="no Redis server on 127.0.0.1:6379 (.ci/run starts one)")


def test_a_cache_url_gives_every_process_the_same_redis():
    caches = conf.caches("redis://cache.internal:6379/2")
    assert {c["BACKEND"] for c in caches.values()} == {"django.core.cache.backends.redis.RedisCache"}
    assert {c["LOCATION"] for c in caches.values()} == {"redis://cache.internal:6379/2"}
    assert caches["default"]["KEY_PREFIX"] != caches["responses"]["KEY_PREFIX"]
    assert conf.caches("")["default"]["BACKEND"].endswith("LocMemCache")


def test_a_cache_url_of_another_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="PAPERBOARD_CACHE_URL"):
        conf.caches("memcached://127.0.0.1:11211")


@pytest.fixture
def shared_cache(settings):
    import redis

    client = redis.Redis(*REDIS, db=DB)
    client.flushdb()
    original = settings.CACHES
    settings.CACHES = conf.caches(f"redis://{REDIS[0]}:{REDIS[1]}/{DB}")
    yield client
    settings.CACHES = original
    client.flushdb()


@needs_redis
@pytest.mark.django_db
def test_pages_are_cached_in_redis_and_a_new_paper_shows_at_once(client, shared_cache):
    today = timezone.localdate().isoformat()
    put_on_feed(make_paper("2501.00001", "First paper on the shared cache"), today, votes=2)
    first = client.get("/papers.json")
    assert first.status_code == 200 and "First paper on the shared cache" in first.content.decode()
    assert any(b"pb-responses" in key for key in shared_cache.keys("*"))  # stored where every process sees it
    put_on_feed(make_paper("2501.00002", "Second paper, written after the first answer was cached"), today, votes=5)
    again = client.get("/papers.json").content.decode()
    assert "Second paper, written after the first answer was cached" in again


@pytest.mark.django_db
def test_readyz_is_503_when_the_shared_cache_is_unreachable(client, settings):
    original = settings.CACHES
    settings.CACHES = conf.caches("redis://127.0.0.1:1/0")
    try:
        r = client.get("/readyz")
    finally:
        settings.CACHES = original
    assert r.status_code == 503 and r.json()["checks"]["cache"]["ok"] is False
