"""Small helpers for the raw statements on the hot paths (cards, search): a list of ids as ONE
statement parameter, and the column values that raw SQL returns as text on SQLite."""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection
from django.utils.dateparse import parse_date, parse_datetime


def id_param(ids: list[int]):
    """The ids as ONE statement parameter: a JSON array (SQLite `json_each`) or an array (PostgreSQL ANY)."""
    return json.dumps([int(i) for i in ids]) if connection.vendor == "sqlite" else [int(i) for i in ids]


def ids_sql(column: str) -> str:
    if connection.vendor == "sqlite":
        return f"{column} IN (SELECT value FROM json_each(%s))"
    return f"{column} = ANY(%s)"


def as_datetime(value) -> dt.datetime | None:
    """A datetime column read by raw SQL, aware: on SQLite a string or a naive datetime (stored in UTC),
    on PostgreSQL an aware datetime."""
    if value is None:
        return None
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def as_date(value) -> dt.date | None:
    """A date column read by raw SQL: a string on SQLite, a date on PostgreSQL."""
    if value is None or isinstance(value, dt.date):
        return value
    return parse_date(str(value))
