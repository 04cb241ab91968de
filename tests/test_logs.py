"""PAPERBOARD_LOG_FORMAT=json: one JSON object per log line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from paperboard import logs


def test_a_json_log_line_carries_level_logger_message_extras_and_the_exception():
    record = logging.getLogger("paperboard.test").makeRecord(
        "paperboard.test", logging.ERROR, __file__, 1, "sent %d digests", (3,), None, extra={"run": "r-1"})
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["level"] == "ERROR" and line["logger"] == "paperboard.test"
    assert line["message"] == "sent 3 digests" and line["run"] == "r-1"
    assert "ValueError: boom" in line["exc"] and line["time"].endswith("+00:00")


def test_an_unknown_log_format_is_a_clear_error():
    with pytest.raises(ValueError, match="PAPERBOARD_LOG_FORMAT"):
        logs.config("xml")


def test_the_setting_switches_a_real_process_to_json(tmp_path):
    code = "import logging, django; django.setup(); logging.getLogger('paperboard.x').warning('hello %s', 'json')"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "paperboard.settings", "PAPERBOARD_LOG_FORMAT": "json",
           "PAPERBOARD_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1])["message"] == "hello json"
