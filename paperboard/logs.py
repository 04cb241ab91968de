"""Structured logs: with PAPERBOARD_LOG_FORMAT=json every record is one JSON object on one line
(`time`, `level`, `logger`, `message`, plus `exc` for exceptions and any `extra=` fields), which log
shippers (journald, Loki, Elasticsearch) read without parsing rules."""

from __future__ import annotations

import datetime as dt
import json
import logging

# Attributes every LogRecord has: anything else on a record came from `extra=` and is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | type(None)) else repr(value)
        return json.dumps(out, ensure_ascii=False)


def config(fmt: str) -> dict:
    """Django LOGGING for PAPERBOARD_LOG_FORMAT (`text` or `json`)."""
    if fmt not in {"text", "json"}:
        raise ValueError(f"PAPERBOARD_LOG_FORMAT must be text or json, not {fmt!r}")
    handler = {"class": "logging.StreamHandler"}
    if fmt == "json":
        handler["formatter"] = "json"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "paperboard.logs.JsonFormatter"}},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {"paperboard": {"level": "INFO", "propagate": True}},
    }
