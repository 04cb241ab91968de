"""Trending: which votes count, the ranked feed, the explanation on the paper page, the page and the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from paperboard.community import trending
from paperboard.papers import queries, ranking
from paperboard.papers.models import Paper, Submission, Vote
from tests.conftest import make_paper, make_user

NOW = dt.datetime(2025, 1, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _min_age(settings):
    settings.PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS = 24


def on_feed(arxiv_id, submitted_at, *, imported=0, comments=0, stars=None, repo="", title=None):
    p = make_paper(arxiv_id, title)
    Paper.objects.filter(pk=p.pk).update(imported_upvotes=imported, upvotes=imported, num_comments=comments,
                                         github_stars=stars, github_repo=repo)
    Submission.objects.create(paper=p, day=submitted_at.date(), submitted_at=submitted_at)
    return Paper.objects.get(pk=p.pk)


def vote(user, paper, at):
    v = Vote.objects.create(user=user, paper=paper)
    Vote.objects.filter(pk=v.pk).update(created=at)
    Paper.objects.filter(pk=paper.pk).update(upvotes=paper.upvotes + 1)
    paper.upvotes += 1


# ---- Which votes count ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_votes_from_confirmed_accounts_old_enough_at_vote_time_count():
    p = on_feed("2501.00001", NOW - dt.timedelta(hours=10))
    at = NOW - dt.timedelta(hours=1)
    vote(make_user("veteran"), p, at)  # counts
    vote(make_user("just_old_enough", joined=at - dt.timedelta(hours=24)), p, at)  # counts: 24 h exactly
    vote(make_user("unconfirmed", confirmed=False), p, at)  # email not confirmed
    vote(make_user("newcomer", joined=at - dt.timedelta(hours=23)), p, at)  # 23 h old when voting
    vote(make_user("banned", banned=True), p, at)  # banned accounts' votes stop counting
    assert queries.trusted_vote_counts([p.pk]) == {p.pk: 2}
    assert Paper.objects.get(pk=p.pk).upvotes == 5  # every vote still counts on the daily feed


@pytest.mark.django_db
def test_an_account_that_ages_does_not_make_its_early_vote_count():
    p = on_feed("2501.00001", NOW - dt.timedelta(days=3))
    joined = NOW - dt.timedelta(days=3)
    vote(make_user("eager", joined=joined), p, joined + dt.timedelta(hours=1))  # young at vote time; old now
    assert queries.trusted_vote_counts([p.pk]) == {}


@pytest.mark.django_db
def test_the_minimum_account_age_follows_the_setting(settings):
    p = on_feed("2501.00001", NOW - dt.timedelta(hours=10))
    at = NOW - dt.timedelta(hours=1)
    vote(make_user("u30", joined=at - dt.timedelta(hours=30)), p, at)
    assert queries.trusted_vote_counts([p.pk]) == {p.pk: 1}
    settings.PAPERBOARD_TRENDING_MIN_ACCOUNT_AGE_HOURS = 48
    assert queries.trusted_vote_counts([p.pk]) == {}


@pytest.mark.django_db
def test_unconfirmed_and_young_votes_do_not_move_a_paper_up_the_trending_feed():
    a = on_feed("2501.00001", NOW - dt.timedelta(hours=5), title="Sock puppets' favourite")
    b = on_feed("2501.00002", NOW - dt.timedelta(hours=5), title="Quietly good")
    for i in range(10):
        vote(make_user(f"puppet{i}", confirmed=i % 2 == 0, joined=NOW - dt.timedelta(hours=2)), a, NOW)
    for i in range(3):
        vote(make_user(f"reader{i}"), b, NOW)
    items = queries.feed(sort="trending", now=NOW)
    assert [s.paper.arxiv_id for s in items] == ["2501.00002", "2501.00001"]
    assert items[1].trending_score == 0 and items[1].paper.upvotes == 10


# ---- The trending feed -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_trending_feed_ranks_recent_papers_by_their_score_in_a_fixed_number_of_queries(django_assert_num_queries):
    old = on_feed("2501.00001", NOW - dt.timedelta(days=8), imported=500)  # outside the 7-day window
    fresh = on_feed("2501.00002", NOW - dt.timedelta(hours=2), imported=3)
    day_old = on_feed("2501.00003", NOW - dt.timedelta(hours=22), imported=20, comments=4)
    starred = on_feed("2501.00004", NOW - dt.timedelta(hours=46), imported=10, stars=999,
                      repo="https://github.com/example/repo")
    with django_assert_num_queries(4):  # candidates, counted votes, cards (papers; authors and categories)
        items = queries.feed(sort="trending", now=NOW)
    assert [s.paper.arxiv_id for s in items] == ["2501.00002", "2501.00003", "2501.00004"]
    scores = [s.trending_score for s in items]
    assert scores == pytest.approx([3 / 8, 22 / 24 ** 1.5, 16 / 48 ** 1.5])
    assert old.pk not in {s.paper_id for s in items} and {fresh.pk, day_old.pk, starred.pk} == {s.paper_id for s in items}
    assert items[0].paper.author_names == ["Ada Lovelace", "Alan Turing"]


@pytest.mark.django_db
def test_hidden_papers_are_not_trending():
    p = on_feed("2501.00001", NOW - dt.timedelta(hours=2), imported=3)
    Paper.objects.filter(pk=p.pk).update(hidden=True)
    assert queries.feed(sort="trending", now=NOW) == []


# ---- The explanation ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_explanation_sums_to_the_score_and_matches_the_feed():
    p = on_feed("2501.00001", NOW - dt.timedelta(hours=10), imported=20, comments=6, stars=99,
                repo="https://github.com/example/repo")
    for i in range(30):
        vote(make_user(f"reader{i}"), p, NOW - dt.timedelta(hours=1))
    for i in range(4):
        vote(make_user(f"newbie{i}", joined=NOW - dt.timedelta(hours=3)), p, NOW - dt.timedelta(hours=1))
    why = trending.explain(Paper.objects.get(pk=p.pk), NOW)
    item = queries.feed(sort="trending", now=NOW)[0]
    assert why.score == item.trending_score == pytest.approx(57 / 12 ** 1.5)  # golden: 1.3712069
    assert sum(r.contribution for r in why.rows) == why.score
    assert sum(r.share for r in why.rows) == pytest.approx(100)
    rows = {r.name: r for r in why.rows}
    assert rows["upvotes"].amount == "50 counted upvotes (30 here, 20 imported)"
    assert rows["upvotes"].contribution == pytest.approx(50 / 12 ** 1.5)
    assert rows["comments"].amount == "6 comments" and rows["comments"].points == 3
    assert rows["githubStars"].amount == "99 stars" and rows["githubStars"].points == pytest.approx(4)
    assert why.uncounted_votes == 4
    assert why.sentence == (
        "Trending score 1.371 = upvotes 1.203 + comments 0.072 + github stars 0.096. Upvotes give most of it "
        "(88%); it has been on the feed for 10 hours, so its 57 points are divided by (10.0 + 2) ^ 1.5 = 41.6."
    )


@pytest.mark.django_db
def test_papers_off_the_feed_or_past_the_window_say_so():
    loose = make_paper("2501.00009")
    why = trending.explain(loose, NOW)
    assert not why.on_feed and why.score == 0 and "not on the feed" in why.sentence
    old = on_feed("2501.00001", NOW - dt.timedelta(days=9), imported=5)
    why = trending.explain(old, NOW)
    assert why.on_feed and not why.candidate
    assert why.sentence.endswith("It went on the feed more than 7 days ago, so it is no longer ranked in trending.")


# ---- Pages and API ---------------------------------------------------------------------------------------


def recent(hours_ago: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours_ago)


@pytest.fixture
def live_feed(db):
    a = on_feed("2501.00001", recent(30), imported=300, comments=4, title="Older but loved")
    b = on_feed("2501.00002", recent(3), imported=6, stars=1200, repo="https://github.com/example/b",
                title="Fresh with code")
    c = on_feed("2501.00003", recent(24 * 10), imported=900, title="Last month's hit")
    return a, b, c


def test_the_paper_page_shows_why_a_paper_is_trending(client, live_feed, monkeypatch):
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)  # the page and this test explain at the same instant
    html = client.get("/papers/2501.00002").content.decode()
    section = html[html.index('id="why-trending"'):]
    why = trending.explain(live_feed[1])
    assert "Why it is trending" in section and f"Trending score {why.score:.3f} = upvotes" in section
    for r in why.rows:
        assert re.search(rf'data-signal="{r.name}">.*?<td class="contribution"[^>]*>{r.contribution:.4f}</td>',
                         section, re.DOTALL)
    assert f"<strong>{why.score:.4f}</strong>" in section
    assert "1200 stars" in section and 'href="/papers/trending#how-trending-works"' in section


def test_the_trending_page_ranks_recent_papers_and_explains_the_formula(client, live_feed):
    r = client.get("/papers/trending")
    assert r.status_code == 200
    html = r.content.decode()
    titles = re.findall(r'<h3><a href="/papers/[^"]+">([^<]+)</a></h3>', html)
    assert titles == ["Older but loved", "Fresh with code"]  # 300 votes a day ago beat 6 votes and a starred repository just now
    assert 'id="how-trending-works"' in html
    assert "score  = points / (hours on the feed + 2) ^ 1.5" in html
    assert "+ 0.5 × min(comments, 20)" in html and "+ 2 × log10(1 + GitHub stars)" in html
    assert "at least 24 hours old" in html and "last 7 days" in html


@pytest.mark.django_db
def test_the_trending_page_is_split_into_pages_with_previous_and_next_links(client, live_feed, settings):
    settings.PAPERBOARD_FEED_PAGE_SIZE = 1
    first = client.get("/papers/trending").content.decode()
    assert re.findall(r'<h3><a href="/papers/[^"]+">([^<]+)</a></h3>', first) == ["Older but loved"]
    assert '<a class="btn" href="?p=1">Next page →</a>' in first and "page 1 of 2" in first
    assert "Previous page" not in first
    second = client.get("/papers/trending", {"p": 1}).content.decode()
    assert re.findall(r'<h3><a href="/papers/[^"]+">([^<]+)</a></h3>', second) == ["Fresh with code"]
    assert '<a class="btn" href="?p=0">← Previous page</a>' in second and "page 2 of 2" in second
    assert "Next page" not in second


def test_the_trending_page_is_also_json_with_the_formula_and_breakdowns(client, live_feed):
    data = client.get("/papers/trending.json").json()
    assert data["total"] == 2 and data["formula"] == ranking.formula_constants()
    first = data["papers"][0]
    assert first["paper"]["id"] == "2501.00001"
    assert set(first["trending"]["signals"]) == {"upvotes", "comments", "githubStars"}


def test_the_api_gives_the_per_signal_breakdown_with_sort_trending(client, live_feed):
    items = client.get("/api/daily_papers", {"sort": "trending"}).json()
    assert [i["paper"]["id"] for i in items] == ["2501.00001", "2501.00002"]
    t = items[1]["trending"]
    assert t["score"] == items[1]["trendingScore"]
    signals = t["signals"]
    assert signals["upvotes"]["imported"] == 6 and signals["githubStars"]["amount"] == 1200
    assert signals["githubStars"]["points"] == pytest.approx(2 * 3.0795, abs=1e-3)
    total = sum(s["contribution"] for s in signals.values())
    assert total == pytest.approx(t["score"], abs=3e-6)
    plain = client.get("/api/daily_papers").json()
    assert all("trending" not in i for i in plain)
