"""OAI-PMH ListRecords responses from arXiv, metadataPrefix arXiv and arXivRaw."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path

import pytest

from paperboard.ingest import formats, store
from paperboard.ingest.formats import oaipmh
from paperboard.ingest.records import PaperRecord, Rejected
from tests.conftest import copy_fixture

FIXTURES = Path(__file__).parent / "fixtures"
ARXIV = FIXTURES / "oai_arxiv.xml"
RAW = FIXTURES / "oai_arxivraw.xml"
UTC = dt.UTC


def envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2025-01-16T04:12:09Z</responseDate>"
        f'<request verb="ListRecords">http://export.arxiv.org/oai2</request>{body}</OAI-PMH>'
    ).encode()


def by_id(items):
    return {i.arxiv_id: i for i in items if isinstance(i, PaperRecord)}


# --- metadataPrefix=arXiv -------------------------------------------------------------------------


def test_it_reads_arxiv_format_records():
    papers = by_id(oaipmh.parse_page(ARXIV.read_bytes(), ARXIV.name).records)
    p = papers["2501.07815"]
    assert (
        p.title
        == "Sparse Mixture-of-Experts Routing with Load-Aware Token Dropping for Efficient Pretraining"
    )
    assert p.authors == ["Mei-Ling Chen", "Jonas Weber", "Priya Raman"]
    assert p.categories == ["cs.LG", "cs.CL"]
    assert p.version is None  # the arXiv format carries no version number
    assert p.published_at == dt.datetime(2025, 1, 14, tzinfo=UTC)
    assert p.updated_at == dt.datetime(2025, 1, 20, tzinfo=UTC)
    assert p.comment == "v2: fixed Table 3; 14 pages, 6 figures"
    assert p.abstract.startswith("Sparse mixture-of-experts (MoE) layers scale")


def test_it_builds_author_names_from_forenames_keyname_and_suffix():
    p = by_id(oaipmh.parse_page(ARXIV.read_bytes(), ARXIV.name).records)["2501.06598"]
    assert p.authors == ["Robert J. Harrington Jr", "Anke van der Berg"]
    assert p.categories == ["math.OC", "cs.LG", "stat.ML"]  # space separated, primary first
    assert p.journal_ref == "SIAM J. Optim. 35 (2025) 101-133"
    assert p.doi == "10.1137/24M1650123"
    assert p.updated_at is None  # never revised: no <updated>


def test_it_reads_old_style_ids_from_oai():
    p = by_id(oaipmh.parse_page(ARXIV.read_bytes(), ARXIV.name).records)["hep-th/9901001"]
    assert p.published_at == dt.datetime(1999, 1, 4, tzinfo=UTC)
    assert p.categories == ["hep-th"]


def test_it_skips_deleted_oai_records():
    items = oaipmh.parse_page(ARXIV.read_bytes(), ARXIV.name).records
    assert "2501.05123" not in by_id(items)
    assert not any("2501.05123" in i.reason for i in items if isinstance(i, Rejected))


def test_it_rejects_a_record_with_a_bad_id_and_keeps_the_rest():
    items = oaipmh.parse_page(ARXIV.read_bytes(), ARXIV.name).records
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert rejected == [Rejected("oai_arxiv.xml", "record 4", "not an arXiv id: '2501.079991'")]
    assert sorted(by_id(items)) == ["2501.06598", "2501.07815", "hep-th/9901001"]


def test_it_returns_the_resumption_token():
    page = oaipmh.parse_page(ARXIV.read_bytes(), ARXIV.name)
    assert page.resumption_token == "7104922|1001"
    assert page.complete_list_size == 5812
    last = oaipmh.parse_page(RAW.read_bytes(), RAW.name)
    assert last.resumption_token is None  # an empty token marks the last page


# --- metadataPrefix=arXivRaw ----------------------------------------------------------------------


def test_it_takes_dates_and_version_from_arxivraw_versions():
    p = by_id(oaipmh.parse_page(RAW.read_bytes(), RAW.name).records)["2501.07211"]
    assert p.version == 3
    assert p.published_at == dt.datetime(2025, 1, 13, 6, 12, 45, tzinfo=UTC)
    assert p.updated_at == dt.datetime(2025, 2, 3, 11, 30, tzinfo=UTC)


def test_a_single_version_arxivraw_record_has_no_updated_date():
    p = by_id(oaipmh.parse_page(RAW.read_bytes(), RAW.name).records)["2502.00417"]
    assert p.version == 1
    assert p.published_at == dt.datetime(2025, 2, 1, 9, 14, 27, tzinfo=UTC)
    assert p.updated_at is None
    assert p.title == "Vision-Language Pretraining on Scientific Figures"
    assert p.categories == ["cs.CV", "cs.CL"]


def test_it_splits_the_arxivraw_author_string_in_order():
    papers = by_id(oaipmh.parse_page(RAW.read_bytes(), RAW.name).records)
    # "A, B, C and D" with a TeX accent in B
    assert papers["2501.07211"].authors == [
        "Amara Okafor",
        "Luis Fernández",
        "Hiroshi Tanaka",
        "Emma Lindqvist",
    ]
    # affiliations in parentheses (with commas inside) are dropped
    assert papers["2502.00417"].authors == ["Kwame Mensah", "Yuki Sato", "Elena Petrova", "Marco Rossi"]
    # Oxford comma
    assert papers["2502.00291"].authors == ["Nadia Haddad", "Oliver Grant", "Wei Zhang"]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("A. One", ["A. One"]),
        ("A. One and B. Two", ["A. One", "B. Two"]),
        (
            'M{\\"u}ller, \\v{S}koda, {\\o}stergaard, Fran\\c{c}ois',
            ["Müller", "Škoda", "østergaard", "François"],
        ),
        (
            "ATLAS Collaboration: G. Aad (CERN and DESY), B. Abbott",
            ["ATLAS Collaboration: G. Aad", "B. Abbott"],
        ),
        ("", []),
    ],
)
def test_split_authors_handles_the_shapes_arxiv_uses(text, names):
    assert oaipmh.split_authors(text) == names


def test_it_rejects_records_in_an_unknown_metadata_format():
    items = oaipmh.parse_page(RAW.read_bytes(), RAW.name).records
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert len(rejected) == 1
    assert rejected[0].where == "record 4"
    assert "unsupported metadata format 'dc'" in rejected[0].reason
    assert "oai:arXiv.org:2502.00388" in rejected[0].reason
    assert sorted(by_id(items)) == ["2501.07211", "2502.00291", "2502.00417"]


# --- envelopes, errors, detection ---------------------------------------------------------------


def test_no_records_match_is_an_empty_answer_not_an_error():
    page = oaipmh.parse_page(envelope('<error code="noRecordsMatch">No records match</error>'), "none.xml")
    assert page.records == [] and page.error is None and page.resumption_token is None


def test_other_oai_errors_become_a_file_rejection():
    page = oaipmh.parse_page(
        envelope(
            '<error code="badResumptionToken">The value of the resumptionToken argument is invalid</error>'
        ),
        "err.xml",
    )
    assert page.records == [
        Rejected(
            "err.xml",
            "file",
            "OAI-PMH error badResumptionToken: The value of the resumptionToken argument is invalid",
        )
    ]
    assert page.error.startswith("OAI-PMH error badResumptionToken")


def test_malformed_oai_xml_keeps_the_records_before_the_break():
    data = ARXIV.read_bytes()
    cut = data[: data.index(b"<record>", data.index(b"<record>") + 1) + 40]
    items = list(oaipmh.parse(io.BytesIO(cut), "cut.xml"))
    assert isinstance(items[0], PaperRecord) and items[0].arxiv_id == "2501.07815"
    assert items[-1].where == "file" and "not well-formed XML" in items[-1].reason


def test_a_record_without_metadata_is_rejected():
    body = (
        "<ListRecords><record><header><identifier>oai:arXiv.org:2501.00001</identifier></header></record>"
        "</ListRecords>"
    )
    (item,) = oaipmh.parse_page(envelope(body), "x.xml").records
    assert item == Rejected("x.xml", "record 1", "oai:arXiv.org:2501.00001: no metadata")


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzipped"])
@pytest.mark.parametrize("fixture", [ARXIV, RAW], ids=["arXiv", "arXivRaw"])
def test_parse_file_detects_oai_pmh_in_plain_and_gzipped_files(tmp_path, fixture, gzipped):
    path = copy_fixture(fixture, tmp_path, gzipped=gzipped)
    assert formats.detect(fixture.read_bytes()[:8192]) == "oai-pmh"
    items = list(formats.parse_file(path))
    assert len(by_id(items)) == 3
    assert sum(isinstance(i, Rejected) for i in items) == 1


@pytest.mark.django_db
def test_importing_oai_files_twice_writes_nothing_the_second_time():
    from paperboard.papers.models import Paper

    def items():
        return [*formats.parse_file(ARXIV), *formats.parse_file(RAW)]

    first = store.import_records(items())
    assert (first.new, first.updated, first.unchanged, first.rejected) == (6, 0, 0, 2)
    raw = Paper.objects.get(arxiv_id="2501.07211")
    assert raw.version == 3
    assert list(raw.authors.values_list("name", flat=True)) == [
        "Amara Okafor",
        "Luis Fernández",
        "Hiroshi Tanaka",
        "Emma Lindqvist",
    ]
    assert Paper.objects.get(arxiv_id="2501.06598").primary_category == "math.OC"
    assert not Paper.objects.filter(arxiv_id__in=["2501.05123", "2502.00001", "2501.079991"]).exists()

    again = store.import_records(items())
    assert (again.new, again.updated, again.unchanged, again.rejected) == (0, 0, 6, 2)


def test_a_truncated_gzipped_oai_file_ends_with_a_file_rejection(tmp_path):
    path = tmp_path / "cut.xml.gz"
    path.write_bytes(gzip.compress(ARXIV.read_bytes())[:-200])
    items = list(formats.parse_file(path))
    assert items[-1].where == "file"
    assert isinstance(items[-1], Rejected)
