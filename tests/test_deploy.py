"""deploy/: the nginx config passes `nginx -t`, the systemd units run real commands, the env example
names only real settings."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from paperboard import conf

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


@pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed (apt-get install nginx; .ci/run does)")
def test_the_nginx_config_passes_nginx_t(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=papers.example.org",
                    "-days", "1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("/etc/ssl/certs/ssl-cert-snakeoil.pem", str(cert)).replace("/etc/ssl/private/ssl-cert-snakeoil.key", str(key))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  proxy_temp_path {tmp_path};\n"
        f"  include {tmp_path}/site.conf;\n}}\n"
    )
    done = subprocess.run(["nginx", "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


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
