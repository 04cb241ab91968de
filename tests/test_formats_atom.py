"""arXiv API Atom responses: parsing, paging numbers, errors, detection and import."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from paperboard.ingest import formats, store
from paperboard.ingest.formats import atom
from paperboard.ingest.records import PaperRecord, Rejected
from tests.conftest import copy_fixture

FIXTURES = Path(__file__).parent / "fixtures"
PAGE1 = FIXTURES / "arxiv_api_page1.atom.xml"
PAGE2 = FIXTURES / "arxiv_api_page2.atom.xml"
EMPTY = FIXTURES / "arxiv_api_empty.atom.xml"
ERROR = FIXTURES / "arxiv_api_error.atom.xml"

UTC = dt.UTC


def feed(*entries: str) -> bytes:
    body = "".join(entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">'
        f"{body}</feed>"
    ).encode()


def entry(id_: str = "http://arxiv.org/abs/2501.00001v1", title: str = "A Title", extra: str = "") -> str:
    return (
        f"<entry><id>{id_}</id><published>2025-01-02T03:04:05Z</published>"
        f"<updated>2025-01-02T03:04:05Z</updated><title>{title}</title><summary>Abstract.</summary>"
        f"<author><name>Ada Lovelace</name></author>{extra}</entry>"
    )


def test_it_reads_every_field_of_an_arxiv_api_entry():
    page = atom.parse_feed(PAGE1.read_bytes(), PAGE1.name)
    first = page.records[0]
    assert isinstance(first, PaperRecord)
    assert first.arxiv_id == "2501.07815"
    assert first.version == 2
    assert (
        first.title
        == "Sparse Mixture-of-Experts Routing with Load-Aware Token Dropping for Efficient Pretraining"
    )
    assert first.abstract.startswith(
        "Sparse mixture-of-experts (MoE) layers scale model capacity at a roughly constant"
    )
    assert "\n" not in first.abstract
    assert first.authors == ["Mei-Ling Chen", "Jonas Weber", "Priya Raman"]
    assert first.published_at == dt.datetime(2025, 1, 14, 18, 47, 3, tzinfo=UTC)
    assert first.updated_at == dt.datetime(2025, 1, 20, 16, 2, 11, tzinfo=UTC)
    assert first.comment == "v2: fixed Table 3; 14 pages, 6 figures"


def test_it_puts_the_primary_category_first_and_drops_non_arxiv_classes():
    records = atom.parse_feed(PAGE1.read_bytes(), PAGE1.name).records
    # <category> lists cs.CL, cs.LG, I.2.6 (an ACM class); arxiv:primary_category says cs.LG.
    assert records[0].categories == ["cs.LG", "cs.CL"]
    assert records[1].categories == ["cs.CL", "cs.AI"]


def test_it_reads_doi_and_journal_ref_and_keeps_authors_with_accents():
    records = atom.parse_feed(PAGE1.read_bytes(), PAGE1.name).records
    assert records[1].authors == ["Sofia Álvarez", "Daniel O'Connor"]
    assert records[2].doi == "10.1109/TNNLS.2025.0012345"
    assert records[2].journal_ref == "IEEE Trans. Neural Netw. Learn. Syst. 36 (2025) 1-12"


def test_it_leaves_updated_empty_for_an_unrevised_paper():
    record = atom.parse_feed(PAGE1.read_bytes(), PAGE1.name).records[1]
    assert record.version == 1
    assert record.published_at == dt.datetime(2025, 1, 14, 14, 21, 40, tzinfo=UTC)
    assert record.updated_at is None


def test_it_reports_the_opensearch_paging_numbers():
    page1 = atom.parse_feed(PAGE1.read_bytes(), PAGE1.name)
    page2 = atom.parse_feed(PAGE2.read_bytes(), PAGE2.name)
    assert (page1.total_results, page1.start_index, page1.items_per_page) == (5, 0, 3)
    assert (page2.total_results, page2.start_index, page2.items_per_page) == (5, 3, 3)
    assert [r.arxiv_id for r in page2.records] == ["2501.07211", "2501.07099"]
    assert page2.records[0].version == 3
    assert page1.error is None and not page1.malformed


def test_an_empty_result_has_no_records_and_zero_total():
    page = atom.parse_feed(EMPTY.read_bytes(), EMPTY.name)
    assert page.records == []
    assert page.total_results == 0
    assert page.error is None


def test_it_rejects_the_api_error_entry_with_its_message():
    page = atom.parse_feed(ERROR.read_bytes(), ERROR.name)
    assert page.records == [
        Rejected(ERROR.name, "entry 1", "arXiv API error: incorrect id format for 1234.12345")
    ]
    assert page.error == "incorrect id format for 1234.12345"


def test_malformed_xml_becomes_a_file_rejection_after_the_entries_before_it():
    data = PAGE1.read_bytes()
    truncated = data[: data.index(b"<entry>", data.index(b"<entry>") + 1) + 60]  # cut inside entry 2
    items = list(atom.parse(io.BytesIO(truncated), "cut.xml"))
    assert isinstance(items[0], PaperRecord) and items[0].arxiv_id == "2501.07815"
    assert isinstance(items[-1], Rejected)
    assert items[-1].where == "file"
    assert "not well-formed XML" in items[-1].reason
    page = atom.parse_feed(b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "cut.xml")
    assert page.malformed and page.error


def test_it_rejects_a_document_that_is_not_an_atom_feed():
    items = list(atom.parse(io.BytesIO(b"<html><body>Service Unavailable</body></html>"), "x.xml"))
    assert len(items) == 1 and items[0].where == "file"
    assert "not an Atom feed" in items[0].reason


def test_it_rejects_bad_entries_with_a_reason_and_goes_on():
    data = feed(
        entry("http://arxiv.org/abs/not-an-id"),
        entry("http://arxiv.org/abs/2501.00002v1", title="  "),
        entry("", title="No id"),
        entry("http://arxiv.org/abs/2501.00004v1", extra="<published>yesterday</published>").replace(
            "<published>2025-01-02T03:04:05Z</published>", ""
        ),
        entry("https://arxiv.org/abs/2501.00005v4", title="Fine"),
    )
    items = list(atom.parse(io.BytesIO(data), "bad.xml"))
    assert [type(i).__name__ for i in items] == ["Rejected"] * 4 + ["PaperRecord"]
    assert items[0] == Rejected(
        "bad.xml", "entry 1", "not an arXiv abs URL or id: 'http://arxiv.org/abs/not-an-id'"
    )
    assert items[1].where == "entry 2" and items[1].reason == "2501.00002: missing title"
    assert items[2].reason == "entry has no <id>"
    assert items[3].reason.startswith("2501.00004: bad date")
    assert (items[4].arxiv_id, items[4].version) == ("2501.00005", 4)


def test_it_reads_old_style_ids():
    data = feed(entry("http://arxiv.org/abs/hep-th/9901001v2"))
    (record,) = atom.parse(io.BytesIO(data), "old.xml")
    assert (record.arxiv_id, record.version) == ("hep-th/9901001", 2)


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzipped"])
def test_parse_file_detects_atom_in_plain_and_gzipped_files(tmp_path, gzipped):
    path = copy_fixture(PAGE1, tmp_path, gzipped=gzipped)
    assert formats.detect(PAGE1.read_bytes()[:8192]) == "atom"
    records = list(formats.parse_file(path))
    assert [r.arxiv_id for r in records] == ["2501.07815", "2501.07702", "2501.07346"]
    assert all(isinstance(r, PaperRecord) for r in records)


@pytest.mark.django_db
def test_importing_both_pages_twice_writes_nothing_the_second_time():
    from paperboard.papers.models import Paper

    items = [*formats.parse_file(PAGE1), *formats.parse_file(PAGE2)]
    first = store.import_records(items)
    assert (first.new, first.updated, first.unchanged, first.rejected) == (5, 0, 0, 0)
    paper = Paper.objects.get(arxiv_id="2501.07815")
    assert paper.version == 2
    assert paper.primary_category == "cs.LG"
    assert list(paper.authors.values_list("name", flat=True)) == [
        "Mei-Ling Chen",
        "Jonas Weber",
        "Priya Raman",
    ]
    assert list(paper.categories.values_list("code", flat=True)) == ["cs.LG", "cs.CL"]

    again = store.import_records([*formats.parse_file(PAGE1), *formats.parse_file(PAGE2)])
    assert (again.new, again.updated, again.unchanged) == (0, 0, 5)


@pytest.mark.django_db
def test_importing_the_error_feed_counts_one_rejection():
    rejected = []
    stats = store.import_records(formats.parse_file(ERROR), on_reject=rejected.append)
    assert (stats.new, stats.rejected) == (0, 1)
    assert "incorrect id format" in rejected[0].reason
