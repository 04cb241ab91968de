""""For you" (/for-you): login required, onboarding, interests, and recommendations with reasons."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from paperboard.community import collections, votes
from paperboard.search import foryou
from paperboard.search.models import Interest
from tests.conftest import make_paper, put_on_feed
from tests.test_search_semantic import put_vectors, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vectors_in_tmp")]



def days_ago(n: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=n)).isoformat()


@pytest.fixture
def reader(alice, client):
    client.force_login(alice)
    return alice


@pytest.fixture
def library():
    """Two liked papers (robots on axis 0, galaxies on axis 1) and candidates around them."""
    p = {
        "robots": make_paper("2501.00001", "Robot grasping", categories=("cs.RO",)),
        "galaxies": make_paper("2501.00002", "Dwarf galaxies", categories=("astro-ph.GA",)),
        "robots_new": make_paper("2501.00003", "Dexterous hands, recent", categories=("cs.RO",)),
        "robots_old": make_paper("2401.00004", "Grasping, an older paper", categories=("cs.RO",), published="2024-01-02"),
        "galaxies_new": make_paper("2501.00005", "Dark matter halos, recent", categories=("astro-ph.GA",)),
        "unrelated_new": make_paper("2501.00006", "Tax law, recent", categories=("econ.GN",)),
        "robots_seen": make_paper("2501.00007", "Grasping that the reader already upvoted", categories=("cs.RO",)),
    }
    put_vectors([
        (p["robots"], unit((0, 1))),
        (p["galaxies"], unit((1, 1))),
        (p["robots_new"], unit((0, 1), (2, 0.3))),
        (p["robots_old"], unit((0, 1), (3, 0.1))),
        (p["galaxies_new"], unit((1, 1), (4, 0.5))),
        (p["unrelated_new"], unit((9, 1))),
        (p["robots_seen"], unit((0, 1), (5, 0.05))),
    ])
    for key in ("robots_new", "galaxies_new", "unrelated_new", "robots_seen"):
        put_on_feed(p[key], days_ago(3))
    put_on_feed(p["robots"], days_ago(60))
    return p


def _items(html: str) -> list[tuple[str, str]]:
    """(arXiv id, reason kind) of each suggestion, in page order."""
    return re.findall(r'<article class="card for-you-item" id="paper-([\d.]+)" data-reason-kind="(\w+)"', html)


def test_for_you_needs_a_log_in(client):
    response = client.get("/for-you")
    assert response.status_code == 302 and response["Location"] == "/accounts/login?next=/for-you"
    response = client.get("/for-you.json")
    assert response.status_code == 401 and response.json()["code"] == "login_required"
    assert client.post("/for-you/interests", {"category": "cs.LG"}).status_code == 302
    assert not Interest.objects.exists()


def test_a_new_reader_gets_the_onboarding(client, reader, library):
    html = client.get("/for-you").content.decode()
    assert 'data-mode="onboarding"' in html
    assert '<form method="post" action="/for-you/interests"' in html
    assert 'value="cs.RO"' in html and 'value="astro-ph.GA"' in html  # categories from the feed
    assert "Or upvote a few papers" in html
    assert 'action="/papers/2501.00003/upvote"' in html  # recent papers with vote buttons
    assert client.get("/for-you.json").json() == {"mode": "onboarding", "interests": [], "signals": 0, "papers": []}


def test_picked_categories_are_stored_and_feed_the_page_until_there_are_votes(client, reader, library):
    response = client.post("/for-you/interests", {"category": ["cs.RO"], "other": "Not-a-code!, q-bio.NC"})
    assert response.status_code == 302 and response["Location"] == "/for-you"
    assert foryou.interests_of(reader) == ["cs.RO", "q-bio.NC"]
    data = client.get("/for-you.json").json()
    assert data["mode"] == "interests" and data["interests"] == ["cs.RO", "q-bio.NC"]
    ids = [x["id"] for x in data["papers"]]
    # Recent cs.RO papers on the feed first (by upvotes), then other cs.RO papers, newest first.
    assert set(ids[:2]) == {"2501.00003", "2501.00007"} and "2501.00005" not in ids
    assert data["papers"][0]["reason"] == "new in cs.RO, one of your interests"
    assert data["papers"][0]["reasonKind"] == "interest" and data["papers"][0]["recent"] is True
    assert [x["recent"] for x in data["papers"]][-1] is False
    form = client.get("/for-you/interests").content.decode()
    assert 'value="cs.RO" checked' in form
    client.post("/for-you/interests", {"category": ["astro-ph.GA"]})
    assert foryou.interests_of(reader) == ["astro-ph.GA"]


def test_recommendations_follow_upvotes_with_reasons_and_recent_papers_first(client, reader, library):
    votes.upvote(reader, library["robots"])
    votes.upvote(reader, library["robots_seen"])
    votes.upvote(reader, library["galaxies"])
    data = client.get("/for-you.json").json()
    assert data["mode"] == "semantic" and data["signals"] == 3
    ids = [x["id"] for x in data["papers"]]
    by_id = {x["id"]: x for x in data["papers"]}
    # Never what the reader voted on.
    assert not {"2501.00001", "2501.00002", "2501.00007"} & set(ids)
    # Recent related papers first; the unrelated recent one is not among the recent suggestions.
    assert set(ids[:2]) == {"2501.00003", "2501.00005"}
    assert all(x["recent"] for x in data["papers"][:2])
    assert by_id["2401.00004"]["recent"] is False and ids.index("2401.00004") >= 2
    assert not by_id.get("2501.00006", {}).get("recent")
    # Each reason names the liked paper nearest to the suggestion.
    assert by_id["2501.00003"]["reason"] in ("because you upvoted “Robot grasping”",
                                            "because you upvoted “Grasping that the reader already upvoted”")
    assert by_id["2501.00005"]["reason"] == "because you upvoted “Dwarf galaxies”"
    assert by_id["2501.00005"]["reasonPaper"] == "2501.00002" and by_id["2501.00005"]["reasonKind"] == "upvoted"
    html = client.get("/for-you").content.decode()
    assert 'data-mode="semantic"' in html and "<h2>New on the feed</h2>" in html
    assert 'because you upvoted <a href="/papers/2501.00002">“Dwarf galaxies”</a>' in html
    assert ("2501.00005", "upvoted") in _items(html)


def test_collected_papers_count_as_signals(client, reader, library):
    shelf = collections.create(reader, "Astro reading")
    collections.add(reader, shelf, library["galaxies"])
    data = client.get("/for-you.json").json()
    assert data["mode"] == "semantic"
    first = data["papers"][0]
    assert first["id"] == "2501.00005"
    assert first["reason"] == "because you saved “Dwarf galaxies” in Astro reading" and first["reasonKind"] == "collected"
    assert "2501.00002" not in [x["id"] for x in data["papers"]]


def test_votes_without_embeddings_fall_back_to_the_picked_categories(client, reader):
    liked = make_paper("2501.00001", "Robot grasping", categories=("cs.RO",))
    other = make_paper("2501.00003", "Dexterous hands", categories=("cs.RO",))
    put_on_feed(other, days_ago(2))
    votes.upvote(reader, liked)
    assert client.get("/for-you.json").json()["mode"] == "onboarding"
    html = client.get("/for-you").content.decode()
    assert "appear once those papers are indexed" in html
    foryou.set_interests(reader, ["cs.RO"])
    data = client.get("/for-you.json").json()
    assert data["mode"] == "interests" and [x["id"] for x in data["papers"]] == ["2501.00003"]


def test_deleting_an_account_deletes_its_interests(reader):
    foryou.set_interests(reader, ["cs.LG", "cs.CL"])
    assert Interest.objects.count() == 2
    reader.delete()
    assert not Interest.objects.exists()


def test_a_liked_paper_without_a_vector_is_embedded_on_the_fly(client, reader):
    from paperboard.search.models import Embedding
    from paperboard.search.semantic import embed
    from tests.test_search_semantic import CORPUS, add_paper

    papers = {aid: add_paper(aid, *text) for aid, text in CORPUS.items()}
    for p in papers.values():
        put_on_feed(p, days_ago(1))
    liked = add_paper("2501.20000", "Robot hands that learn to pick up objects",
                      "A robotic manipulator learns grasping of household items from human demonstrations.")
    texts = [embed.paper_text(p.title, p.abstract) for p in papers.values()]
    put_vectors(list(zip(papers.values(), embed.encode(texts))))
    votes.upvote(reader, liked)
    data = client.get("/for-you.json").json()
    assert data["mode"] == "semantic"
    assert data["papers"][0]["id"] == "2501.10001"  # the robot-grasping paper
    assert data["papers"][0]["reason"] == "because you upvoted “Robot hands that learn to pick up objects”"
    assert Embedding.objects.filter(paper_id=liked.pk).exists()
