from pathlib import Path

from paperboard import conf

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_every_setting_is_documented_with_its_default():
    text = DOC.read_text(encoding="utf-8")
    missing = [s.env for s in conf.SETTINGS if f"`{s.env}`" not in text]
    assert not missing, f"undocumented settings in docs/settings.md: {missing}"


def test_docs_name_no_setting_that_does_not_exist():
    import re

    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`(PAPERBOARD_[A-Z_]+)`", text))
    known = {s.env for s in conf.SETTINGS}
    assert named <= known, f"docs/settings.md names unknown settings: {named - known}"


def test_sqlite_url_with_absolute_path_becomes_that_file(tmp_path):
    db = conf.parse_database_url(f"sqlite:///{tmp_path}/x.sqlite3", tmp_path)
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == f"{tmp_path}/x.sqlite3"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_empty_database_url_means_sqlite_in_the_data_dir(tmp_path):
    assert conf.parse_database_url("", tmp_path)["NAME"] == str(tmp_path / "paperboard.sqlite3")


def test_postgres_url_is_split_into_its_parts(tmp_path):
    db = conf.parse_database_url("postgres://bob:s%40cret@db.example:6543/papers", tmp_path)
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql", "papers", "bob", "s@cret", "db.example", "6543")


def test_an_unknown_database_scheme_is_a_clear_error(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="unsupported scheme 'mysql'"):
        conf.parse_database_url("mysql://x/y", tmp_path)


def test_a_bad_boolean_names_the_variable(monkeypatch):
    import pytest

    monkeypatch.setenv("PAPERBOARD_DEBUG", "maybe")
    with pytest.raises(ValueError, match="PAPERBOARD_DEBUG"):
        conf.value("DEBUG")
