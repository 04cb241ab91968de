"""Health probes shared by `/readyz` and `paperboard check`: each returns (ok, detail) and never raises.

    database()      a query answers
    migrations()    no migration is pending
    cache()         the default cache stores and returns a value
    smtp()          the mail server answers EHLO (only when PAPERBOARD_SMTP_URL is set)
    data_dir()      the data dir exists and is writable
"""

from __future__ import annotations

import os
import secrets
import smtplib
import socket
import ssl
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from paperboard.mail import backend

Result = tuple[bool, str]


def database(using: str = "default") -> Result:
    try:
        with connections[using].cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        return True, f"{connections[using].vendor} answers"
    except Exception as exc:  # noqa: BLE001 - a probe reports, it does not raise
        return False, f"{type(exc).__name__}: {exc}".strip()


def migrations(using: str = "default") -> Result:
    try:
        executor = MigrationExecutor(connections[using])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # noqa: BLE001
        return False, f"cannot read migrations: {type(exc).__name__}: {exc}"
    if plan:
        return False, f"{len(plan)} migration(s) pending: run `paperboard migrate`"
    return True, "up to date"


def cache() -> Result:
    key, value = f"probe:{secrets.token_hex(4)}", secrets.token_hex(4)
    try:
        store = caches["default"]
        store.set(key, value, 10)
        got = store.get(key)
        store.delete(key)
    except Exception as exc:  # noqa: BLE001
        return False, f"{type(exc).__name__}: {exc}"
    if got != value:
        return False, "the cache did not return what was stored"
    return True, settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


def smtp(timeout: float = 5.0) -> Result | None:
    """None when mail goes to the outbox folder (no PAPERBOARD_SMTP_URL)."""
    if not backend.in_use():
        return None
    host, port = settings.EMAIL_HOST, int(settings.EMAIL_PORT)
    try:
        cls = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
        kwargs = {"context": ssl.create_default_context()} if settings.EMAIL_USE_SSL else {}
        with cls(host, port, timeout=timeout, **kwargs) as conn:
            code, _ = conn.ehlo()
        if code >= 400:
            return False, f"{host}:{port} answered EHLO with {code}"
        return True, f"{host}:{port} answers"
    except (OSError, smtplib.SMTPException, socket.timeout) as exc:
        return False, f"{host}:{port}: {type(exc).__name__}: {exc}"


def data_dir() -> Result:
    path = Path(settings.DATA_DIR)
    if not path.is_dir():
        return False, f"{path} does not exist"
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as exc:
        return False, f"{path} is not writable: {exc}"
    return True, f"{path} is writable ({os.statvfs(path).f_bavail * os.statvfs(path).f_frsize // 2**30} GiB free)"
