"""Similar papers: on the paper page (a template tag, so the cached anonymous page carries them) and at
`GET /api/papers/{id}/similar`."""

from __future__ import annotations

import re

import pytest

from paperboard.papers import freshness
from paperboard.papers.models import Paper
from paperboard.search import similar
from paperboard.search.models import Embedding
from paperboard.search.semantic import embed
from tests.conftest import put_on_feed
from tests.test_search_semantic import CORPUS, add_paper, put_vectors, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("vectors_in_tmp")]



@pytest.fixture
def papers():
    """Five papers with hand-made vectors: b is closest to a, then c, then d; e points elsewhere."""
    ps = [add_paper(aid, *text) for aid, text in CORPUS.items()]
    a, b, c, d, e = ps
    put_vectors([
        (a, unit((0, 1))),
        (b, unit((0, 1), (1, 0.3))),
        (c, unit((0, 1), (1, 0.8))),
        (d, unit((0, 1), (1, 2))),
        (e, unit((5, 1))),
    ])
    return ps


def _similar_ids(html: str) -> list[str]:
    return re.findall(r'class="similar-item" data-arxiv-id="([\d.]+)"', html)


def test_similar_papers_leave_out_the_paper_itself_and_hidden_papers(papers):
    a, b, c, d, e = papers
    found = similar.similar_papers(a, 3)
    assert [p.arxiv_id for p in found] == [b.arxiv_id, c.arxiv_id, d.arxiv_id]
    assert found[0].similarity > found[1].similarity > found[2].similarity
    assert found[0].author_names == ["Ada Lovelace"]  # ready for the page and the API shapes
    Paper.objects.filter(pk=b.pk).update(hidden=True)
    freshness.changed()  # as moderation does when it hides a paper
    assert [p.arxiv_id for p in similar.similar_papers(a, 3)] == [c.arxiv_id, d.arxiv_id, e.arxiv_id]


def test_hiding_a_paper_through_moderation_takes_it_out_of_similar_lists(papers, admin):
    from paperboard.community import moderation

    a, b, c, *_ = papers
    assert similar.similar_papers(a, 1)[0].pk == b.pk
    moderation.act(admin, "hide_paper", b.pk, "spam")
    assert similar.similar_papers(a, 1)[0].pk == c.pk


def test_the_paper_page_lists_similar_papers(client, papers):
    a, b, c, d, e = papers
    put_on_feed(a, "2025-01-10")
    html = client.get(f"/papers/{a.arxiv_id}").content.decode()
    assert '<h2>Similar papers</h2>' in html
    assert _similar_ids(html)[:3] == [b.arxiv_id, c.arxiv_id, d.arxiv_id]
    assert a.arxiv_id not in _similar_ids(html)
    assert f'<a href="/papers/{b.arxiv_id}"><strong>{b.title}</strong></a>' in html
    assert f'href="/api/papers/{a.arxiv_id}/similar"' in html


def test_the_paper_page_has_no_similar_section_and_loads_no_model_before_indexing(client, monkeypatch):
    monkeypatch.setattr(embed, "get_model", lambda: pytest.fail("loaded the model for a page"))
    paper = add_paper("2501.10001", *CORPUS["2501.10001"])
    html = client.get(f"/papers/{paper.arxiv_id}").content.decode()
    assert client.get(f"/papers/{paper.arxiv_id}").status_code == 200
    assert "Similar papers" not in html


def test_a_paper_without_an_embedding_is_embedded_on_the_fly_and_kept(client):
    robots = add_paper("2501.10001", *CORPUS["2501.10001"])
    galaxies = add_paper("2501.10003", *CORPUS["2501.10003"])
    proteins = add_paper("2501.10002", *CORPUS["2501.10002"])
    new = add_paper(
        "2501.20000", "Robot hands that learn to pick up objects",
        "A robotic manipulator learns grasping of household items from human demonstrations.",
    )
    texts = [embed.paper_text(p.title, p.abstract) for p in (robots, galaxies, proteins)]
    put_vectors(list(zip((robots, galaxies, proteins), embed.encode(texts))))
    assert not Embedding.objects.filter(paper_id=new.pk).exists()
    html = client.get(f"/papers/{new.arxiv_id}").content.decode()
    assert _similar_ids(html)[0] == robots.arxiv_id
    stored = Embedding.objects.get(paper_id=new.pk)
    assert stored.model == embed.model_key() and stored.paper_hash == new.content_hash


def test_without_live_embedding_a_paper_without_a_vector_shows_no_similar_papers(client, papers, settings, monkeypatch):
    settings.PAPERBOARD_SEMANTIC_LIVE_EMBED = False
    monkeypatch.setattr(embed, "get_model", lambda: pytest.fail("loaded the model"))
    new = add_paper("2501.20001", "Another paper", "Text.")
    assert similar.similar_papers(new) == []
    assert "Similar papers" not in client.get(f"/papers/{new.arxiv_id}").content.decode()


# ---- API --------------------------------------------------------------------------------------------------


def test_the_api_returns_similar_papers_in_the_hf_paper_shape(client, papers):
    a, b, c, d, e = papers
    response = client.get(f"/api/papers/{a.arxiv_id}/similar?limit=2")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = response.json()
    assert [x["id"] for x in data] == [b.arxiv_id, c.arxiv_id]
    first = data[0]
    assert first["title"] == b.title and first["summary"] == b.abstract
    assert first["authors"] == [{"_id": f"{b.arxiv_id}:0", "name": "Ada Lovelace", "hidden": False}]
    assert first["categories"] == ["cs.LG"] and first["url"].endswith(f"/papers/{b.arxiv_id}")
    assert 0 < data[1]["similarity"] < first["similarity"] <= 1
    assert len(client.get(f"/api/papers/{a.arxiv_id}/similar").json()) == 4  # default limit 10, 4 others
    assert client.get(f"/api/papers/arXiv:{a.arxiv_id}v2/similar?limit=1").json()[0]["id"] == b.arxiv_id


def test_the_similar_api_answers_errors_in_json(client, papers):
    a = papers[0]
    missing = client.get("/api/papers/2412.99999/similar")
    assert missing.status_code == 404
    assert missing.json() == {"error": "paper 2412.99999 not found", "code": "not_found"}
    bad = client.get("/api/papers/not-an-id/similar")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_id"
    for limit in ("0", "51", "many"):
        r = client.get(f"/api/papers/{a.arxiv_id}/similar?limit={limit}")
        assert r.status_code == 400 and r.json()["code"] == "invalid_parameter", limit
    Paper.objects.filter(pk=a.pk).update(hidden=True)
    assert client.get(f"/api/papers/{a.arxiv_id}/similar").status_code == 404


def test_the_similar_route_does_not_shadow_the_paper_route(client, papers):
    a = papers[0]
    assert client.get(f"/api/papers/{a.arxiv_id}").json()["id"] == a.arxiv_id
    assert "/api/papers/{paper_id}/similar" in client.get("/api/openapi.json").json()["paths"]
