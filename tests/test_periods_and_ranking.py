import datetime as dt

import pytest

from paperboard.papers import periods


def test_a_day_parses_and_knows_its_neighbours():
    p = periods.parse("date", "2024-02-29")
    assert (p.start, p.end, p.slug, p.url) == (dt.date(2024, 2, 29), dt.date(2024, 2, 29), "2024-02-29",
                                                "/papers/date/2024-02-29")
    assert p.shift(1).slug == "2024-03-01" and p.shift(-1).slug == "2024-02-28"


def test_an_iso_week_runs_monday_to_sunday_across_a_year_boundary():
    p = periods.parse("week", "2025-W01")
    assert (p.start, p.end) == (dt.date(2024, 12, 30), dt.date(2025, 1, 5))
    assert p.shift(-1).slug == "2024-W52"
    assert periods.parse("week", "2020-W53").shift(1).slug == "2021-W01"


def test_a_month_knows_its_length_and_wraps_years():
    p = periods.parse("month", "2024-02")
    assert (p.start, p.end) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert periods.parse("month", "2024-12").shift(1).slug == "2025-01"
    assert periods.parse("month", "2025-01").shift(-1).slug == "2024-12"


@pytest.mark.parametrize("kind,text", [("date", "2025-02-30"), ("date", "25-01-01"), ("week", "2025-W54"),
                                       ("week", "2025-09"), ("month", "2025-13"), ("month", "2025-1")])
def test_impossible_or_malformed_periods_are_refused_with_a_reason(kind, text):
    with pytest.raises(periods.BadPeriod, match=kind):
        periods.parse(kind, text)


def test_a_period_converts_to_the_week_and_month_around_it():
    p = periods.parse("date", "2025-03-07")
    assert p.as_kind("week").slug == "2025-W10" and p.as_kind("month").slug == "2025-03"


# The ranking tests (trending golden numbers, age) moved to tests/test_ranking.py.
