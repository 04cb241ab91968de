"""When digests fall due: the send times of each frequency and the period a send time belongs to.

Every frequency sends at PAPERBOARD_DIGEST_SEND_HOUR, local time (PAPERBOARD_TIME_ZONE): `weekdays` (the
default) Monday to Friday, `daily` every day, `weekly` on Mondays. Pure functions of their arguments and
the settings.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

# How far back a digest looks for papers. Longer than the gap between two digests (a Monday digest of the
# `weekdays` frequency covers the weekend), so nothing falls between two; what the last digest already had
# is left out anyway (SentPaper).
LOOKBACK_DAYS = {"daily": 2, "weekdays": 4, "weekly": 8}


def sends_on(frequency: str, day: dt.date) -> bool:
    if frequency == "daily":
        return True
    if frequency == "weekly":
        return day.weekday() == 0
    return day.weekday() < 5  # weekdays


def next_slot(frequency: str, after: dt.datetime) -> dt.datetime:
    """The first send time of `frequency` strictly after `after` (an aware datetime)."""
    tz = timezone.get_default_timezone()
    day = after.astimezone(tz).date()
    for _ in range(9):
        if sends_on(frequency, day):
            slot = dt.datetime.combine(day, dt.time(settings.PAPERBOARD_DIGEST_SEND_HOUR), tzinfo=tz)
            if slot > after:
                return slot
        day += dt.timedelta(days=1)
    raise AssertionError(f"no send time for {frequency!r} within a week")  # every frequency sends weekly


def period_key(frequency: str, slot: dt.datetime) -> str:
    """The period a send time belongs to: its local date, or its ISO week for `weekly`."""
    local = slot.astimezone(timezone.get_default_timezone()).date()
    if frequency == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.isoformat()


def window_start(frequency: str, now: dt.datetime) -> dt.date:
    """The first feed day a digest sent at `now` looks at."""
    today = now.astimezone(timezone.get_default_timezone()).date()
    return today - dt.timedelta(days=LOOKBACK_DAYS.get(frequency, LOOKBACK_DAYS["weekly"]))
