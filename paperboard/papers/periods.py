"""Feed periods (a day, an ISO week, a month): parsing, bounds, labels and neighbours. Pure functions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# The years a period may fall in: its neighbours (the previous and next links) must exist too.
FIRST_YEAR, LAST_YEAR = dt.MINYEAR + 1, dt.MAXYEAR - 1


class BadPeriod(ValueError):
    """A date, week or month string that does not name a real period."""


@dataclass(frozen=True)
class Period:
    kind: str  # "date" | "week" | "month"
    start: dt.date  # first day, inclusive
    end: dt.date  # last day, inclusive

    @property
    def slug(self) -> str:
        if self.kind == "date":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == "date":
            return self.start.strftime("%A, %B %-d, %Y")
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week} of {year} ({self.start:%b %-d} – {self.end:%b %-d})"
        return self.start.strftime("%B %Y")

    @property
    def url(self) -> str:
        return f"/papers/{self.kind}/{self.slug}"

    def as_kind(self, kind: str) -> Period:
        """The day, week or month that contains this period's first day."""
        return {"date": day, "week": week_of, "month": month_of}[kind](self.start)

    def shift(self, steps: int) -> Period:
        """The period `steps` periods later (negative: earlier)."""
        if self.kind == "date":
            return day(self.start + dt.timedelta(days=steps))
        if self.kind == "week":
            return week_of(self.start + dt.timedelta(weeks=steps))
        month_index = self.start.year * 12 + self.start.month - 1 + steps
        return month_of(dt.date(month_index // 12, month_index % 12 + 1, 1))


def day(d: dt.date) -> Period:
    return Period("date", d, d)


def week_of(d: dt.date) -> Period:
    monday = d - dt.timedelta(days=d.weekday())
    return Period("week", monday, monday + dt.timedelta(days=6))


def month_of(d: dt.date) -> Period:
    first = d.replace(day=1)
    next_first = (first + dt.timedelta(days=32)).replace(day=1)
    return Period("month", first, next_first - dt.timedelta(days=1))


def parse(kind: str, text: str) -> Period:
    """Parse `2025-03-07` (date), `2025-W10` (week) or `2025-03` (month). Raises BadPeriod."""
    period = None
    try:
        if kind == "date" and (m := _DAY.match(text)):
            period = day(dt.date(int(m[1]), int(m[2]), int(m[3])))
        elif kind == "week" and (m := _WEEK.match(text)):
            period = week_of(dt.date.fromisocalendar(int(m[1]), int(m[2]), 1))
        elif kind == "month" and (m := _MONTH.match(text)):
            period = month_of(dt.date(int(m[1]), int(m[2]), 1))
    except (ValueError, OverflowError) as exc:
        raise BadPeriod(f"{kind} {text!r} does not exist ({exc})") from None
    if period is not None:
        if not FIRST_YEAR <= period.start.year <= period.end.year <= LAST_YEAR:
            raise BadPeriod(f"{kind} {text!r} is outside the years {FIRST_YEAR}-{LAST_YEAR}")
        return period
    examples = {"date": "YYYY-MM-DD", "week": "YYYY-Www, e.g. 2025-W09", "month": "YYYY-MM"}
    raise BadPeriod(f"{kind} must look like {examples.get(kind, '?')}, not {text!r}")
