"""The secret key: which keys are unsafe, the key file in the data dir, and the refusal `serve`, `worker` and
the WSGI app give an unsafe key outside debug mode. No Django import here: `paperboard.settings` uses it."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

# What Django signs with when no key is configured: fine for development, refused everywhere else.
DEVELOPMENT_KEY = "paperboard-insecure-development-key-set-PAPERBOARD_SECRET_KEY"
# Every key that was ever published in our docs or examples: anyone can read them, so anyone could sign with them.
KNOWN_KEYS = frozenset({
    DEVELOPMENT_KEY,
    "change-me-to-50-random-characters-e.g.-openssl-rand-base64-48",  # the placeholder deploy/env.example once shipped
})
MIN_LENGTH = 50
MIN_DISTINCT = 5
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
FILE_NAME = "secret_key"  # in $PAPERBOARD_DATA_DIR, mode 0600


def weakness(key: str) -> str | None:
    """Why `key` must not sign anything (one line, naming PAPERBOARD_SECRET_KEY and how to make a good one),
    or None for a key that will do."""
    if not key.strip() or key == DEVELOPMENT_KEY:
        why = "is not set: the built-in development key signs sessions and links, so anyone can forge them"
    elif key in KNOWN_KEYS:
        why = "is an example key published in Paperboard's docs: anyone can forge sessions and links with it"
    elif len(key) < MIN_LENGTH:
        why = f"is shorter than {MIN_LENGTH} characters"
    elif len(set(key)) < MIN_DISTINCT:
        why = f"has fewer than {MIN_DISTINCT} distinct characters"
    else:
        return None
    return f"PAPERBOARD_SECRET_KEY {why}; generate one with: {GENERATE}"


def refusal(key: str, debug: bool) -> str | None:
    """What `serve`, `worker` and the WSGI app say instead of starting with an unsafe key (None: start)."""
    problem = None if debug else weakness(key)
    return f"{problem} (or set PAPERBOARD_DEBUG=true for development)" if problem else None


def stored(data_dir: Path) -> str:
    """The key kept in the data dir, or "" when there is none."""
    try:
        return (data_dir / FILE_NAME).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def stored_or_created(data_dir: Path) -> str:
    """The key kept in the data dir; a fresh random one is written there first (mode 0600) when there is none.
    Two processes racing here end with the same key: the file appears whole, once (a hard link of a temp file)."""
    key = stored(data_dir)
    if key:
        return key
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".secret_key.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(MIN_LENGTH) + "\n")
        try:
            os.link(tmp, data_dir / FILE_NAME)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    return stored(data_dir)


def refuse_to_start() -> None:
    """For `serve` and `worker`: a one-line CommandError instead of starting with an unsafe key."""
    # lazy: settings.py imports this module while Django's settings load; these are for commands only
    from django.conf import settings
    from django.core.management.base import CommandError

    if message := refusal(settings.SECRET_KEY, settings.DEBUG):
        raise CommandError(message)
