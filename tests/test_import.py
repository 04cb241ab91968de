"""The import pipeline: JSONL formats, HF daily-papers JSON, upserts, versions, rejections."""

import gzip
import io
import json

import pytest
from django.core.management import call_command

from paperboard.ingest import formats, store
from paperboard.ingest.formats import jsonl
from paperboard.papers.models import Paper, PaperAuthor, Submission

CORPUS = [
    {"id": "2504.18443", "title": "Planning  with\n heuristics", "abstract": "We plan.", "authors": ["Simon Dold", "Malte Helmert"],
     "categories": ["cs.AI", "cs.LG"], "primary_category": "cs.AI", "published": "2025-04-25", "published_precision": "exact"},
    {"id": "cs/0610105", "title": "An old-style id", "abstract": "Old.", "authors": [], "categories": ["cs.CL"],
     "primary_category": "cs.CL", "published": "2006-10-01"},
]
SNAPSHOT = {
    "id": "0704.0001", "submitter": "Pavel Nadolsky", "authors": "C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan",
    "title": "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
    "comments": "37 pages, 15 figures", "journal-ref": "Phys.Rev.D76:013009,2007", "doi": "10.1103/PhysRevD.76.013009",
    "categories": "hep-ph cs.LG", "abstract": "  A fully differential calculation in perturbative QCD.\n",
    "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
                 {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"}],
    "update_date": "2008-11-13",
    "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""], ["Nadolsky", "P. M.", ""], ["Yuan", "C. -P.", ""]],
}
HF = [
    {"paper": {"id": "2510.26692", "authors": [{"_id": "a1", "name": "Kimi Team", "hidden": False},
                                               {"_id": "a2", "name": "Yu Zhang", "hidden": False}],
               "publishedAt": "2025-10-30T17:59:55.000Z", "submittedOnDailyAt": "2025-10-31T01:23:45.000Z",
               "title": "Kimi Linear: An Expressive, Efficient Attention Architecture", "summary": "We introduce Kimi Linear.",
               "upvotes": 88, "discussionId": "x", "githubRepo": "https://github.com/MoonshotAI/Kimi-Linear", "githubStars": 1234},
     "publishedAt": "2025-10-31T01:23:45.000Z", "title": "Kimi Linear: An Expressive, Efficient Attention Architecture",
     "summary": "We introduce Kimi Linear.", "thumbnail": "", "numComments": 4,
     "submittedBy": {"_id": "u1", "name": "akhaliq", "fullname": "AK", "type": "user"}, "isAuthorParticipating": False},
]


def write_jsonl(path, rows, gz=False):
    data = "".join(json.dumps(r) + "\n" if isinstance(r, dict) else r + "\n" for r in rows).encode()
    (gzip.open if gz else open)(path, "wb").write(data)
    return path


def run_import(*paths):
    return store.import_records(item for p in paths for item in formats.parse_file(p))


@pytest.mark.django_db
def test_it_imports_the_corpus_format_with_ordered_authors_and_primary_category_first(tmp_path):
    stats = run_import(write_jsonl(tmp_path / "c.jsonl", CORPUS))
    assert (stats.new, stats.rejected) == (2, 0)
    p = Paper.objects.get(arxiv_id="2504.18443")
    assert p.title == "Planning with heuristics"  # whitespace collapsed
    assert [a.name for a in p.authors.all()] == ["Simon Dold", "Malte Helmert"]
    assert [c.code for c in p.categories.all()] == ["cs.AI", "cs.LG"] and p.primary_category == "cs.AI"
    assert p.published_at.isoformat() == "2025-04-25T00:00:00+00:00"
    assert Paper.objects.filter(arxiv_id="cs/0610105").exists()


def test_the_corpus_format_keeps_its_optional_fields_and_a_missing_abstract_or_doi_is_empty():
    full = dict(CORPUS[0], updated="2025-05-02", comment="12 pages", journal_ref="ICAPS 2025", doi="10.1/abc")
    bare = {"id": "2504.00002", "title": "Bare"}
    a, b = jsonl.parse(io.BytesIO(b"".join(json.dumps(r).encode() + b"\n" for r in (full, bare))), "c.jsonl")
    assert (a.arxiv_id, a.title, a.abstract) == ("2504.18443", "Planning with heuristics", "We plan.")
    assert (a.comment, a.journal_ref, a.doi) == ("12 pages", "ICAPS 2025", "10.1/abc")
    assert a.updated_at.isoformat() == "2025-05-02T00:00:00+00:00"
    assert (b.arxiv_id, b.title, b.abstract, b.doi, b.comment, b.journal_ref) == ("2504.00002", "Bare", "", "", "", "")


@pytest.mark.django_db
def test_it_reads_the_arxiv_snapshot_format_gzipped(tmp_path):
    stats = run_import(write_jsonl(tmp_path / "snap.json.gz", [SNAPSHOT], gz=True))
    assert stats.new == 1
    p = Paper.objects.get(arxiv_id="0704.0001")
    assert p.version == 2
    assert [a.name for a in p.authors.all()][:2] == ["C. Balázs", "E. L. Berger"]
    assert p.primary_category == "hep-ph"
    assert p.published_at.isoformat() == "2007-04-02T19:18:42+00:00"
    assert p.updated_at.isoformat() == "2007-07-24T20:10:27+00:00"
    assert (p.journal_ref, p.doi, p.comment) == ("Phys.Rev.D76:013009,2007", "10.1103/PhysRevD.76.013009",
                                                 "37 pages, 15 figures")
    assert p.abstract == "A fully differential calculation in perturbative QCD."


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", CORPUS + [SNAPSHOT])
    run_import(path)
    before = list(Paper.objects.order_by("pk").values_list("pk", "modified", "content_hash"))
    again = run_import(path)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)
    assert list(Paper.objects.order_by("pk").values_list("pk", "modified", "content_hash")) == before
    assert PaperAuthor.objects.count() == 2 + 4


@pytest.mark.django_db
def test_a_newer_version_updates_the_record_and_an_older_one_does_not(tmp_path):
    run_import(write_jsonl(tmp_path / "v2.jsonl", [SNAPSHOT]))
    v3 = dict(SNAPSHOT, title="Revised title", versions=SNAPSHOT["versions"] + [{"version": "v3", "created": "Wed, 1 Aug 2007 10:00:00 GMT"}])
    stats = run_import(write_jsonl(tmp_path / "v3.jsonl", [v3]))
    assert stats.updated == 1
    assert Paper.objects.get(arxiv_id="0704.0001").version == 3
    v1 = dict(SNAPSHOT, title="Original title", versions=SNAPSHOT["versions"][:1])
    stats = run_import(write_jsonl(tmp_path / "v1.jsonl", [v1]))
    assert (stats.updated, stats.unchanged) == (0, 1)
    p = Paper.objects.get(arxiv_id="0704.0001")
    assert (p.title, p.version) == ("Revised title", 3)


@pytest.mark.django_db
def test_a_source_without_authors_never_wipes_known_authors(tmp_path):
    run_import(write_jsonl(tmp_path / "a.jsonl", CORPUS[:1]))
    bare = dict(CORPUS[0], authors=[], abstract="A corrected abstract.")
    stats = run_import(write_jsonl(tmp_path / "b.jsonl", [bare]))
    assert stats.updated == 1
    p = Paper.objects.get(arxiv_id="2504.18443")
    assert p.abstract == "A corrected abstract."
    assert [a.name for a in p.authors.all()] == ["Simon Dold", "Malte Helmert"]


@pytest.mark.django_db
def test_malformed_records_are_reported_with_line_and_reason_and_the_rest_import(tmp_path):
    rows = [CORPUS[0], "{not json", {"id": "not-an-id", "title": "x"}, {"id": "2501.00001", "title": "  "},
            {"id": "2501.00002", "title": "Bad date", "published": "yesterday"}, "[1, 2]", CORPUS[1]]
    stats = run_import(write_jsonl(tmp_path / "mixed.jsonl", rows))
    assert (stats.new, stats.rejected) == (2, 5)
    reasons = {r.where: r.reason for r in stats.rejections}
    assert "not valid JSON" in reasons["line 2"]
    assert "not an arXiv id" in reasons["line 3"]
    assert "missing title" in reasons["line 4"]
    assert "bad date" in reasons["line 5"]
    assert "JSON object" in reasons["line 6"]
    assert all(r.source == "mixed.jsonl" for r in stats.rejections)


@pytest.mark.django_db
def test_hf_daily_papers_json_creates_papers_feed_days_submitters_and_upvotes(tmp_path):
    path = tmp_path / "daily.json"
    path.write_text(json.dumps(HF))
    stats = run_import(path)
    assert (stats.new, stats.submissions_new) == (1, 1)
    p = Paper.objects.get(arxiv_id="2510.26692")
    assert (p.upvotes, p.imported_upvotes, p.num_comments, p.github_stars) == (88, 88, 4, 1234)
    s = Submission.objects.get(paper=p)
    assert (str(s.day), s.submitter.username, s.source) == ("2025-10-31", "akhaliq", "hf")
    assert not s.submitter.has_usable_password()
    again = run_import(path)
    assert (again.new, again.updated, again.submissions_new, again.submissions_updated) == (0, 0, 0, 0)
    HF[0]["paper"]["upvotes"] = 90
    path.write_text(json.dumps(HF))
    run_import(path)
    assert Paper.objects.get(arxiv_id="2510.26692").upvotes == 90


def test_format_detection_names_each_format():
    assert formats.detect(b'{"id": "1"}\n{"id": "2"}') == "jsonl"
    assert formats.detect(b'[{"paper": {}}]') == "hf-json"
    assert formats.detect(b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">') == "atom"
    assert formats.detect(b'<?xml version="1.0"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">') == "oai-pmh"
    with pytest.raises(formats.UnknownFormat):
        formats.detect(b"id,title\n1,x")


@pytest.mark.django_db
def test_the_import_command_prints_a_summary_and_reports_rejections(tmp_path, capsys):
    path = write_jsonl(tmp_path / "c.jsonl", CORPUS + ["{oops"])
    call_command("import", str(path))
    out, err = capsys.readouterr()
    assert "c.jsonl: 2 new, 0 updated, 0 unchanged, 1 rejected" in out
    assert "total: 2 new" in out
    assert "c.jsonl: line 3: not valid JSON" in err


@pytest.mark.django_db
def test_the_import_command_refuses_a_missing_file_and_an_unknown_format(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such file"):
        call_command("import", str(tmp_path / "nope.jsonl"))
    csv = tmp_path / "x.csv"
    csv.write_text("id,title\n")
    with pytest.raises(CommandError, match="could not be read"):
        call_command("import", str(csv))


@pytest.mark.django_db
def test_a_truncated_gzip_keeps_the_records_before_the_damage(tmp_path):
    rows = [dict(CORPUS[0], id=f"2501.{i:05d}") for i in range(3000)]
    full = write_jsonl(tmp_path / "big.jsonl.gz", rows, gz=True).read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(full[: len(full) // 2])
    stats = run_import(cut)
    assert stats.new > 0 and stats.rejected == 1
    assert "truncated" in stats.rejections[0].reason


@pytest.mark.django_db
def test_a_day_only_date_never_replaces_a_full_timestamp_of_the_same_day(tmp_path):
    exact = dict(SNAPSHOT)  # v1 at 19:18:42 on 2007-04-02
    run_import(write_jsonl(tmp_path / "exact.jsonl", [exact]))
    day_only = {"id": "0704.0001", "title": SNAPSHOT["title"], "published": "2007-04-02", "authors": [], "categories": ["hep-ph", "cs.LG"]}
    stats = run_import(write_jsonl(tmp_path / "day.jsonl", [day_only]))
    assert (stats.updated, stats.unchanged) == (0, 1)
    assert Paper.objects.get(arxiv_id="0704.0001").published_at.isoformat() == "2007-04-02T19:18:42+00:00"


@pytest.mark.django_db
def test_over_long_fields_are_cut_or_dropped_instead_of_failing_the_batch(tmp_path):
    long_name = "An Author Collaboration With A Very Long Name " * 10  # ~470 characters, as in arXiv 2506.02197
    rows = [dict(CORPUS[0], authors=[long_name, "Short Name"], categories=["cs.AI", "x" * 60]), CORPUS[1]]
    stats = run_import(write_jsonl(tmp_path / "long.jsonl", rows))
    assert (stats.new, stats.rejected) == (2, 0)
    p = Paper.objects.get(arxiv_id="2504.18443")
    names = [a.name for a in p.authors.all()]
    assert len(names[0]) == 300 and names[0].endswith("…") and names[1] == "Short Name"
    assert [c.code for c in p.categories.all()] == ["cs.AI"]
