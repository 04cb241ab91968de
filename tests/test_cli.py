"""The `paperboard` command: help for every command, demo set-up, and the real server."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.keys import STRONG_KEY

ROOT = Path(__file__).resolve().parent.parent
PAPERBOARD = [sys.executable, "-m", "paperboard"]


def run(*args, env=None, timeout=120):
    return subprocess.run([*PAPERBOARD, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)


def sqlite_env(tmp_path, secret_key=STRONG_KEY):
    env = dict(os.environ)
    env["PAPERBOARD_DATA_DIR"] = str(tmp_path)
    env["PAPERBOARD_SECRET_KEY"] = secret_key
    env.pop("PAPERBOARD_DATABASE_URL", None)
    return env


def test_paperboard_without_arguments_lists_its_commands():
    out = run().stdout
    for name in ["demo", "serve", "migrate", "import", "ingest"]:
        assert f"  {name}" in out


@pytest.mark.parametrize("command", [["demo"], ["serve"], ["migrate"], ["import"], ["ingest", "arxiv"], ["index"],
                                     ["worker"], ["digest", "send"]])
def test_every_command_has_help(command):
    r = run(*command, "--help")
    assert r.returncode == 0, r.stderr
    assert "usage:" in r.stdout


def test_every_command_is_documented_in_docs_cli():
    text = (ROOT / "docs" / "cli.md").read_text()
    for name in ["paperboard demo", "paperboard serve", "paperboard migrate", "paperboard import",
                 "paperboard ingest arxiv", "paperboard index", "paperboard worker", "paperboard digest send",
                 "python -m paperboard"]:
        assert name in text, name


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serves_the_demo(command: list[str], env: dict) -> None:
    """Start `paperboard COMMAND --port P` and check it serves the demo feed and the static files."""
    port = free_port()
    server = subprocess.Popen([*PAPERBOARD, *command, "--port", str(port), "--workers", "2"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, body = time.monotonic() + 30, None
        while time.monotonic() < deadline and body is None and server.poll() is None:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/papers", timeout=2).read().decode()
            except OSError:
                time.sleep(0.3)
        assert body is not None, f"server did not answer: {server.poll()}"
        assert body.count('class="card"') >= 3
        css = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/paperboard/site.css", timeout=2)
        assert css.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_demo_loads_the_bundled_data_once_and_serve_serves_it(tmp_path):
    env = sqlite_env(tmp_path, secret_key="")  # no key configured: the demo keeps its own in the data dir
    first = run("demo", "--no-serve", env=env)
    assert first.returncode == 0, first.stderr
    assert "3092 new" in first.stdout and "papers on the feed" in first.stdout
    assert (tmp_path / "paperboard.sqlite3").exists()
    key_file = tmp_path / "secret_key"
    key = key_file.read_text().strip()
    assert len(key) >= 50 and key_file.stat().st_mode & 0o777 == 0o600
    second = run("demo", "--no-serve", env=env)
    assert "0 new, 0 updated, 3092 unchanged" in second.stdout and "already present" in second.stdout
    assert key_file.read_text().strip() == key

    serves_the_demo(["serve"], env)  # its settings take the key from the data dir
    key_file.unlink()
    serves_the_demo(["demo"], env)  # the demo hands the key it makes to the server it starts
    assert len(key_file.read_text().strip()) >= 50


def test_serve_refuses_an_unmigrated_database(tmp_path):
    r = run("serve", "--port", str(free_port()), env=sqlite_env(tmp_path))
    assert r.returncode != 0 and "paperboard migrate" in r.stderr


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]])
@pytest.mark.parametrize("key", ["", "paperboard-insecure-development-key-set-PAPERBOARD_SECRET_KEY", "too-short"])
def test_serve_and_worker_refuse_an_unsafe_secret_key_in_one_line(tmp_path, command, key):
    r = run(*command, env=sqlite_env(tmp_path, secret_key=key))
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "PAPERBOARD_SECRET_KEY" in r.stderr and "secrets.token_urlsafe(50)" in r.stderr


def test_serve_takes_an_unsafe_key_in_debug_mode(tmp_path):
    env = sqlite_env(tmp_path, secret_key="") | {"PAPERBOARD_DEBUG": "true"}
    r = run("serve", "--port", str(free_port()), env=env)
    assert "PAPERBOARD_SECRET_KEY" not in r.stderr and "paperboard migrate" in r.stderr  # past the key check
