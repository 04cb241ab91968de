"""The client address behind reverse proxies: `paperboard.web.client_ip`, and the log-in limit that counts by it."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest
from django.test import Client, RequestFactory, override_settings

from paperboard import ratelimit
from paperboard.web import client_ip

PROXIES = ["127.0.0.1", "::1", "10.0.0.0/8"]
LOGIN = "/accounts/login"
BAD_LOGIN = {"login": "alice", "password": "wrong"}
GOOD_LOGIN = {"login": "alice", "password": "correct horse battery"}


def ip_of(remote_addr: str | None, forwarded_for: str | None = None) -> str:
    meta = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    request = RequestFactory().get("/", **meta)
    if remote_addr is None:
        del request.META["REMOTE_ADDR"]
    else:
        request.META["REMOTE_ADDR"] = remote_addr
    return client_ip(request)


@pytest.mark.parametrize(
    "remote_addr, forwarded_for, expected",
    [
        # An untrusted peer is the client, whatever it writes in the header.
        ("203.0.113.7", "198.51.100.4", "203.0.113.7"),
        ("203.0.113.7", "127.0.0.1", "203.0.113.7"),
        ("203.0.113.7", None, "203.0.113.7"),
        # One trusted hop: the address it appended.
        ("127.0.0.1", "198.51.100.4", "198.51.100.4"),
        ("127.0.0.1", " 198.51.100.4 ", "198.51.100.4"),
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "", "127.0.0.1"),
        # Two trusted proxies (a load balancer in front of nginx): the address left of both.
        ("127.0.0.1", "198.51.100.4, 10.0.0.5", "198.51.100.4"),
        # Everything in the header is trusted: the left-most of the trusted chain.
        ("127.0.0.1", "10.0.0.9", "10.0.0.9"),
        # Entries the client wrote itself, left of the first untrusted address, are never believed.
        ("127.0.0.1", "1.2.3.4, 198.51.100.4", "198.51.100.4"),
        ("127.0.0.1", "127.0.0.1, 198.51.100.4", "198.51.100.4"),
        ("127.0.0.1", "garbage, 198.51.100.4", "198.51.100.4"),
        # Garbage inside the trusted chain: stop at the last address a trusted proxy vouched for.
        ("127.0.0.1", "unknown", "127.0.0.1"),
        ("127.0.0.1", "198.51.100.4, <script>, 10.0.0.5", "10.0.0.5"),
        ("127.0.0.1", "198.51.100.4,,", "127.0.0.1"),
        ("127.0.0.1", "999.1.2.3", "127.0.0.1"),
        ("127.0.0.1", "198.51.100.4%eth0", "127.0.0.1"),
        ("127.0.0.1", "x" * 10_000, "127.0.0.1"),
        ("127.0.0.1", ",".join(["10.0.0.1"] * 1000), "10.0.0.1"),
        # Ports, as some proxies write them.
        ("127.0.0.1", "198.51.100.4:5555", "198.51.100.4"),
        ("127.0.0.1", "[2001:db8::3]:443", "2001:db8::3"),
        # IPv6, normalised; IPv4-mapped addresses count as their IPv4 address on both sides.
        ("::1", "2001:db8::1", "2001:db8::1"),
        ("::1", "2001:DB8:0:0::1", "2001:db8::1"),
        ("::ffff:127.0.0.1", "2001:db8::2", "2001:db8::2"),
        ("127.0.0.1", "::ffff:198.51.100.4", "198.51.100.4"),
        ("::1", "198.51.100.4, ::ffff:10.1.2.3", "198.51.100.4"),
        ("2001:DB8::0:5", "198.51.100.4", "2001:db8::5"),
        ("::ffff:203.0.113.7", "198.51.100.4", "203.0.113.7"),
        # No usable peer address at all.
        (None, "198.51.100.4", "unknown"),
        ("", "198.51.100.4", "unknown"),
    ],
)
def test_the_client_is_the_right_most_address_a_trusted_proxy_vouches_for(settings, remote_addr, forwarded_for, expected):
    settings.PAPERBOARD_TRUSTED_PROXIES = PROXIES
    assert ip_of(remote_addr, forwarded_for) == expected


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings):
    settings.PAPERBOARD_TRUSTED_PROXIES = []
    assert ip_of("127.0.0.1", "198.51.100.4") == "127.0.0.1"
    assert ip_of("::1", "2001:db8::1") == "::1"


def test_a_misspelt_trusted_proxy_stops_the_start_with_a_clear_message(tmp_path):
    env = {**os.environ, "PAPERBOARD_DATA_DIR": str(tmp_path), "PAPERBOARD_TRUSTED_PROXIES": "127.0.0.1, 10.0.0/8x"}
    done = subprocess.run([sys.executable, "-c", "import paperboard.settings"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "PAPERBOARD_TRUSTED_PROXIES must be comma-separated IP addresses or CIDR ranges" in done.stderr
    assert "'10.0.0/8x'" in done.stderr


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(ratelimit, "time", types.SimpleNamespace(time=lambda: 1_000_000.0))


def via_proxy(forwarded_for: str) -> Client:
    """A browser behind nginx on this host: the peer is 127.0.0.1, nginx appends the real address."""
    return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)


@override_settings(PAPERBOARD_RATELIMIT_ENABLED=True, PAPERBOARD_TRUSTED_PROXIES=["127.0.0.1", "::1"])
def test_behind_a_trusted_proxy_bad_log_ins_lock_out_only_their_own_client(alice, frozen_clock):
    attacker = via_proxy("203.0.113.66")
    for _ in range(10):
        assert attacker.post(LOGIN, BAD_LOGIN).status_code == 200
    assert attacker.post(LOGIN, GOOD_LOGIN).status_code == 429
    # Prepending another address does not help the attacker: the proxy's entry is the right-most one.
    assert via_proxy("198.51.100.4, 203.0.113.66").post(LOGIN, GOOD_LOGIN).status_code == 429
    assert via_proxy("198.51.100.4").post(LOGIN, GOOD_LOGIN).status_code == 302


@override_settings(PAPERBOARD_RATELIMIT_ENABLED=True, PAPERBOARD_TRUSTED_PROXIES=[])
def test_without_trusted_proxies_changing_x_forwarded_for_does_not_escape_the_limit(alice, frozen_clock):
    for i in range(10):
        assert via_proxy(f"203.0.113.{i}").post(LOGIN, BAD_LOGIN).status_code == 200
    assert via_proxy("198.51.100.4").post(LOGIN, GOOD_LOGIN).status_code == 429


@override_settings(PAPERBOARD_RATELIMIT_ENABLED=True, PAPERBOARD_TRUSTED_PROXIES=["127.0.0.1"])
def test_an_untrusted_peer_cannot_escape_the_limit_with_x_forwarded_for(alice, frozen_clock):
    for i in range(10):
        client = Client(REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        assert client.post(LOGIN, BAD_LOGIN).status_code == 200
    assert Client(REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="10.9.9.9").post(LOGIN, GOOD_LOGIN).status_code == 429
