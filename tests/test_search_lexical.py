"""The lexical index (SQLite FTS5 / PostgreSQL full text): ranking, filters, safety, staying in step, indexing."""

import datetime as dt
import sys

import pytest

from paperboard.ingest import store
from paperboard.ingest.records import PaperRecord
from paperboard.papers import freshness
from paperboard.papers.models import Paper
from paperboard.search import hybrid, lexical, service
from paperboard.search.hits import Hit
from paperboard.search.lexical import indexer, relaxed
from paperboard.search.query import parse

pytestmark = pytest.mark.django_db


def record(arxiv_id, title, abstract="", *, authors=("Ada Lovelace",), categories=("cs.LG",),
           published="2025-01-02", **extra):
    return PaperRecord(
        arxiv_id=arxiv_id,
        title=title,
        abstract=abstract or f"Filler text about nothing in particular for {arxiv_id}.",
        authors=list(authors),
        categories=list(categories),
        published_at=dt.datetime.fromisoformat(published).replace(tzinfo=dt.UTC),
        **extra,
    )


def add(*records, **kwargs):
    store.import_records(list(records), **kwargs)


def found(text, limit=50, **kwargs):
    """arXiv ids of the lexical hits for `text`, best first."""
    hits = lexical.search(parse(text), limit, **kwargs)
    by_pk = dict(Paper.objects.filter(pk__in=[h.paper_id for h in hits]).values_list("pk", "arxiv_id"))
    return [by_pk[h.paper_id] for h in hits]


@pytest.fixture
def library():
    add(
        record("2501.00001", "Sparse attention for long documents",
               "We make transformers cheaper on long inputs.", authors=("Yann LeCun", "Ada Lovelace"),
               categories=("cs.CL", "cs.LG"), published="2025-01-10"),
        record("2501.00002", "A study of recurrent networks",
               "Unlike attention, recurrence keeps a state. We compare both on long documents.",
               authors=("Geoffrey Hinton",), categories=("cs.LG",), published="2024-06-01"),
        record("2501.00003", "Graph neural networks for molecules",
               "A survey of message passing on molecular graphs.", authors=("Marie Curie",),
               categories=("q-bio.BM", "cs.LG"), published="2023-03-15", github_repo="https://github.com/x/gnn"),
        record("2501.00004", "Neural networks on graphs of molecules, revisited",
               "We revisit graph neural models.", authors=("Yann Dauphin",), categories=("stat.ML",),
               published="2025-02-20"),
        record("2501.00005", "Diffusion models beat GANs",
               "Denoising diffusion for image synthesis; no attention needed.", authors=("Prafulla Dhariwal",),
               categories=("cs.CV",), published="2021-05-11"),
    )


def test_a_title_match_ranks_above_an_abstract_only_match(library):
    assert found("attention")[0] == "2501.00001"  # in its title; the other two only in their abstracts
    assert set(found("attention")) == {"2501.00001", "2501.00002", "2501.00005"}
    assert found("lecun") == ["2501.00001"]  # authors are searched too


def test_title_weight_beats_repetition_in_a_short_abstract(db):
    add(record("2502.00011", "Quasars", "Bright things."),
        record("2502.00012", "Bright things", "Quasars, quasars and more quasars."),
        record("2502.00013", "Other", "Written by someone.", authors=("Quasar Smith",)))
    assert found("quasar") == ["2502.00011", "2502.00013", "2502.00012"]  # title > authors > abstract


def test_papers_with_every_word_in_any_field_come_first(library):
    hits = found("attention long documents")
    assert hits[0] == "2501.00001"
    assert set(hits[:2]) == {"2501.00001", "2501.00002"}  # every word, in title, authors or abstract
    assert hits[2:] == ["2501.00005"]  # then papers with only some of the words
    assert found("lecun sparse") == ["2501.00001"]  # an author and a title word


def test_when_no_paper_has_every_word_papers_with_the_rarer_words_are_found(library):
    assert lexical.search(parse("attention molecules"), 10, sort="newest") == []  # exact sets stay strict
    hits = found("attention molecules")
    assert set(hits) == {"2501.00001", "2501.00002", "2501.00003", "2501.00004", "2501.00005"}
    assert set(hits[:2]) == {"2501.00003", "2501.00004"}  # "molecules" is the rarer word: higher IDF


def test_a_relaxed_search_leaves_out_stop_words_and_words_too_common_to_be_cheap(library, monkeypatch):
    assert lexical.selective_words(parse("the attention of molecules")) == ["molecules", "attention"]
    monkeypatch.setattr(relaxed, "ANY_POSTINGS", 2)  # "attention" is in 3 papers, "molecules" in 2
    assert lexical.selective_words(parse("attention molecules")) == ["molecules"]
    assert set(found("attention molecules")) == {"2501.00003", "2501.00004"}
    assert lexical.selective_words(parse("attention")) == []  # one word: nothing to relax


def test_page_two_of_a_relaxed_search_continues_page_one(library):
    first = found("attention long documents", limit=2)
    second = [h for h in found("attention long documents", limit=2, offset=2)]
    assert first + second == found("attention long documents")


def test_words_match_their_other_forms(library):
    assert "2501.00002" in found("recurrent network")  # networks
    assert "2501.00003" in found("molecule")


def test_phrases_need_the_words_adjacent_and_in_order(library):
    assert found('"graph neural networks"') == ["2501.00003"]
    assert found('"neural graph"') == []
    assert set(found("graph neural")) == {"2501.00003", "2501.00004"}


def test_exclusions_remove_papers(library):
    assert set(found("attention -recurrence")) == {"2501.00001", "2501.00005"}
    assert found('graph -"message passing"') == ["2501.00004"]
    assert set(found("-attention cat:cs.LG")) == {"2501.00003"}  # only exclusions and a filter


def test_author_filter(library):
    assert found("author:lecun") == ["2501.00001"]
    assert set(found("author:yann")) == {"2501.00001", "2501.00004"}
    assert found('author:"yann lecun"') == ["2501.00001"]
    assert found('author:"Yann Hinton"') == []  # the words must be in one author's name
    assert found("graph author:dauphin") == ["2501.00004"]
    assert found("author:100%_") == []


def test_category_filter(library):
    assert set(found("cat:cs.LG")) == {"2501.00001", "2501.00002", "2501.00003"}
    assert found("cat:stat.ML graph") == ["2501.00004"]
    assert set(found("graph cat:stat.ML cat:q-bio.BM")) == {"2501.00003", "2501.00004"}  # any of them
    assert set(found("cat:cs.lg attention")) == {"2501.00001", "2501.00002"}  # case does not matter
    assert set(found("cat:q-bio")) == {"2501.00003"}  # a whole archive
    assert set(found("cat:cs")) == {"2501.00001", "2501.00002", "2501.00003", "2501.00005"}


def test_date_filters(library):
    assert set(found("attention after:2024-06-01")) == {"2501.00001", "2501.00002"}  # inclusive
    assert found("attention after:2024-06-02") == ["2501.00001"]
    assert set(found("attention before:2024-06-01")) == {"2501.00002", "2501.00005"}
    assert found("attention before:2024-05-31") == ["2501.00005"]
    assert found("year:2024") == ["2501.00002"]
    assert found("graph year:2023") == ["2501.00003"]
    assert found("attention after:2025 before:2024") == []


def test_has_code_filter(library):
    assert found("graph has:code") == ["2501.00003"]


def test_filters_only_list_the_newest_first(library):
    assert found("cat:cs.LG") == ["2501.00001", "2501.00002", "2501.00003"]


def test_sorts(library):
    Paper.objects.filter(arxiv_id="2501.00005").update(upvotes=9)
    Paper.objects.filter(arxiv_id="2501.00002").update(upvotes=3)
    assert found("attention", sort="newest") == ["2501.00001", "2501.00002", "2501.00005"]
    assert found("attention", sort="upvotes") == ["2501.00005", "2501.00002", "2501.00001"]


def test_upvotes_only_break_ties(library):
    add(record("2502.00001", "Twin", "Same words."), record("2502.00002", "Twin", "Same words."))
    Paper.objects.filter(arxiv_id="2502.00002").update(upvotes=5)
    assert found("twin") == ["2502.00002", "2502.00001"]
    Paper.objects.filter(arxiv_id="2502.00001").update(upvotes=50)
    assert found("twin") == ["2502.00001", "2502.00002"]
    # ...but never lift a worse match: a title match with no votes stays above an abstract match with many.
    Paper.objects.filter(arxiv_id="2501.00002").update(upvotes=1000)
    assert found("attention")[0] == "2501.00001"


@pytest.mark.parametrize(
    "text",
    ['"', '""', "AND (", "OR", "NOT", "NEAR(a b)", "title:x", "*", "a*", "^a", "a + b", "(a", "a)", '"a" AND "b"',
     "{title}: a", "col:umn", "'; DROP TABLE papers_paper; --", "-", "- -", '-"', "a -b -", "\x00", "\u200b", "é",
     "attention*", "attention OR recurrence", "&", "!", "a & !b", "a:*", "<mark>"],
)
def test_search_syntax_characters_never_crash(library, text):
    hits = lexical.search(parse(text), 10)
    assert isinstance(hits, list)
    hybrid.search(parse(text), 10)
    lexical.highlights(parse(text), [h.paper_id for h in hits])
    assert Paper.objects.count() == 5


def test_operators_are_searched_as_words(library):
    assert lexical.fts_match(parse("attention OR molecules")) == '"attention" AND "molecules"'  # a stop word
    assert lexical.search(parse("attention OR molecules"), 10, sort="newest") == []  # not a union
    assert lexical.fts_match(parse("to be or not")) == '"to" AND "be" AND "or" AND "not"'  # all stop words: kept
    assert lexical.search(parse("NEAR(attention documents)"), 10, sort="newest") == []
    assert found("NEAR(attention documents)")[0] == "2501.00001"  # no syntax error: words, relaxed


def test_the_index_follows_an_updated_title(library):
    assert found("sparse") == ["2501.00001"]
    add(record("2501.00001", "Dense retrieval for long documents", "We make transformers cheaper on long inputs.",
               authors=("Yann LeCun", "Ada Lovelace"), categories=("cs.CL", "cs.LG"), published="2025-01-10",
               version=2))
    assert found("sparse") == []
    assert found("dense retrieval") == ["2501.00001"]
    assert lexical.LexicalIndexer().pending() == 0


def test_the_index_follows_new_authors(library):
    add(record("2501.00005", "Diffusion models beat GANs", "Denoising diffusion for image synthesis; no attention needed.",
               authors=("Alex Nichol",), categories=("cs.CV",), published="2021-05-11"))
    assert found("author:nichol") == ["2501.00005"]
    assert found("dhariwal") == []
    assert found("nichol") == ["2501.00005"]


def test_hidden_papers_never_appear(library):
    Paper.objects.filter(arxiv_id="2501.00001").update(hidden=True)
    freshness.changed()
    assert set(found("attention")) == {"2501.00002", "2501.00005"}
    assert "2501.00001" not in found("cat:cs.CL")
    assert found("2501.00001") == []
    pk = Paper.objects.get(arxiv_id="2501.00001").pk
    assert pk not in lexical.filter_ids(parse("attention"), [pk])
    assert "2501.00001" not in [h.paper_id for h in hybrid.search(parse("attention"), 10)]


def test_many_hidden_papers_ranked_first_do_not_hide_the_visible_ones(db):
    add(*[record(f"2508.{i:05d}", f"Zeta zeta paper {i}", "Zeta.") for i in range(1, 81)],
        record("2508.00099", "Something else", "Mentions zeta once, in a long abstract about other things."))
    Paper.objects.filter(arxiv_id__startswith="2508.000").exclude(arxiv_id="2508.00099").update(hidden=True)
    assert found("zeta", limit=1) == ["2508.00099"]
    assert found("zeta") == ["2508.00099"]


def test_an_arxiv_id_query_finds_that_paper(library):
    assert found("https://arxiv.org/abs/2501.00003v2") == ["2501.00003"]
    assert found("2501.09999") == []


def test_highlights_mark_matches_and_escape_everything_else(library):
    add(record("2503.00001", "<script>alert(1)</script> attention & friends",
               'An abstract with "quotes", <b>tags</b> and attention.'))
    pk = Paper.objects.get(arxiv_id="2503.00001").pk
    snip = lexical.highlights(parse("attention"), [pk])[pk]
    assert "<script>" not in snip.title and "&lt;script&gt;" in snip.title
    assert "<mark>attention</mark>" in snip.title
    # (PostgreSQL's ts_headline drops tag-like text from excerpts; SQLite keeps it, escaped.)
    assert "<b>" not in snip.excerpt and "<mark>attention</mark>" in snip.excerpt


def test_marked_html_is_balanced_even_with_stray_markers():
    text = f"a {lexical.CLOSE}b {lexical.OPEN}c{lexical.OPEN} <i> d"
    assert str(lexical.marked_html(text)) == "a b <mark>c &lt;i&gt; d</mark>"


def test_prefix_matching_for_search_as_you_type(library):
    assert found("molec") == []
    assert found("molec", prefix=True) == ["2501.00003", "2501.00004"]
    assert found("gr", prefix=True) == []  # too short to expand


def test_filter_ids_applies_filters_and_exclusions(library):
    pks = dict(Paper.objects.values_list("arxiv_id", "pk"))
    keep = lexical.filter_ids(parse("anything -recurrence cat:cs.LG"), pks.values())
    assert keep == {pks["2501.00001"], pks["2501.00003"]}


# ---- Indexing ----------------------------------------------------------------------------------------------


def test_rebuild_then_run_indexes_everything_again(library):
    indexer = lexical.LexicalIndexer()
    assert indexer.pending() == 0
    indexer.rebuild()
    assert indexer.pending() == 5 and found("attention") == []
    assert indexer.run(batch_size=2) == 5
    assert indexer.pending() == 0 and found("attention")[0] == "2501.00001"


def test_an_interrupted_run_resumes_where_it_stopped(library):
    add(*[record(f"2504.{i:05d}", f"Resumable paper {i}", "Batches commit one by one.") for i in range(1, 8)])
    indexer = lexical.LexicalIndexer()
    indexer.rebuild()
    assert indexer.pending() == 12
    calls = []

    def stop_after_two_batches(done):
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        indexer.run(batch_size=3, progress=stop_after_two_batches)
    assert calls == [3, 6]
    assert indexer.pending() == 6  # the two committed batches stay indexed
    assert indexer.run(batch_size=3) == 6
    assert indexer.pending() == 0
    assert len(found("resumable")) == 7 and len(found("cat:cs.LG")) == 10


def test_big_import_runs_leave_new_papers_for_paperboard_index(library, monkeypatch):
    monkeypatch.setattr(indexer, "INLINE_SYNC_LIMIT", 3)
    add(*[record(f"2505.{i:05d}", f"Bulk paper {i}") for i in range(1, 6)], batch_size=2)
    assert len(found("bulk")) == 3
    assert lexical.LexicalIndexer().pending() == 2
    # Over the budget, papers already in the index are still re-indexed when their text changes.
    monkeypatch.setattr(indexer, "INLINE_SYNC_LIMIT", 0)
    add(record("2501.00002", "A study of gated recurrent networks",
               "Unlike attention, recurrence keeps a state. We compare both on long documents.",
               authors=("Geoffrey Hinton",), categories=("cs.LG",), published="2024-06-01"))
    assert found("gated") == ["2501.00002"]
    assert lexical.LexicalIndexer().run() == 2
    assert len(found("bulk")) == 5


def test_papers_written_outside_the_importer_are_caught_up_by_the_indexer(library):
    Paper.objects.create(arxiv_id="2506.00001", title="Created by hand about zebras", abstract="Stripes.")
    assert found("zebras") == []
    assert lexical.LexicalIndexer().pending() == 1
    lexical.LexicalIndexer().run()
    assert found("zebras") == ["2506.00001"]
    p = Paper.objects.get(arxiv_id="2506.00001")
    p.title = "Edited in the admin about giraffes"
    p.save()  # `modified` changes, so the paper is pending again
    assert lexical.LexicalIndexer().pending() == 1
    lexical.LexicalIndexer().run()
    assert found("giraffes") == ["2506.00001"] and found("zebras") == []


def test_deleted_papers_leave_no_trace(library):
    Paper.objects.filter(arxiv_id="2501.00005").delete()
    assert found("diffusion") == []
    indexer = lexical.LexicalIndexer()
    assert indexer.remove_orphans() == 1
    assert indexer.pending() == 0


# ---- Hybrid ------------------------------------------------------------------------------------------------


def test_hybrid_equals_lexical_without_a_semantic_module(library, monkeypatch):
    monkeypatch.setitem(sys.modules, "paperboard.search.semantic", None)  # import fails
    q = parse("attention")
    assert [h.paper_id for h in hybrid.search(q, 10)] == [h.paper_id for h in lexical.search(q, 10)]
    assert all(h.source == "hybrid" for h in hybrid.search(q, 10))


def test_hybrid_equals_lexical_when_semantic_fails(library, monkeypatch):
    import types

    broken = types.ModuleType("paperboard.search.semantic")

    def search(text, limit):
        raise RuntimeError("no model")

    broken.search = search
    monkeypatch.setitem(sys.modules, "paperboard.search.semantic", broken)
    q = parse("graph")
    assert [h.paper_id for h in hybrid.search(q, 10)] == [h.paper_id for h in lexical.search(q, 10)]


def test_rrf_fuses_both_rankings(library, monkeypatch):
    pks = dict(Paper.objects.values_list("arxiv_id", "pk"))
    # Semantic "finds" the diffusion paper first (no shared word), then the second attention paper.
    monkeypatch.setattr(hybrid, "semantic_search", lambda text, limit, vector=None: [
        Hit(pks["2501.00004"], 0.9, "semantic"), Hit(pks["2501.00002"], 0.8, "semantic")])
    lex = [h.paper_id for h in lexical.search(parse("attention"), 10)]
    assert lex[0] == pks["2501.00001"] and set(lex) == {pks["2501.00001"], pks["2501.00002"], pks["2501.00005"]}
    hits = hybrid.search(parse("attention"), 10)
    expected = {pid: 1 / (hybrid.RRF_K + rank) for rank, pid in enumerate(lex, start=1)}
    for rank, pid in enumerate([pks["2501.00004"], pks["2501.00002"]], start=1):
        expected[pid] = expected.get(pid, 0.0) + 1 / (hybrid.RRF_K + rank)
    assert {h.paper_id: h.score for h in hits} == pytest.approx(expected)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # 02 is in both lists, so it beats the top of either list alone.
    assert hits[0].paper_id == pks["2501.00002"] and all(h.source == "hybrid" for h in hits)
    assert hybrid.rrf([[Hit(1, 0, "x"), Hit(2, 0, "x")]], k=60) == {1: 1 / 61, 2: 1 / 62}


def test_hybrid_knobs_weights_and_depth(library, monkeypatch):
    pks = dict(Paper.objects.values_list("arxiv_id", "pk"))
    asked = []

    def fake(text, limit, vector=None):
        asked.append(limit)
        return [Hit(pks["2501.00004"], 0.9, "semantic"), Hit(pks["2501.00002"], 0.8, "semantic")]

    monkeypatch.setattr(hybrid, "semantic_search", fake)
    q = parse("attention")
    lex = [h.paper_id for h in lexical.search(q, 10)]
    assert [h.paper_id for h in hybrid.search(q, 10, semantic_weight=0)] == lex and asked == []
    hits = hybrid.search(q, 10, semantic_weight=3.0, lexical_weight=0.5)
    expected = {pid: 0.5 / (hybrid.RRF_K + r) for r, pid in enumerate(lex, start=1)}
    expected[pks["2501.00004"]] = 3 / (hybrid.RRF_K + 1)
    expected[pks["2501.00002"]] += 3 / (hybrid.RRF_K + 2)
    assert {h.paper_id: h.score for h in hits} == pytest.approx(expected)
    assert [h.paper_id for h in hits][:2] == [pks["2501.00002"], pks["2501.00004"]]
    hybrid.search(q, 5, candidates=7)
    assert asked[-1] == 7
    assert hybrid.rrf([[Hit(1, 0, "x")], [Hit(1, 0, "y")]], k=10, weights=[1, 0.5]) == {1: pytest.approx(1.5 / 11)}


def test_rrf_ties_go_to_upvotes_then_recency(library, monkeypatch):
    pks = dict(Paper.objects.values_list("arxiv_id", "pk"))
    monkeypatch.setattr(hybrid, "semantic_search", lambda text, limit, vector=None: [Hit(pks["2501.00004"], 0.9, "semantic")])
    Paper.objects.filter(arxiv_id="2501.00004").update(upvotes=10)
    ranked = [h.paper_id for h in hybrid.search(parse("attention"), 10)]
    assert ranked[:2] == [pks["2501.00004"], pks["2501.00001"]]  # both 1/61: more upvotes first


def test_semantic_hits_obey_the_filters(library, monkeypatch):
    pks = dict(Paper.objects.values_list("arxiv_id", "pk"))
    monkeypatch.setattr(hybrid, "semantic_search", lambda text, limit, vector=None: [
        Hit(pks["2501.00005"], 0.9, "semantic"), Hit(pks["2501.00004"], 0.8, "semantic")])
    ranked = [h.paper_id for h in hybrid.search(parse("attention cat:cs.LG"), 10)]
    assert pks["2501.00005"] not in ranked and pks["2501.00004"] not in ranked
    ranked = [h.paper_id for h in hybrid.search(parse("attention -synthesis"), 10)]
    assert pks["2501.00005"] not in ranked and pks["2501.00004"] in ranked


def test_other_sorts_use_the_lexical_set(library, monkeypatch):
    pks = dict(Paper.objects.values_list("arxiv_id", "pk"))
    monkeypatch.setattr(hybrid, "semantic_search", lambda text, limit, vector=None: [Hit(pks["2501.00004"], 0.9, "semantic")])
    ranked = [h.paper_id for h in hybrid.search(parse("attention"), 10, sort="newest")]
    assert ranked == [pks["2501.00001"], pks["2501.00002"], pks["2501.00005"]]


def test_search_loads_the_cards_of_its_hits_with_the_feed_day_and_the_hit_in_order(library, alice):
    from tests.conftest import put_on_feed

    pks = dict(Paper.objects.values_list("arxiv_id", "pk"))
    put_on_feed(Paper.objects.get(arxiv_id="2501.00001"), "2025-01-10", user=alice)
    Paper.objects.filter(arxiv_id="2501.00005").update(hidden=True)
    hits = [Hit(pks[a], 1.0 / (i + 1), "hybrid") for i, a in enumerate(["2501.00003", "2501.00001", "2501.00005",
                                                                         "2501.00004"])]
    papers = service.load(hits + [Hit(987654321, 0.1, "hybrid")])  # a hidden and a vanished paper are left out
    assert [p.arxiv_id for p in papers] == ["2501.00003", "2501.00001", "2501.00004"]
    first = papers[1]
    assert first.author_names == ["Yann LeCun", "Ada Lovelace"] and first.category_codes == ["cs.CL", "cs.LG"]
    assert first.feed_submission.day == dt.date(2025, 1, 10) and first.feed_submission.submitter.username == alice.username
    assert first.hit == hits[1] and papers[0].feed_submission is None
    assert papers[0].category_codes == ["q-bio.BM", "cs.LG"] and papers[0].published_at.tzinfo is not None
    assert service.load([]) == []
