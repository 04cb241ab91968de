"""Hostile import files: every one is rejected record by record, in bounded memory, and the run goes on."""

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from paperboard.ingest import formats, limits, store
from paperboard.ingest.records import PaperRecord, Rejected
from paperboard.papers.models import Paper

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"id": "2501.00002", "title": "A fine paper", "abstract": "Fine.", "authors": ["Ada Lovelace"]}
MiB = 1 << 20


def gzip_member(data: bytes) -> bytes:
    """One gzip member; a gzip file may be many, so a huge stream is a few small members repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def write_gzip(path: Path, head: bytes, filler: bytes, mib: int, tail: bytes) -> Path:
    """head + `mib` MiB of `filler` + tail, gzipped without ever holding the big middle."""
    block = gzip_member(filler * (MiB // len(filler)))
    with open(path, "wb") as f:
        f.write(gzip_member(head))
        for _ in range(mib):
            f.write(block)
        f.write(gzip_member(tail))
    return path


def lines(*rows) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows)


def parse(path: Path, fmt=None) -> list:
    return list(formats.parse_file(path, fmt))


def run_import(path: Path) -> store.ImportStats:
    return store.import_records(formats.parse_file(path))


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A migrated SQLite data folder, copied for each subprocess import."""
    folder = tmp_path_factory.mktemp("template")
    env = dict(os.environ, PAPERBOARD_DATA_DIR=str(folder))
    env.pop("PAPERBOARD_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "paperboard", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120)
    return folder


def import_in_subprocess(migrated: Path, tmp_path: Path, *files: Path) -> tuple[subprocess.CompletedProcess, int]:
    """Run `paperboard import` in a child process; return its result and its peak RSS in MiB."""
    data = tmp_path / "data"
    shutil.copytree(migrated, data)
    env = dict(os.environ, PAPERBOARD_DATA_DIR=str(data))
    env.pop("PAPERBOARD_DATABASE_URL", None)
    script = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(r.returncode); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
        "sys.stderr.write(r.stdout + r.stderr)\n"
    )
    cmd = [sys.executable, "-m", "paperboard", "import", "--no-progress", *map(str, files)]
    done = subprocess.run([sys.executable, "-c", script, *cmd], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    code, peak = done.stdout.split()
    return subprocess.CompletedProcess(cmd, int(code), stdout=done.stderr), int(peak)


def test_a_gzip_bomb_with_a_1_gib_line_is_skipped_in_bounded_memory_and_the_next_line_imports(migrated, tmp_path):
    bomb = write_gzip(tmp_path / "bomb.jsonl.gz", b'{"id": "2501.00001", "title": "', b"a", 1024,
                      b'"}\n' + lines(GOOD))
    result, peak_mib = import_in_subprocess(migrated, tmp_path, bomb)
    assert peak_mib < 512, f"peak RSS {peak_mib} MiB"
    assert "bomb.jsonl.gz: 1 new, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    assert "bomb.jsonl.gz: line 1: line longer than 1 MiB; skipped" in result.stdout
    assert result.returncode == 0


@pytest.mark.parametrize("name, head, filler, tail", [
    ("entry.atom.gz", b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2501.00001v1</id>'
                      b"<title>", b"t", b"</title></entry></feed>"),
    ("attr.atom.gz", b'<feed xmlns="http://www.w3.org/2005/Atom"><entry x="', b"t", b'"/></feed>'),
    ("record.oai.gz", b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><x>', b"t",
                      b"</x></record></ListRecords></OAI-PMH>"),
    ("daily.json.gz", b'[{"paper": {"id": "2501.00001", "title": "', b"t", b'"}}]'),
])
def test_huge_xml_and_json_documents_are_refused_in_bounded_memory(migrated, tmp_path, name, head, filler, tail):
    path = write_gzip(tmp_path / name, head, filler, 600, tail)
    result, peak_mib = import_in_subprocess(migrated, tmp_path, path)
    assert peak_mib < 512, f"peak RSS {peak_mib} MiB"
    assert "rejected" in result.stdout and result.returncode != 0  # nothing could be imported


def test_atom_and_oai_records_over_the_size_cap_are_rejected_and_the_rest_parse(tmp_path):
    big = "x" * (limits.MAX_XML_RECORD_BYTES + 1)
    entry = "<entry><id>http://arxiv.org/abs/{id}v1</id><title>{title}</title></entry>"
    atom = tmp_path / "feed.xml"
    atom.write_text('<feed xmlns="http://www.w3.org/2005/Atom">' + entry.format(id="2501.00001", title=big)
                    + entry.format(id="2501.00002", title="Kept") + "</feed>")
    items = parse(atom)
    assert items[0] == Rejected("feed.xml", "entry 1", "entry larger than 4 MiB; skipped")
    assert isinstance(items[1], PaperRecord) and items[1].title == "Kept"


def test_xml_entity_declarations_are_refused_so_entities_cannot_expand(tmp_path):
    laughs = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
    doc = tmp_path / "laughs.xml"
    doc.write_text(f'<?xml version="1.0"?><!DOCTYPE feed [{"".join(laughs)}]>'
                   '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&lol9;</title></entry></feed>')
    items = parse(doc)
    assert len(items) == 1 and items[0].where == "file"
    assert "entity declarations are not allowed" in items[0].reason


@pytest.mark.django_db
def test_a_deeply_nested_json_line_is_rejected_and_the_rest_of_the_file_imports(tmp_path):
    deep = b"[" * 100_000 + b"]" * 100_000
    path = tmp_path / "deep.jsonl"
    path.write_bytes(lines(dict(GOOD, id="2501.00001"), deep, b'{"id": "2501.00003", "x": ' + deep + b"}", GOOD))
    stats = run_import(path)
    assert (stats.new, stats.rejected) == (2, 2)
    assert [(r.where, r.reason) for r in stats.rejections] == [
        ("line 2", "JSON nested too deeply"), ("line 3", "JSON nested too deeply")]


def test_a_deeply_nested_daily_papers_item_keeps_the_items_before_it(tmp_path):
    path = tmp_path / "daily.json"
    path.write_bytes(b'[{"paper": {"id": "2501.00001", "title": "Kept"}},\n {"paper": {"id": "2501.00002", "title": "Too"}}, '
                     + b"[" * 100_000 + b"]" * 100_000 + b"]")
    items = parse(path)
    assert [type(i) for i in items] == [PaperRecord, PaperRecord, Rejected]
    assert items[2] == Rejected("daily.json", "record 3", "JSON nested too deeply; the rest of the file was skipped")


@pytest.mark.django_db
def test_a_lone_surrogate_or_a_nul_in_any_text_field_rejects_that_record_and_the_batch_goes_on(tmp_path):
    path = tmp_path / "bad-text.jsonl"
    path.write_bytes(lines(
        b'{"id": "2501.00001", "title": "Broken \\ud800 title"}',
        b'{"id": "2501.00003", "title": "Fine", "authors": ["Ada \\u0000 Lovelace"]}',
        b'{"id": "2501.00004", "title": "Fine", "comment": "\\udfff"}',
        GOOD,
    ))
    stats = run_import(path)
    assert (stats.new, stats.rejected) == (1, 3)
    assert [r.reason for r in stats.rejections] == [
        "2501.00001: title contains a lone surrogate (U+D800)",
        "2501.00003: an author name contains a NUL character",
        "2501.00004: comment contains a lone surrogate (U+DFFF)",
    ]
    assert list(Paper.objects.values_list("arxiv_id", flat=True)) == ["2501.00002"]


@pytest.mark.django_db
def test_a_surrogate_in_a_daily_papers_submitter_rejects_the_item(tmp_path):
    path = tmp_path / "daily.json"
    path.write_bytes(b'[{"paper": {"id": "2501.00001", "title": "T", "submittedOnDailyAt": "2025-01-02T00:00:00Z"},'
                     b' "submittedBy": {"name": "\\ud83d"}}]')
    stats = run_import(path)
    assert stats.rejected == 1 and "the submitter contains a lone surrogate" in stats.rejections[0].reason


@pytest.mark.django_db
def test_a_jsonl_file_whose_first_line_is_over_8_kib_is_read_as_json_lines(tmp_path):
    first = dict(GOOD, id="2501.00001", abstract="word " * 2600, authors=[f"Author Number {i}" for i in range(400)])
    path = tmp_path / "long-first-line.jsonl"
    path.write_bytes(lines(first, GOOD))
    assert len(json.dumps(first)) > 20 * 1024
    stats = run_import(path)
    assert (stats.new, stats.rejected) == (2, 0)
    assert Paper.objects.get(arxiv_id="2501.00001").authors.count() == 400


def test_format_detection_reads_only_what_it_needs_and_gives_up_after_the_sniff_limit(tmp_path):
    assert formats.detect(b'{"id": "1", "abstract": "' + b"x" * 20_000, final=False) is None  # line not complete
    assert formats.detect(b"{\n" + b'"papers": []}') == "hf-json"  # a document spread over lines
    blank = tmp_path / "blank.json"
    blank.write_bytes(b" " * (2 * limits.SNIFF_BYTES) + b"[]")
    with pytest.raises(formats.UnknownFormat):
        parse(blank)


@pytest.mark.django_db
def test_over_cap_fields_are_rejected_with_the_cap_named_and_nothing_of_them_is_stored(tmp_path):
    path = tmp_path / "caps.jsonl"
    path.write_bytes(lines(
        dict(GOOD, id="2501.00001", title="T" * 1001),
        dict(GOOD, id="2501.00003", abstract="a" * 20_001),
        dict(GOOD, id="2501.00004", authors=[f"A{i}" for i in range(10_001)]),
        dict(GOOD, id="2501.00005", categories=["cs.LG"] * 51),
        dict(GOOD, id="2501.00006", comment="c" * 5001),
        dict(GOOD, id="2501.00007", journal_ref="j" * 2001),
        dict(GOOD, id="2501.00008", title="T" * (30 * MiB)),  # a 30 MB title never gets past the line cap
        GOOD,
    ))
    stats = run_import(path)
    assert (stats.new, stats.rejected) == (1, 7)
    assert [r.reason for r in stats.rejections] == [
        "2501.00001: title longer than 1,000 characters (1,001)",
        "2501.00003: abstract longer than 20,000 characters (20,001)",
        "2501.00004: 10,001 authors, more than the 10,000 allowed",
        "2501.00005: 51 categories, more than the 50 allowed",
        "2501.00006: comment longer than 5,000 characters (5,001)",
        "2501.00007: journal ref longer than 2,000 characters (2,001)",
        "line longer than 1 MiB; skipped",
    ]
    assert list(Paper.objects.values_list("arxiv_id", flat=True)) == ["2501.00002"]


@pytest.mark.django_db
def test_many_rejections_are_all_counted_but_only_the_first_thousand_are_kept_and_reasons_are_short(tmp_path):
    path = tmp_path / "junk.jsonl"
    path.write_bytes(lines(*[{"id": "x" * 1000, "title": "t"}] * 3000))
    stats = run_import(path)
    assert stats.rejected == 3000 and len(stats.rejections) == limits.MAX_KEPT_REJECTIONS
    assert all(len(r.reason) <= limits.MAX_REASON_CHARS for r in stats.rejections)


@pytest.mark.django_db
def test_the_import_command_fails_when_nothing_could_be_imported_and_with_strict_on_any_reject(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(lines({"id": "nope", "title": "t"}, b"{oops}"))
    with pytest.raises(CommandError, match=r"nothing could be imported from 1 file\(s\): .*bad.jsonl"):
        call_command("import", str(bad))
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(lines(GOOD, b"{oops}"))
    call_command("import", str(mixed))  # one good record: the run succeeds without --strict
    with pytest.raises(CommandError, match=r"--strict: 1 record\(s\) rejected"):
        call_command("import", "--strict", str(mixed))
    assert Paper.objects.filter(arxiv_id="2501.00002").exists()
    assert "mixed.jsonl: line 2: not valid JSON" in capsys.readouterr().err
