"""deploy/: the nginx config passes `nginx -t`, hides /metrics and forwards the address the env example trusts;
the systemd units run real commands; the env example names only real settings."""

from __future__ import annotations

import configparser
import http.client
import http.server
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.test import RequestFactory

from paperboard import conf
from paperboard.web import client_ip

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


needs_nginx = pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed (apt-get install nginx; .ci/run does)")


def nginx_config(tmp_path: Path, replacements: dict[str, str] | None = None) -> Path:
    """deploy/nginx.conf inside a minimal main config, with a fresh self-signed certificate."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=papers.example.org",
                    "-days", "1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("/etc/ssl/certs/ssl-cert-snakeoil.pem", str(cert)).replace("/etc/ssl/private/ssl-cert-snakeoil.key", str(key))
    for old, new in (replacements or {}).items():
        assert old in site, old
        site = site.replace(old, new)
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  proxy_temp_path {tmp_path};\n"
        f"  include {tmp_path}/site.conf;\n}}\n"
    )
    return tmp_path / "nginx.conf"


@needs_nginx
def test_the_nginx_config_passes_nginx_t(tmp_path):
    done = subprocess.run(["nginx", "-t", "-c", str(nginx_config(tmp_path)), "-p", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


class EchoForwarding(http.server.BaseHTTPRequestHandler):
    """Stands in for the app server: answers with the peer address and the X-Forwarded-For it was sent."""

    def do_GET(self):
        body = json.dumps({"peer": self.client_address[0], "xff": self.headers.get("X-Forwarded-For")}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_example_value(name: str) -> str:
    line = next(line for line in (DEPLOY / "env.example").read_text().splitlines() if line.startswith(f"{name}="))
    return line.split("=", 1)[1]


@needs_nginx
def test_behind_the_deployed_nginx_the_client_is_the_real_peer_and_metrics_stay_hidden(tmp_path, settings):
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoForwarding)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    config = nginx_config(tmp_path, {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream.server_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{port} ssl;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{free_port()};",
        "listen [::]:80;": "",
    })
    nginx = subprocess.Popen(["nginx", "-c", str(config), "-p", str(tmp_path), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    context = ssl._create_unverified_context()

    def get(path: str, source: str = "127.0.0.1", headers: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPSConnection("127.0.0.1", port, source_address=(source, 0), context=context, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": "papers.example.org", **(headers or {})})
            answer = conn.getresponse()
            return answer.status, answer.read()
        finally:
            conn.close()

    try:
        for _ in range(100):
            try:
                get("/healthz")
                break
            except OSError:
                assert nginx.poll() is None, nginx.stderr.read().decode()
                time.sleep(0.05)
        for path in ["/metrics", "/metrics?format=x", "//metrics", "/%6Detrics", "/./metrics"]:
            assert get(path)[0] == 403, path
        # A client at 127.0.0.3 claims to be someone else; nginx appends the address it really came from.
        status, body = get("/papers", source="127.0.0.3", headers={"X-Forwarded-For": "198.51.100.4"})
        echoed = json.loads(body)
        assert status == 200 and echoed["xff"] == "198.51.100.4, 127.0.0.3"
        settings.PAPERBOARD_TRUSTED_PROXIES = env_example_value("PAPERBOARD_TRUSTED_PROXIES").split(",")
        seen = RequestFactory().get("/", REMOTE_ADDR=echoed["peer"], HTTP_X_FORWARDED_FOR=echoed["xff"])
        assert client_ip(seen) == "127.0.0.3"
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        upstream.shutdown()


@pytest.mark.parametrize("unit", ["paperboard-web.service", "paperboard-worker@.service"])
def test_the_systemd_units_run_paperboard_commands_that_exist(unit):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(DEPLOY / unit)
    service = parser["Service"]
    assert service["EnvironmentFile"] == "/etc/paperboard/env" and service["User"] == "paperboard"
    commands = [service["ExecStart"]] + ([service["ExecStartPre"]] if "ExecStartPre" in service else [])
    help_text = subprocess.run(["paperboard", "help"], capture_output=True, text=True).stdout if shutil.which(
        "paperboard") else ""
    for command in commands:
        program, sub = command.lstrip("-").split()[:2]
        assert program == "/srv/paperboard/.venv/bin/paperboard"
        assert sub in {"serve", "worker", "check"}
        if help_text:
            assert sub in help_text
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_the_env_example_sets_only_documented_settings():
    names = {f"PAPERBOARD_{s.name}" for s in conf.SETTINGS}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        line = line.lstrip("#").strip()
        if "=" in line and line.split("=", 1)[0].isupper() and " " not in line.split("=", 1)[0]:
            assert line.split("=", 1)[0] in names, line
