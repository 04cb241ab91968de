"""The secret key: `paperboard check` refuses every key an attacker could know or guess."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from paperboard import secretkey
from tests.keys import STRONG_KEY

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "deploy").iterdir())]


def published_keys() -> list[str]:
    """Every value our docs and deploy examples give PAPERBOARD_SECRET_KEY."""
    found = []
    for path in PUBLISHED:
        for value in re.findall(r"PAPERBOARD_SECRET_KEY=(\S*)", path.read_text(encoding="utf-8")):
            found.append(value.strip("'\"`"))
    return found


def check_secret_key_line(settings, key: str) -> tuple[int, list[str]]:
    settings.SECRET_KEY, settings.DEBUG = key, False
    out = io.StringIO()
    try:
        call_command("check", stdout=out, stderr=io.StringIO())
        code = 0
    except SystemExit as exc:
        code = int(exc.code)
    return code, [line for line in out.getvalue().splitlines() if "secret key" in line]


@pytest.mark.parametrize("key", [*published_keys(), *sorted(secretkey.KNOWN_KEYS)])
def test_no_key_from_our_docs_or_examples_is_accepted(key):
    assert secretkey.weakness(key) is not None, key


@pytest.mark.django_db
@pytest.mark.parametrize("key", [
    secretkey.DEVELOPMENT_KEY,  # what the settings use when no key is set
    "change-me-to-50-random-characters-e.g.-openssl-rand-base64-48",  # what deploy/env.example used to ship
    STRONG_KEY[:49],
    "abcd" * 20,
])
def test_check_fails_on_a_missing_built_in_published_short_or_repetitive_key(settings, key):
    code, lines = check_secret_key_line(settings, key)
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("ERROR secret key: PAPERBOARD_SECRET_KEY ")
    assert "python -c 'import secrets; print(secrets.token_urlsafe(50))'" in lines[0]


@pytest.mark.django_db
def test_check_accepts_a_generated_key(settings):
    assert check_secret_key_line(settings, STRONG_KEY)[1] == ["OK    secret key: set"]


def test_check_refuses_the_key_of_the_deploy_example_from_the_command_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PAPERBOARD_DATA_DIR": str(tmp_path),
           "PAPERBOARD_SECRET_KEY": "change-me-to-50-random-characters-e.g.-openssl-rand-base64-48"}
    r = subprocess.run([sys.executable, "-m", "paperboard", "check"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1
    assert "ERROR secret key: PAPERBOARD_SECRET_KEY is an example key published in Paperboard's docs" in r.stdout


def test_the_deploy_example_leaves_the_key_empty_and_says_how_to_generate_one():
    text = (ROOT / "deploy" / "env.example").read_text()
    assert "\nPAPERBOARD_SECRET_KEY=\n" in text and secretkey.GENERATE in text


def test_the_key_kept_in_the_data_dir_is_made_once_private_and_then_reused(tmp_path):
    assert secretkey.stored(tmp_path) == ""
    key = secretkey.stored_or_created(tmp_path)
    assert secretkey.weakness(key) is None
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert secretkey.stored_or_created(tmp_path) == key == secretkey.stored(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind
