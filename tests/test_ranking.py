"""Ranking: the trending formula's pure functions against golden numbers (see docs/ranking.md)."""

import datetime as dt
import math

import pytest

from paperboard.papers import ranking


def test_the_published_constants_have_the_documented_values():
    assert ranking.formula_constants() == {
        "GRAVITY": 1.5, "AGE_OFFSET_HOURS": 2.0, "TRENDING_WINDOW_DAYS": 7, "VOTE_POINTS": 1.0,
        "COMMENT_POINTS": 0.5, "COMMENT_CAP": 20, "STAR_POINTS": 2.0,
    }


# Golden numbers, votes only: score = upvotes / (hours + 2) ** 1.5
@pytest.mark.parametrize("upvotes,hours,expected", [
    (0, 0.0, 0.0),
    (10, 0.0, 3.5355339),
    (10, 2.0, 1.25),
    (100, 22.0, 0.8505172),
    (100, 46.0, 0.3007033),
])
def test_trending_score_matches_golden_numbers(upvotes, hours, expected):
    assert ranking.trending_score(upvotes, hours) == pytest.approx(expected, rel=1e-6)


# Golden numbers with every signal: (upvotes, imported, comments, stars, repo linked, hours) -> contributions
@pytest.mark.parametrize("local,imported,comments,stars,repo,hours,votes_c,comments_c,stars_c,score", [
    # 4 comments = 2 points, over (0 + 2) ** 1.5 = 2.828427
    (0, 0, 4, None, False, 0.0, 0.0, 0.7071068, 0.0, 0.7071068),
    # comments are capped at 20 (10 points)
    (0, 0, 50, None, False, 0.0, 0.0, 3.5355339, 0.0, 3.5355339),
    # 999 stars = 2 * log10(1000) = 6 points, over (2 + 2) ** 1.5 = 8
    (0, 0, 0, 999, True, 2.0, 0.0, 0.0, 0.75, 0.75),
    # stars count only when a repository is linked
    (0, 0, 0, 999, False, 2.0, 0.0, 0.0, 0.0, 0.0),
    # 30 local + 20 imported = 50, 6 comments = 3, 99 stars = 4: 57 points over 12 ** 1.5 = 41.569219
    (30, 20, 6, 99, True, 10.0, 1.2028131, 0.0721688, 0.0962250, 1.3712069),
    # the docs' example: 100 votes two days old, 12 comments, 1,000 stars
    (100, 0, 12, 1000, True, 46.0, 0.3007033, 0.0180422, 0.0180448, 0.3367903),
])
def test_each_signal_contributes_its_golden_share(local, imported, comments, stars, repo, hours, votes_c,
                                                   comments_c, stars_c, score):
    t = ranking.trending(local, hours, imported_upvotes=imported, num_comments=comments, github_stars=stars,
                         has_repo=repo)
    assert t.signal("upvotes").contribution == pytest.approx(votes_c, abs=1e-7)
    assert t.signal("comments").contribution == pytest.approx(comments_c, abs=1e-7)
    assert t.signal("githubStars").contribution == pytest.approx(stars_c, abs=1e-7)
    assert t.score == pytest.approx(score, abs=1e-7)


def test_the_contributions_add_up_to_the_score_exactly():
    t = ranking.trending(7, 13.25, imported_upvotes=3, num_comments=9, github_stars=4321, has_repo=True)
    assert sum(s.contribution for s in t.signals) == t.score
    assert t.points == pytest.approx(10 + 4.5 + 2 * math.log10(4322))
    assert t.score == pytest.approx(t.points / t.decay)


def test_the_breakdown_serialises_with_rounded_numbers():
    t = ranking.trending(30, 10.0, imported_upvotes=20, num_comments=6, github_stars=99, has_repo=True)
    data = t.as_json()
    assert data["score"] == 1.371207 and data["ageHours"] == 10.0 and data["decay"] == 41.569219
    assert data["signals"]["upvotes"] == {"amount": 50, "points": 50.0, "contribution": 1.202813, "local": 30,
                                          "imported": 20}
    assert data["signals"]["comments"] == {"amount": 6, "points": 3.0, "contribution": 0.072169, "counted": 6}
    assert data["signals"]["githubStars"] == {"amount": 99, "points": 4.0, "contribution": 0.096225,
                                              "repoLinked": True}


def test_newer_papers_outrank_older_ones_with_the_same_votes():
    assert ranking.trending_score(20, 3) > ranking.trending_score(20, 30)


def test_a_famous_repository_cannot_outweigh_a_lively_vote_count():
    # 100,000 stars are 10 points: less than 11 votes.
    assert ranking.star_points(100_000, True) == pytest.approx(10.0, abs=1e-3)
    assert ranking.trending_score(11, 5) > ranking.trending_score(0, 5, github_stars=100_000, has_repo=True)


def test_negative_or_missing_amounts_count_as_nothing():
    assert ranking.vote_points(-3) == 0 and ranking.comment_points(-1) == 0
    assert ranking.star_points(None, True) == 0 and ranking.star_points(-5, True) == 0


def test_age_is_never_negative():
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert ranking.age_hours(now + dt.timedelta(hours=5), now) == 0.0
    assert ranking.age_hours(now - dt.timedelta(hours=5), now) == 5.0
    assert ranking.decay(-10) == ranking.decay(0) == pytest.approx(2 ** 1.5)
