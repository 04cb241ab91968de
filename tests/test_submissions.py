"""Submitting papers: the rules (pure), `submissions.submit` against a local arXiv stub, and /papers/submit."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.urls import resolve
from django.utils import timezone

from paperboard.community import rules, submissions, views_feed
from paperboard.errors import Refused
from paperboard.papers import freshness
from paperboard.papers.models import Paper, Submission
from tests.conftest import as_user, make_paper, make_user, put_on_feed
from tests.httpstub import StubServer

FIXTURES = Path(__file__).parent / "fixtures"
EMPTY = (FIXTURES / "arxiv_api_empty.atom.xml").read_bytes()
ENTRIES: dict[str, bytes] = {}
for _name in ("arxiv_api_page1.atom.xml", "arxiv_api_page2.atom.xml"):
    for _block in re.findall(rb"<entry>.*?</entry>", (FIXTURES / _name).read_bytes(), re.DOTALL):
        ENTRIES[re.search(rb"<id>http://arxiv.org/abs/([^<]+?)v\d+</id>", _block).group(1).decode()] = _block

# 2501.07815 was first submitted on 2025-01-14T18:47:03Z (fixture); "now" is 6 days later, a Monday.
NOW = dt.datetime(2025, 1, 20, 12, 0, tzinfo=dt.UTC)


class ArxivIdStub(StubServer):
    """A local stand-in for the arXiv API's `id_list=` queries, answering from the fixtures' entries."""

    def __init__(self) -> None:
        self.fail_with: int | None = None
        super().__init__(self.answer, "/api/query")

    @property
    def asked(self) -> list[dict]:
        return [r["params"] for r in self.requests]

    def answer(self, params: dict):
        if self.fail_with:
            return self.fail_with, "text/html", b"<html>oops</html>"
        wanted = params.get("id_list", "").split(",")
        blocks = [ENTRIES[i] for i in wanted if i in ENTRIES]
        body = EMPTY.replace(b">0</opensearch:totalResults>", f">{len(blocks)}</opensearch:totalResults>".encode())
        return 200, "application/atom+xml; charset=utf-8", body.replace(b"</feed>", b"\n".join(blocks) + b"\n</feed>")


@pytest.fixture
def arxiv(settings):
    with ArxivIdStub() as stub:
        settings.PAPERBOARD_ARXIV_API_URL = stub.url
        settings.PAPERBOARD_ARXIV_DELAY = 0
        settings.PAPERBOARD_HTTP_TIMEOUT = 5
        yield stub


@pytest.fixture(autouse=True)
def _rules(settings):
    """The documented defaults, whatever the environment says."""
    settings.PAPERBOARD_SUBMIT_RECENCY_DAYS = 14
    settings.PAPERBOARD_SUBMIT_DAILY_QUOTA = 5
    settings.PAPERBOARD_SUBMIT_WEEKEND_PAUSE = False
    settings.PAPERBOARD_SUBMIT_WHO = "confirmed"
    settings.PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS = 24
    settings.TIME_ZONE = "UTC"


def refusal(call) -> Refused:
    with pytest.raises(Refused) as exc:
        call()
    return exc.value


# ---- The rules, as pure functions -------------------------------------------------------------------------

POLICY = rules.Policy(recency_days=14, daily_quota=5, weekend_pause=False, who="confirmed", trusted_age_hours=24)
MEMBER = rules.Account(authenticated=True, confirmed=True, age_hours=1000)
ADMIN = rules.Account(authenticated=True, is_admin=True, confirmed=False, age_hours=0, submitted_today=99)
MONDAY, SATURDAY = dt.date(2025, 1, 20), dt.date(2025, 1, 18)
FRESH = rules.Candidate("2501.07815", dt.datetime(2025, 1, 14, 18, 47, 3, tzinfo=dt.UTC))


@pytest.mark.parametrize("text", [
    "2501.07815", "2501.07815v2", "arXiv:2501.07815", " 2501.07815 ",
    "https://arxiv.org/abs/2501.07815", "https://arxiv.org/abs/2501.07815v2", "http://arxiv.org/abs/2501.07815/",
    "https://arxiv.org/pdf/2501.07815", "https://arxiv.org/pdf/2501.07815v1.pdf", "arxiv.org/pdf/2501.07815v3",
    "https://arxiv.org/html/2501.07815v2", "https://www.arxiv.org/abs/2501.07815?context=cs",
    "https://export.arxiv.org/abs/2501.07815",
])
def test_it_accepts_an_arxiv_id_or_any_arxiv_url_form(text):
    assert rules.parse_paper_id(text) == "2501.07815"


def test_it_accepts_old_style_ids():
    assert rules.parse_paper_id("https://arxiv.org/abs/hep-th/9901001v2") == "hep-th/9901001"


@pytest.mark.parametrize("text", ["", "hello", "2501.7815", "2513.07815", "https://example.org/abs/2501.07815",
                                  "https://arxiv.org/list/cs.LG/recent"])
def test_it_refuses_text_that_is_not_an_arxiv_id_with_an_exact_message(text):
    exc = refusal(lambda: rules.parse_paper_id(text))
    assert (exc.code, exc.status) == ("invalid_id", 400)
    assert exc.message == (f'"{text}" is not an arXiv id or arXiv link. Give an id like 2501.01234 or a link '
                           "like https://arxiv.org/abs/2501.01234.")


def test_an_invalid_id_message_shortens_long_input():
    exc = refusal(lambda: rules.parse_paper_id("x" * 500))
    assert exc.message.startswith('"' + "x" * 79 + '…" is not an arXiv id')


@pytest.mark.parametrize("account,code,status,message", [
    (rules.Account(authenticated=False), "login_required", 401, "Log in to submit a paper."),
    (rules.Account(authenticated=True, active=False), "inactive", 403,
     "This account is inactive and cannot submit papers."),
    (rules.Account(authenticated=True, banned=True, is_admin=True), "banned", 403,
     "This account is banned and cannot submit papers."),
])
def test_it_refuses_accounts_that_cannot_write(account, code, status, message):
    exc = refusal(lambda: rules.check_account(account))
    assert (exc.code, exc.status, exc.message) == (code, status, message)


@pytest.mark.parametrize("policy,account,today,code,status,message", [
    (POLICY, rules.Account(authenticated=True, confirmed=False, age_hours=1000), MONDAY, "not_confirmed", 403,
     "Confirm your email address before submitting papers."),
    (rules.Policy(who="admins"), MEMBER, MONDAY, "not_allowed", 403, "Only admins can submit papers on this site."),
    (rules.Policy(who="trusted", trusted_age_hours=48), rules.Account(authenticated=True, confirmed=True,
     age_hours=30.5), MONDAY, "not_allowed", 403,
     "New accounts can submit papers once they are 48 hours old; yours is 30 hours old."),
    (rules.Policy(who="trusted", trusted_age_hours=48), rules.Account(authenticated=True, confirmed=False,
     age_hours=100), MONDAY, "not_confirmed", 403, "Confirm your email address before submitting papers."),
    (rules.Policy(weekend_pause=True), MEMBER, SATURDAY, "weekend_pause", 403,
     "Submissions are paused on Saturdays and Sundays. Come back on Monday."),
    (rules.Policy(daily_quota=3), rules.Account(authenticated=True, confirmed=True, submitted_today=3), MONDAY,
     "quota_exceeded", 429, "You have reached today's limit of 3 submissions. Try again tomorrow."),
    (rules.Policy(daily_quota=1), rules.Account(authenticated=True, confirmed=True, submitted_today=1), MONDAY,
     "quota_exceeded", 429, "You have reached today's limit of 1 submission. Try again tomorrow."),
])
def test_it_refuses_submitters_outside_the_rules_with_exact_messages(policy, account, today, code, status, message):
    exc = refusal(lambda: rules.check_submitter(account, policy, today))
    assert (exc.code, exc.status, exc.message) == (code, status, message)


def test_members_pass_the_submitter_rules_within_them():
    rules.check_submitter(rules.Account(authenticated=True, confirmed=True, submitted_today=4), POLICY, MONDAY)
    rules.check_submitter(MEMBER, rules.Policy(weekend_pause=True), MONDAY)
    rules.check_submitter(MEMBER, rules.Policy(weekend_pause=False), SATURDAY)
    rules.check_submitter(rules.Account(authenticated=True, confirmed=True, age_hours=48),
                          rules.Policy(who="trusted", trusted_age_hours=48), MONDAY)


def test_it_refuses_a_paper_older_than_the_recency_window_with_an_exact_message():
    day15 = FRESH.first_version_at + dt.timedelta(days=15)
    exc = refusal(lambda: rules.check_paper(FRESH, MEMBER, POLICY, day15))
    assert (exc.code, exc.status) == ("too_old", 422)
    assert exc.message == ("Papers can be submitted up to 14 days after their first arXiv version; 2501.07815 was "
                           "first submitted on Jan 14, 2025, 15 days ago.")
    # Exactly 14 days after v1 is still inside the window.
    rules.check_paper(FRESH, MEMBER, POLICY, FRESH.first_version_at + dt.timedelta(days=14))


def test_it_refuses_a_paper_already_on_the_feed_with_an_exact_message():
    on_feed = rules.Candidate("2501.07815", FRESH.first_version_at, on_feed_day=dt.date(2025, 1, 15))
    exc = refusal(lambda: rules.check_paper(on_feed, MEMBER, POLICY, NOW))
    assert (exc.code, exc.status, exc.message) == ("duplicate", 409, "2501.07815 is already on the feed (on Jan 15, 2025).")


def test_not_found_and_note_refusals_have_exact_messages():
    exc = rules.not_found("2501.99999")
    assert (exc.code, exc.status, exc.message) == ("not_found", 404, "arXiv has no paper 2501.99999.")
    exc = refusal(lambda: rules.check_note("n" * 1001))
    assert (exc.code, exc.status, exc.message) == (
        "note_too_long", 400, "The note is 1001 characters long; keep it to 1000 characters.")
    assert rules.check_note("  a note \n") == "a note"


def test_admins_pass_the_rules_on_who_when_how_many_and_how_old():
    rules.check_submitter(ADMIN, rules.Policy(who="admins", weekend_pause=True, daily_quota=0), SATURDAY)
    rules.check_paper(FRESH, ADMIN, POLICY, NOW + dt.timedelta(days=365))
    hidden = rules.Candidate("2501.07815", None, hidden=True)
    rules.check_paper(hidden, ADMIN, POLICY, NOW)
    assert refusal(lambda: rules.check_paper(hidden, MEMBER, POLICY, NOW)).code == "not_allowed"


def test_admins_are_still_refused_duplicates_and_invalid_ids():
    on_feed = rules.Candidate("2501.07815", FRESH.first_version_at, on_feed_day=dt.date(2025, 1, 15))
    assert refusal(lambda: rules.check_paper(on_feed, ADMIN, POLICY, NOW)).code == "duplicate"
    assert refusal(lambda: rules.parse_paper_id("not an id")).code == "invalid_id"


def test_an_unknown_who_setting_fails_closed(settings):
    settings.PAPERBOARD_SUBMIT_WHO = "everyone"
    assert rules.Policy.from_settings().who == "admins"


def test_the_rules_summary_gives_the_current_values(settings):
    settings.PAPERBOARD_SUBMIT_RECENCY_DAYS = 21
    settings.PAPERBOARD_SUBMIT_DAILY_QUOTA = 3
    settings.PAPERBOARD_SUBMIT_WEEKEND_PAUSE = True
    settings.PAPERBOARD_SUBMIT_WHO = "trusted"
    settings.PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS = 72
    assert rules.rules_summary() == "\n".join([
        "- Accounts with a confirmed email address that are at least 72 hours old can submit.",
        "- Give an arXiv id (2501.01234) or an arXiv link (abs/, pdf/ or html/, with or without a version).",
        "- The paper's first arXiv version must be at most 21 days old.",
        "- A paper is on the feed only once: a paper that is already there cannot be submitted again.",
        "- Each account can submit 3 submissions per day.",
        "- Submissions are paused on Saturdays and Sundays.",
        "- An optional note of up to 1000 characters, shown as plain text.",
        "- Admins are exempt from the rules on who, when, how many and how old.",
    ])


# ---- submit(): the database and the arXiv fetch ------------------------------------------------------------


@pytest.mark.django_db
def test_it_fetches_an_unknown_paper_from_arxiv_and_puts_it_on_the_feed(arxiv):
    ann = make_user("ann")
    before = freshness.data_version()
    s = submissions.submit(ann, "https://arxiv.org/pdf/2501.07815v2", note="  Nice routing trick.  ", now=NOW)
    assert arxiv.asked == [{"id_list": "2501.07815", "start": "0", "max_results": "1"}]
    paper = Paper.objects.get(arxiv_id="2501.07815")
    assert paper.title.startswith("Sparse Mixture-of-Experts Routing") and paper.version == 2
    assert list(paper.authors.values_list("name", flat=True)) == ["Mei-Ling Chen", "Jonas Weber", "Priya Raman"]
    assert (s.paper, s.day, s.submitted_at, s.submitter, s.note, s.source) == (
        paper, dt.date(2025, 1, 20), NOW, ann, "Nice routing trick.", "local")
    assert freshness.data_version() > before


@pytest.mark.django_db
def test_a_paper_already_in_the_database_is_not_fetched_again(arxiv):
    make_paper("2501.00001", published="2025-01-18")
    s = submissions.submit(make_user("ann"), "2501.00001", now=NOW)
    assert s.paper.arxiv_id == "2501.00001" and arxiv.asked == []


@pytest.mark.django_db
def test_it_refuses_a_paper_arxiv_does_not_know(arxiv):
    exc = refusal(lambda: submissions.submit(make_user("ann"), "2501.99999", now=NOW))
    assert (exc.code, exc.status, exc.message) == ("not_found", 404, "arXiv has no paper 2501.99999.")
    assert arxiv.asked[0]["id_list"] == "2501.99999"
    assert not Paper.objects.filter(arxiv_id="2501.99999").exists()


@pytest.mark.django_db
def test_fetch_by_ids_asks_for_the_ids_and_returns_what_arxiv_knows(arxiv):
    from paperboard.ingest import harvest
    from paperboard.ingest.records import PaperRecord

    records = harvest.fetch_by_ids(["2501.07815", "2501.07099", "2501.99999", "2501.07815"])
    assert arxiv.asked == [{"id_list": "2501.07815,2501.07099,2501.99999", "start": "0", "max_results": "3"}]
    assert [r.arxiv_id for r in records if isinstance(r, PaperRecord)] == ["2501.07815", "2501.07099"]
    assert not Paper.objects.exists()  # fetching writes nothing


@pytest.mark.django_db
def test_an_id_the_arxiv_api_refuses_with_a_4xx_is_not_found(arxiv):
    arxiv.fail_with = 400
    exc = refusal(lambda: submissions.submit(make_user("ann"), "2501.07815", now=NOW))
    assert (exc.code, exc.status) == ("not_found", 404)


@pytest.mark.django_db
def test_an_unreachable_arxiv_is_a_503_not_a_500(arxiv, monkeypatch):
    monkeypatch.setattr(submissions, "FETCH_ATTEMPTS", 1)
    monkeypatch.setattr(submissions, "_client", None)
    arxiv.fail_with = 503
    exc = refusal(lambda: submissions.submit(make_user("ann"), "2501.07815", now=NOW))
    assert (exc.code, exc.status) == ("arxiv_unavailable", 503)
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_paper_older_than_the_recency_window(arxiv):
    exc = refusal(lambda: submissions.submit(make_user("ann"), "2501.07815", now=NOW + dt.timedelta(days=14)))
    assert (exc.code, exc.status) == ("too_old", 422)
    assert "first submitted on Jan 14, 2025, 19 days ago" in exc.message
    assert Paper.objects.filter(arxiv_id="2501.07815").exists()  # fetched, but not on the feed
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_the_recency_window_follows_the_setting(arxiv, settings):
    settings.PAPERBOARD_SUBMIT_RECENCY_DAYS = 3
    assert refusal(lambda: submissions.submit(make_user("ann"), "2501.07815", now=NOW)).code == "too_old"


@pytest.mark.django_db
def test_it_refuses_a_paper_that_is_already_on_the_feed():
    paper = make_paper("2501.00001", published="2025-01-18")
    put_on_feed(paper, "2025-01-19")
    exc = refusal(lambda: submissions.submit(make_user("ann"), "2501.00001v2", now=NOW))
    assert (exc.code, exc.status, exc.message) == ("duplicate", 409, "2501.00001 is already on the feed (on Jan 19, 2025).")
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_submissions_over_the_daily_quota_until_the_next_day(settings):
    settings.PAPERBOARD_SUBMIT_DAILY_QUOTA = 2
    ann = make_user("ann")
    for i in range(4):
        make_paper(f"2501.0000{i}", published="2025-01-18")
    submissions.submit(ann, "2501.00000", now=NOW)
    submissions.submit(ann, "2501.00001", now=NOW)
    exc = refusal(lambda: submissions.submit(ann, "2501.00002", now=NOW))
    assert (exc.code, exc.status) == ("quota_exceeded", 429)
    assert exc.message == "You have reached today's limit of 2 submissions. Try again tomorrow."
    submissions.submit(make_user("bob"), "2501.00002", now=NOW)  # the quota is per user
    assert submissions.submit(ann, "2501.00003", now=NOW + dt.timedelta(days=1)).day == dt.date(2025, 1, 21)


@pytest.mark.django_db
def test_the_feed_day_is_today_in_the_configured_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    make_paper("2501.00001", published="2025-01-18")
    s = submissions.submit(make_user("ann"), "2501.00001", now=dt.datetime(2025, 1, 20, 3, 0, tzinfo=dt.UTC))
    assert s.day == dt.date(2025, 1, 19)  # 22:00 on the 19th in New York


@pytest.mark.django_db
def test_it_refuses_an_account_whose_email_is_not_confirmed():
    make_paper("2501.00001", published="2025-01-18")
    exc = refusal(lambda: submissions.submit(make_user("ann", confirmed=False), "2501.00001", now=NOW))
    assert (exc.code, exc.status) == ("not_confirmed", 403)


@pytest.mark.django_db
def test_trusted_mode_refuses_accounts_younger_than_the_trusted_age(settings):
    settings.PAPERBOARD_SUBMIT_WHO = "trusted"
    make_paper("2501.00001", published="2025-01-18")
    young = make_user("young", joined=NOW - dt.timedelta(hours=5))
    exc = refusal(lambda: submissions.submit(young, "2501.00001", now=NOW))
    assert (exc.code, exc.status, exc.message) == (
        "not_allowed", 403, "New accounts can submit papers once they are 24 hours old; yours is 5 hours old.")
    assert submissions.submit(make_user("old"), "2501.00001", now=NOW).submitter.username == "old"


@pytest.mark.django_db
def test_admins_only_mode_refuses_members(settings):
    settings.PAPERBOARD_SUBMIT_WHO = "admins"
    make_paper("2501.00001", published="2025-01-18")
    assert refusal(lambda: submissions.submit(make_user("ann"), "2501.00001", now=NOW)).code == "not_allowed"
    assert submissions.submit(make_user("root", staff=True), "2501.00001", now=NOW).submitter.username == "root"


@pytest.mark.django_db
def test_the_weekend_pause_refuses_members_on_saturdays(settings):
    settings.PAPERBOARD_SUBMIT_WEEKEND_PAUSE = True
    make_paper("2501.00001", published="2025-01-17")
    saturday = dt.datetime(2025, 1, 18, 10, tzinfo=dt.UTC)
    assert refusal(lambda: submissions.submit(make_user("ann"), "2501.00001", now=saturday)).code == "weekend_pause"


@pytest.mark.django_db
def test_banned_inactive_and_anonymous_users_are_refused():
    from django.contrib.auth.models import AnonymousUser

    make_paper("2501.00001", published="2025-01-18")
    assert refusal(lambda: submissions.submit(make_user("bad", banned=True), "2501.00001", now=NOW)).code == "banned"
    assert refusal(lambda: submissions.submit(make_user("gone", active=False), "2501.00001", now=NOW)).code == "inactive"
    exc = refusal(lambda: submissions.submit(AnonymousUser(), "2501.00001", now=NOW))
    assert (exc.code, exc.status) == ("login_required", 401)
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_admins_may_submit_outside_the_rules(arxiv, settings):
    settings.PAPERBOARD_SUBMIT_WEEKEND_PAUSE = True
    settings.PAPERBOARD_SUBMIT_DAILY_QUOTA = 0
    root = make_user("root", staff=True, confirmed=False, joined=NOW)
    a_year_later_on_a_saturday = dt.datetime(2026, 1, 17, 10, tzinfo=dt.UTC)
    s = submissions.submit(root, "2501.07815", now=a_year_later_on_a_saturday)
    assert s.submitter == root and s.day == dt.date(2026, 1, 17)
    # ... but not duplicates, invalid ids or papers arXiv does not know.
    assert refusal(lambda: submissions.submit(root, "2501.07815", now=NOW)).code == "duplicate"
    assert refusal(lambda: submissions.submit(root, "nonsense", now=NOW)).code == "invalid_id"
    assert refusal(lambda: submissions.submit(root, "2501.99999", now=NOW)).code == "not_found"


@pytest.mark.django_db
def test_a_note_longer_than_the_limit_is_refused():
    make_paper("2501.00001", published="2025-01-18")
    exc = refusal(lambda: submissions.submit(make_user("ann"), "2501.00001", note="x" * 1001, now=NOW))
    assert (exc.code, exc.status) == ("note_too_long", 400)


# ---- The page ---------------------------------------------------------------------------------------------


def recent(days_ago: float = 1) -> str:
    return (timezone.now() - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S")


def test_the_submit_page_is_routed_to_its_view_and_not_to_the_paper_route():
    assert resolve("/papers/submit").func is views_feed.submit_page


@pytest.mark.django_db
def test_the_submit_page_sends_anonymous_visitors_to_log_in_and_back(client):
    r = client.get("/papers/submit")
    assert r.status_code == 302 and r["Location"] == "/accounts/login?next=/papers/submit"
    r = client.post("/papers/submit", {"id": "2501.00001"})
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login?next=")


@pytest.mark.django_db
def test_the_submit_page_shows_the_form_and_the_rules_with_the_current_values(client, settings):
    settings.PAPERBOARD_SUBMIT_RECENCY_DAYS = 21
    settings.PAPERBOARD_SUBMIT_DAILY_QUOTA = 3
    settings.PAPERBOARD_SUBMIT_WEEKEND_PAUSE = True
    client.force_login(make_user("ann"))
    html = client.get("/papers/submit").content.decode()
    assert 'name="csrfmiddlewaretoken"' in html and 'name="id"' in html and 'name="note"' in html
    assert "The paper&#x27;s first arXiv version must be at most 21 days old." in html
    assert "Each account can submit 3 submissions per day." in html
    assert "Submissions are paused on Saturdays and Sundays." in html
    assert "Anyone with a confirmed email address can submit." in html


@pytest.mark.django_db
def test_the_form_works_with_csrf_checks_on(settings):
    make_paper("2501.00001", published=recent())
    browser = as_user(make_user("ann"), enforce_csrf_checks=True)
    html = browser.get("/papers/submit").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert browser.post("/papers/submit", {"id": "2501.00001"}).status_code == 403  # no token: refused by CSRF
    r = browser.post("/papers/submit", {"id": "2501.00001", "csrfmiddlewaretoken": token})
    assert r.status_code == 302 and r["Location"] == "/papers/2501.00001"


@pytest.mark.django_db
def test_a_successful_submission_redirects_to_the_paper_page_with_a_message(client):
    make_paper("2501.00001", "Attention is still all you need", published=recent())
    client.force_login(make_user("ann"))
    r = client.post("/papers/submit", {"id": "https://arxiv.org/abs/2501.00001v1", "note": "<b>read</b> this"},
                    follow=True)
    assert r.redirect_chain == [("/papers/2501.00001", 302)]
    html = r.content.decode()
    assert "Submitted: “Attention is still all you need” is on the feed of" in html
    s = Submission.objects.get(paper__arxiv_id="2501.00001")
    assert s.submitter.username == "ann" and s.note == "<b>read</b> this" and s.source == "local"


@pytest.mark.django_db
def test_a_refusal_is_shown_in_the_page_with_its_rule_and_keeps_the_input(client):
    paper = make_paper("2501.00001", published=recent())
    put_on_feed(paper, timezone.localdate().isoformat())
    client.force_login(make_user("ann"))
    r = client.post("/papers/submit", {"id": "2501.00001v1", "note": "my <note>"})
    assert r.status_code == 409
    html = r.content.decode()
    assert 'data-code="duplicate"' in html and "2501.00001 is already on the feed" in html
    assert 'value="2501.00001v1"' in html and "my &lt;note&gt;</textarea>" in html
    assert re.search(r'<li data-rule="once" class="refused"[^>]*>A paper is on the feed only once', html)
    assert html.count('class="refused"') == 1


@pytest.mark.django_db
def test_a_paper_fetched_through_the_page_but_too_old_is_refused_in_the_page(client, arxiv):
    client.force_login(make_user("ann"))
    r = client.post("/papers/submit", {"id": "https://arxiv.org/abs/2501.07815"})
    assert r.status_code == 422
    html = r.content.decode()
    assert 'data-code="too_old"' in html and "Papers can be submitted up to 14 days" in html
    assert 'value="https://arxiv.org/abs/2501.07815"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("text,code", [("not a paper", "invalid_id"), ("2501.99999", "not_found")])
def test_bad_ids_are_refused_in_the_page_not_with_a_500(client, arxiv, text, code):
    client.force_login(make_user("ann"))
    r = client.post("/papers/submit", {"id": text})
    assert r.status_code in (400, 404) and f'data-code="{code}"' in r.content.decode()


@pytest.mark.django_db
def test_submit_posts_are_rate_limited(client, settings):
    settings.PAPERBOARD_RATELIMIT_ENABLED = True
    client.force_login(make_user("ann"))
    statuses = [client.post("/papers/submit", {"id": "nonsense"}).status_code for _ in range(21)]
    assert statuses[:20] == [400] * 20 and statuses[20] == 429
