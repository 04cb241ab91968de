"""The search query language (`paperboard.search.query`): pure parsing, no database."""

import datetime as dt

import pytest

from paperboard.search.query import Query, arxiv_id, parse, parse_date, to_text

D = dt.date


def test_plain_words_are_terms_in_order():
    q = parse("  deep   learning for graphs ")
    assert q.terms == ("deep", "learning", "for", "graphs")
    assert q.phrases == q.excluded == q.authors == q.categories == ()
    assert q.after is None and q.before is None and not q.has_code
    assert q.raw == "  deep   learning for graphs "
    assert q.text == "deep learning for graphs"


def test_quoted_phrases_keep_their_words_together():
    q = parse('"graph neural network" pooling "large  language   model"')
    assert q.phrases == ("graph neural network", "large language model")
    assert q.terms == ("pooling",)


def test_a_quoted_single_word_is_just_a_word():
    assert parse('"attention"').terms == ("attention",)


def test_minus_excludes_words_and_phrases():
    q = parse('transformers -survey -"large language" -BERT')
    assert q.terms == ("transformers",)
    assert q.excluded == ("survey", "large language", "BERT")


def test_a_hyphen_inside_a_word_is_not_an_exclusion():
    q = parse("state-of-the-art GPT-4 - x")
    assert q.terms == ("state-of-the-art", "GPT-4", "x")
    assert q.excluded == ()


@pytest.mark.parametrize(
    "text, authors",
    [
        ('author:"Yann LeCun"', ("Yann LeCun",)),
        ("author:lecun", ("lecun",)),
        ("au:hinton author:bengio", ("hinton", "bengio")),
        ('AUTHOR:"Geoffrey  Hinton"', ("Geoffrey Hinton",)),
    ],
)
def test_author_filters(text, authors):
    q = parse(text)
    assert q.authors == authors
    assert q.terms == ()


def test_categories_any_of_and_whole_archives():
    q = parse("cat:cs.LG category:stat.ML cat:cs cat:hep-th")
    assert q.categories == ("cs.LG", "stat.ML", "cs", "hep-th")


@pytest.mark.parametrize(
    "text, after, before",
    [
        ("after:2025-01-01", D(2025, 1, 1), None),
        ("before:2025-03-07", None, D(2025, 3, 7)),
        ("after:2024 before:2024-06", D(2024, 1, 1), D(2024, 6, 30)),
        ("before:2024-02", None, D(2024, 2, 29)),  # the last day of the month named, inclusive
        ("year:2024", D(2024, 1, 1), D(2024, 12, 31)),
        ("year:2024 after:2024-05-01", D(2024, 5, 1), D(2024, 12, 31)),  # filters narrow, never widen
        ("after:2023 after:2024-02-02", D(2024, 2, 2), None),
        ("since:2025-1-5 until:2025-2", D(2025, 1, 5), D(2025, 2, 28)),
    ],
)
def test_date_filters(text, after, before):
    q = parse(text)
    assert (q.after, q.before) == (after, before)
    assert q.terms == ()


def test_has_code():
    assert parse("diffusion has:code").has_code
    assert parse("has:github").has_code
    assert parse("has:wings").terms == ("has:wings",)


@pytest.mark.parametrize(
    "text, terms",
    [
        ("after:2024-13-45 robots", ("after:2024-13-45", "robots")),  # a bad date is a plain word
        ("before:yesterday", ("before:yesterday",)),
        ("year:24", ("year:24",)),
        ("cat:cs.LG.extra", ("cat:cs.LG.extra",)),
        ("cat:123", ("cat:123",)),
        ("title:attention", ("title:attention",)),  # an unknown field stays a word
        ("http://example.org/x", ("http://example.org/x",)),
        ("author:", ("author:",)),
    ],
)
def test_what_does_not_parse_stays_a_plain_word(text, terms):
    assert parse(text).terms == terms


@pytest.mark.parametrize(
    "text, terms, phrases",
    [
        ('"deep learning', ("deep", "learning"), ()),  # an unbalanced quote is dropped
        ('deep learning"', ("deep", "learning"), ()),
        ('"a b" "c d', ("c", "d"), ("a b",)),
        ('-"open', ("open",), ()),
        ('foo"bar baz"', ("foo",), ("bar baz",)),
    ],
)
def test_unbalanced_quotes_degrade_to_words(text, terms, phrases):
    q = parse(text)
    assert q.terms == terms and q.phrases == phrases


def test_an_unbalanced_author_quote_keeps_the_first_word_as_the_author():
    q = parse('author:"Yann LeCun')
    assert q.authors == ("Yann",) and q.terms == ("LeCun",)


@pytest.mark.parametrize("text", ['"', '""', "-", "--", '-"', "AND (", "((", ")", "*", "^", "NEAR(", "   ", "", None,
                                  '"\'', "\x00", "a:b:c", ":", "-:", 'author:""', "cat:", "\\"])
def test_nothing_raises(text):
    q = parse(text)
    assert isinstance(q, Query)
    assert all(any(ch.isalnum() for ch in t) for t in (*q.terms, *q.phrases, *q.excluded))


def test_punctuation_only_parts_are_dropped():
    assert parse('"" ( ) -- "  "').is_empty
    assert parse("AND (").terms == ("AND",)


def test_everything_together():
    q = parse('"diffusion model" video -survey author:"Jonathan Ho" cat:cs.CV cat:cs.LG after:2022 before:2024-06 has:code')
    assert q.phrases == ("diffusion model",)
    assert q.terms == ("video",)
    assert q.excluded == ("survey",)
    assert q.authors == ("Jonathan Ho",)
    assert q.categories == ("cs.CV", "cs.LG")
    assert (q.after, q.before) == (D(2022, 1, 1), D(2024, 6, 30))
    assert q.has_code and q.has_filters and q.has_text and not q.is_empty


def test_duplicates_are_kept_once():
    assert parse("graph Graph graph").terms == ("graph",)


def test_an_inverted_date_range_is_impossible_not_an_error():
    q = parse("after:2025 before:2024")
    assert q.impossible


def test_very_long_input_is_cut():
    q = parse("word " * 1000)
    assert len(q.raw) == 5000 and q.terms == ("word",)
    many = parse(" ".join(f"w{i}" for i in range(100)))
    assert len(many.terms) == 32


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2305.15717", "2305.15717"),
        ("2305.15717v3", "2305.15717"),
        ("arXiv:2305.15717", "2305.15717"),
        ("  2305.15717 ", "2305.15717"),
        ("cs/0610105", "cs/0610105"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("https://arxiv.org/abs/2305.15717", "2305.15717"),
        ("https://arxiv.org/pdf/2305.15717v2", "2305.15717"),
        ("https://arxiv.org/pdf/2305.15717v2.pdf", "2305.15717"),
        ("arxiv.org/abs/2305.15717", "2305.15717"),
        ("http://export.arxiv.org/abs/cs/0610105v1", "cs/0610105"),
        ("https://www.arxiv.org/html/2305.15717v1", "2305.15717"),
        ("https://huggingface.co/papers/2305.15717", "2305.15717"),
        ("https://paperboard.example.org/papers/2305.15717", "2305.15717"),
        ("<https://arxiv.org/abs/2305.15717>", "2305.15717"),
    ],
)
def test_an_arxiv_id_or_url_as_the_whole_query_is_recognised(text, expected):
    assert arxiv_id(text) == expected
    assert parse(text).arxiv_id == expected


@pytest.mark.parametrize(
    "text",
    ["2305.15717 diffusion", "2313.15717", "1501.1234", "attention", "https://example.org/abs/2305.15717",
     "https://arxiv.org/list/cs.LG/recent", "", "12345.67890"],
)
def test_other_queries_are_not_ids(text):
    assert arxiv_id(text) is None
    assert parse(text).arxiv_id is None


def test_parse_date_forms():
    assert parse_date("2024") == D(2024, 1, 1)
    assert parse_date("2024", end=True) == D(2024, 12, 31)
    assert parse_date("2023-02", end=True) == D(2023, 2, 28)
    assert parse_date("2024-02-30") is None
    assert parse_date("2024-00") is None
    assert parse_date("soon") is None


def test_with_filters_narrows_the_query():
    q = parse("robots after:2024-03-01").with_filters(
        after=D(2024, 1, 1), before=D(2024, 6, 30), categories=["cs.RO"], has_code=True
    )
    assert (q.after, q.before) == (D(2024, 3, 1), D(2024, 6, 30))
    assert q.categories == ("cs.RO",) and q.has_code and q.terms == ("robots",)


def test_to_text_round_trips():
    text = 'video "diffusion model" -survey author:"Jonathan Ho" cat:cs.CV after:2022-01-01 before:2024-06-30 has:code'
    q = parse(text)
    again = parse(to_text(q))
    assert (again.terms, again.phrases, again.excluded, again.authors, again.categories, again.after, again.before,
            again.has_code) == (q.terms, q.phrases, q.excluded, q.authors, q.categories, q.after, q.before, q.has_code)
    assert to_text(parse("year:2024")) == "year:2024"


def test_a_query_built_by_hand_from_lists_is_hashable():
    q = Query(terms=["a", "b"], categories=["cs.LG"])
    assert q.terms == ("a", "b") and hash(q)


@pytest.mark.parametrize(
    "typed, canonical",
    [("cs.lg", "cs.LG"), ("CS.LG", "cs.LG"), ("stat.ml", "stat.ML"), ("q-bio.nc", "q-bio.NC"),
     ("physics.Optics", "physics.optics"), ("cond-mat.Mes-Hall", "cond-mat.mes-hall"), ("CS", "cs")],
)
def test_categories_in_any_case_find_arxivs_spelling(typed, canonical):
    from paperboard.search.query import canonical_category

    assert canonical_category(typed) == canonical


def test_control_characters_in_a_query_are_spaces_not_an_error():
    q = parse("graph\x00neural\x07networks")
    assert q.terms == ("graph", "neural", "networks")
