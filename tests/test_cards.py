"""The paper loader, `papers.queries.load_cards`, and the paper page building its context in the view."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from paperboard.community import votes
from paperboard.community.views_paper import page_context
from paperboard.papers import queries
from paperboard.papers.models import Paper, Submission
from tests.conftest import make_paper, put_on_feed

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def three(alice):
    first = make_paper("2501.00001", "Attention is all you need", authors=("Ashish Vaswani", "Noam Shazeer"),
                       categories=("cs.CL", "cs.LG"), version=3, updated_at=dt.datetime(2025, 2, 1, 8, tzinfo=dt.UTC),
                       github_repo="https://github.com/example/attn", project_page="https://example.org/attn",
                       github_stars=42)
    second = make_paper("2501.00002", "Scaling laws", authors=("Jared Kaplan",), categories=("stat.ML",))
    hidden = make_paper("2501.00003", "Withdrawn")
    Paper.objects.filter(pk=hidden.pk).update(hidden=True)
    alice.first_name, alice.last_name = "Alice", "Liddell"
    alice.save()
    put_on_feed(first, "2025-01-10", user=alice, votes=2)
    Submission.objects.filter(paper=first).update(note="A classic.")
    Paper.objects.filter(pk=first.pk).update(num_comments=5)
    return first, second, hidden


def test_cards_come_in_the_order_asked_with_what_a_card_shows(three):
    first, second, hidden = three
    cards = queries.load_cards([second.pk, 987654321, first.pk, hidden.pk, second.pk])
    assert [c.arxiv_id for c in cards] == ["2501.00002", "2501.00001"]  # unknown, hidden, repeated ids dropped
    b, a = cards
    assert (a.pk, a.version, a.title) == (first.pk, 3, "Attention is all you need")
    assert a.abstract == "Abstract of 2501.00001."
    assert a.published_at == dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
    assert a.updated_at == dt.datetime(2025, 2, 1, 8, tzinfo=dt.UTC)
    assert a.author_names == ["Ashish Vaswani", "Noam Shazeer"]
    assert a.category_codes == ["cs.CL", "cs.LG"] and a.primary_category == "cs.CL"
    assert (a.github_repo, a.project_page, a.github_stars) == (
        "https://github.com/example/attn", "https://example.org/attn", 42)
    assert (a.upvotes, a.num_comments) == (2, 5)
    assert a.abs_url == "https://arxiv.org/abs/2501.00001" and a.get_absolute_url() == "/papers/2501.00001"
    s = a.feed_submission
    assert (s.day, s.note, s.paper) == (dt.date(2025, 1, 10), "A classic.", a)
    assert s.submitted_at == dt.datetime(2025, 1, 10, 9, tzinfo=dt.UTC)
    assert (s.submitter.username, s.submitter.display_name) == ("alice", "Alice Liddell")
    assert b.feed_submission is None and b.author_names == ["Jared Kaplan"] and b.voted is None
    assert queries.load_cards([]) == [] and queries.load_cards([hidden.pk]) == []


def test_a_card_links_to_the_same_places_as_its_paper():
    paper = make_paper("hep-th/9901001", "An old-style id")
    (card,) = queries.load_cards([paper.pk])
    links = ("https://arxiv.org/abs/hep-th/9901001", "https://arxiv.org/pdf/hep-th/9901001", "/papers/hep-th/9901001")
    assert (paper.abs_url, paper.pdf_url, paper.get_absolute_url()) == links
    assert (card.abs_url, card.pdf_url, card.get_absolute_url()) == links


def test_cards_say_whether_the_viewer_upvoted_each_paper(three, bob):
    first, second, _ = three
    votes.upvote(bob, second)
    cards = queries.load_cards([first.pk, second.pk], user=bob)
    assert [c.voted for c in cards] == [False, True]


def test_loading_cards_never_reads_a_password(three, bob):
    first, second, _ = three
    with CaptureQueriesContext(connection) as ctx:
        queries.load_cards([first.pk, second.pk], user=bob)
    assert ctx.captured_queries and not any("password" in q["sql"] for q in ctx.captured_queries)


def test_cards_cost_the_same_few_queries_for_one_paper_or_fifty(alice):
    papers = [make_paper(f"2501.{i:05d}") for i in range(1, 51)]
    for p in papers[::2]:
        put_on_feed(p, "2025-01-10", user=alice)
    counts = []
    for ids in ([papers[0].pk], [p.pk for p in papers]):
        for user in (None, alice):
            with CaptureQueriesContext(connection) as ctx:
                cards = queries.load_cards(ids, user=user)
            assert len(cards) == len(ids)
            counts.append(len(ctx.captured_queries))
    assert counts == [2, 3, 2, 3]


def test_the_paper_page_runs_every_query_in_its_view_and_none_while_rendering(three, bob):
    first, _, _ = three
    votes.upvote(bob, first)
    request = RequestFactory().get("/papers/2501.00001")
    request.user = bob
    context = page_context(request, queries.paper("2501.00001", user=bob))
    with CaptureQueriesContext(connection) as ctx:
        html = render_to_string("papers/paper.html", context, request)
    assert [q["sql"] for q in ctx.captured_queries] == []
    assert "Why it is trending" in html and 'aria-pressed="true"' in html and "A classic." in html


FORMATTING_ONLY = {"__future__", "django", "django.template", "paperboard.feeds.links"}


def test_template_tags_only_format_they_import_no_models_services_or_views():
    imported = {}
    for module in ROOT.glob("paperboard/*/templatetags/*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = {f"{node.module}.{a.name}" if node.module == "paperboard.feeds" else node.module
                         for a in node.names}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            imported.setdefault(module.relative_to(ROOT).as_posix(), set()).update(names)
    assert imported and {m: n - FORMATTING_ONLY for m, n in imported.items() if n - FORMATTING_ONLY} == {}
