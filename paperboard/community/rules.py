"""The submission rules, as pure functions over plain values: no database, no network, no clock.

Each rule refuses with `Refused(code, message, status)`: a machine code (documented in
docs/submitting.md and returned by the API), an exact sentence for people and an HTTP status.
`paperboard.community.submissions.submit` gathers the facts and calls these in this order:

    check_account → parse_paper_id → check_note → check_submitter → (fetch) → check_paper

Admins (`is_staff`) are exempt from the rules about who, when, how many and how old; they are still
refused an invalid id, an unknown paper and a paper that is already on the feed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from paperboard.errors import Refused
from paperboard.papers import ids
from paperboard.safetext import storable

NOTE_MAX_CHARS = 1000  # the API's SubmitIn.note has the same limit
WHO_CHOICES = ("confirmed", "trusted", "admins")
SATURDAY = 5  # date.weekday(): Monday is 0

# Codes and their HTTP statuses, on one screen.
STATUS = {
    "login_required": 401,
    "inactive": 403,
    "banned": 403,
    "invalid_id": 400,
    "note_too_long": 400,
    "not_confirmed": 403,
    "not_allowed": 403,
    "weekend_pause": 403,
    "quota_exceeded": 429,
    "not_found": 404,
    "duplicate": 409,
    "too_old": 422,
    "arxiv_unavailable": 503,
}

# Which line of the rules (see `rule_lines`) each refusal enforces; the submit page highlights it.
RULE_OF = {
    "invalid_id": "id",
    "not_found": "id",
    "arxiv_unavailable": "id",
    "note_too_long": "note",
    "login_required": "who",
    "inactive": "who",
    "banned": "who",
    "not_confirmed": "who",
    "not_allowed": "who",
    "weekend_pause": "weekend",
    "quota_exceeded": "quota",
    "duplicate": "once",
    "too_old": "recency",
}


def refuse(code: str, message: str) -> Refused:
    return Refused(code, message, STATUS[code])


@dataclass(frozen=True)
class Policy:
    """The settings the rules read (PAPERBOARD_SUBMIT_* and the trusted account age)."""

    recency_days: int = 14
    daily_quota: int = 5
    weekend_pause: bool = False
    who: str = "confirmed"
    trusted_age_hours: float = 24.0

    @classmethod
    def from_settings(cls) -> Policy:
        who = str(settings.PAPERBOARD_SUBMIT_WHO).strip().lower()
        return cls(
            recency_days=settings.PAPERBOARD_SUBMIT_RECENCY_DAYS,
            daily_quota=settings.PAPERBOARD_SUBMIT_DAILY_QUOTA,
            weekend_pause=settings.PAPERBOARD_SUBMIT_WEEKEND_PAUSE,
            # An unknown value fails closed: only admins submit until the setting is fixed.
            who=who if who in WHO_CHOICES else "admins",
            trusted_age_hours=settings.PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS,
        )


@dataclass(frozen=True)
class Account:
    """What the rules need to know about the person submitting."""

    authenticated: bool
    is_admin: bool = False
    active: bool = True
    banned: bool = False
    confirmed: bool = False
    age_hours: float = 0.0  # since the account was created
    submitted_today: int = 0  # their submissions on today's feed day


@dataclass(frozen=True)
class Candidate:
    """What the rules need to know about the paper."""

    arxiv_id: str
    first_version_at: dt.datetime | None  # Paper.published_at (v1); None when unknown
    on_feed_day: dt.date | None = None  # the day it is already on the feed, if it is
    hidden: bool = False  # removed by moderators


def _hours(value: float) -> str:
    return f"{value:g} hour" + ("" if value == 1 else "s")


def _days(value: int) -> str:
    return f"{value} day" + ("" if value == 1 else "s")


def _date(value: dt.date) -> str:
    return f"{value:%b} {value.day}, {value.year}"  # Jan 5, 2025 (portable: no %-d)


def _submissions(value: int) -> str:
    return f"{value} submission" + ("" if value == 1 else "s")


# ---- The rules -----------------------------------------------------------------------------------------


def check_account(account: Account) -> None:
    """Logged in, active, not banned (admins included)."""
    if not account.authenticated:
        raise refuse("login_required", "Log in to submit a paper.")
    if not account.active:
        raise refuse("inactive", "This account is inactive and cannot submit papers.")
    if account.banned:
        raise refuse("banned", "This account is banned and cannot submit papers.")


def parse_paper_id(text: str) -> str:
    """The bare arXiv id in `text` (an id, `arXiv:` id, or abs/pdf/html URL, with or without version)."""
    text = (text or "").strip()
    try:
        return ids.parse_id_or_url(text)[0]
    except ids.InvalidArxivId:
        shown = text if len(text) <= 80 else text[:79] + "…"
        raise refuse(
            "invalid_id",
            f'"{shown}" is not an arXiv id or arXiv link. '
            "Give an id like 2501.01234 or a link like https://arxiv.org/abs/2501.01234.",
        ) from None


def check_note(note: str) -> str:
    """The note, stripped; refused when longer than NOTE_MAX_CHARS."""
    note = storable(note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise refuse(
            "note_too_long",
            f"The note is {len(note)} characters long; keep it to {NOTE_MAX_CHARS} characters.",
        )
    return note


def check_submitter(account: Account, policy: Policy, today: dt.date) -> None:
    """Who may submit, on which days and how many per day. Admins pass."""
    if account.is_admin:
        return
    if policy.who == "admins":
        raise refuse("not_allowed", "Only admins can submit papers on this site.")
    if not account.confirmed:
        raise refuse("not_confirmed", "Confirm your email address before submitting papers.")
    if policy.who == "trusted" and account.age_hours < policy.trusted_age_hours:
        raise refuse(
            "not_allowed",
            f"New accounts can submit papers once they are {_hours(policy.trusted_age_hours)} old; "
            f"yours is {_hours(int(account.age_hours))} old.",
        )
    if policy.weekend_pause and today.weekday() >= SATURDAY:
        raise refuse("weekend_pause", "Submissions are paused on Saturdays and Sundays. Come back on Monday.")
    if account.submitted_today >= policy.daily_quota:
        raise refuse(
            "quota_exceeded",
            f"You have reached today's limit of {_submissions(policy.daily_quota)}. Try again tomorrow.",
        )


def not_found(arxiv_id: str) -> Refused:
    return refuse("not_found", f"arXiv has no paper {arxiv_id}.")


def arxiv_unavailable() -> Refused:
    return refuse("arxiv_unavailable", "arXiv did not answer. Try again in a few minutes.")


def duplicate(arxiv_id: str, day: dt.date) -> Refused:
    return refuse("duplicate", f"{arxiv_id} is already on the feed (on {_date(day)}).")


def check_paper(paper: Candidate, account: Account, policy: Policy, now: dt.datetime) -> None:
    """Once on the feed, not removed, and recent enough (admins may submit older papers)."""
    if paper.on_feed_day is not None:
        raise duplicate(paper.arxiv_id, paper.on_feed_day)
    if account.is_admin:
        return
    if paper.hidden:
        raise refuse(
            "not_allowed", f"{paper.arxiv_id} was removed by the moderators and cannot be submitted."
        )
    if paper.first_version_at is not None and now - paper.first_version_at > dt.timedelta(
        days=policy.recency_days
    ):
        age = (now - paper.first_version_at).days
        raise refuse(
            "too_old",
            f"Papers can be submitted up to {_days(policy.recency_days)} after their first arXiv version; "
            f"{paper.arxiv_id} was first submitted on {_date(paper.first_version_at)}, {_days(age)} ago.",
        )


# ---- The rules in words ----------------------------------------------------------------------------------


def rule_lines(policy: Policy | None = None) -> list[tuple[str, str]]:
    """(key, sentence) for each rule, with the current values; the submit page lists them."""
    policy = policy or Policy.from_settings()
    who = {
        "confirmed": "Anyone with a confirmed email address can submit.",
        "trusted": "Accounts with a confirmed email address that are at least "
        f"{_hours(policy.trusted_age_hours)} old can submit.",
        "admins": "Only admins can submit.",
    }[policy.who]
    lines = [
        ("who", who),
        (
            "id",
            "Give an arXiv id (2501.01234) or an arXiv link "
            "(abs/, pdf/ or html/, with or without a version).",
        ),
        ("recency", f"The paper's first arXiv version must be at most {_days(policy.recency_days)} old."),
        (
            "once",
            "A paper is on the feed only once: a paper that is already there cannot be submitted again.",
        ),
        ("quota", f"Each account can submit {_submissions(policy.daily_quota)} per day."),
    ]
    if policy.weekend_pause:
        lines.append(("weekend", "Submissions are paused on Saturdays and Sundays."))
    lines.append(("note", f"An optional note of up to {NOTE_MAX_CHARS} characters, shown as plain text."))
    lines.append(("admins", "Admins are exempt from the rules on who, when, how many and how old."))
    return lines


def rules_summary(policy: Policy | None = None) -> str:
    """The rules as human text, one per line, with the current setting values."""
    return "\n".join(f"- {text}" for _key, text in rule_lines(policy))
