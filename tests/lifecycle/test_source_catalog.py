"""The sources catalog on SQLite and PostgreSQL: sources added, listed, synced and removed
through the service, with their cursor; refusals before anything is stored; no secret ever in
a row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lifecycle.sources import (
    SourceCatalog,
    add_source,
    due_sources,
    list_sources,
    remove_source,
    stale_sources,
    sync_sources,
)
from lifecycle.sources.catalog import now, sources
from search.settings import Settings
from search.sources import SourceError


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "readme.md").write_text("# Readme\n\nThe documents folder's own file.")
    return Settings(
        home=tmp_path / "home",
        docs=docs,
        model="hashing-128",
        database_url=database_url,
        source_interval_seconds=600,
        source_retries=2,
        source_backoff_seconds=0.05,
    )


@pytest.fixture
def folder(tmp_path):
    source = tmp_path / "share"
    (source / "hr").mkdir(parents=True)
    (source / "hr" / "leave.md").write_text("# Leave\n\nParental leave is sixteen weeks.")
    (source / "it.txt").write_text("VPN error 809: the firewall blocks the tunnel.")
    return source


def test_a_source_is_stored_synced_listed_and_removed(settings, folder):
    add_source(settings, "share", folder.as_uri(), {"interval": "15m"})
    (row,) = list_sources(settings)
    assert (row.name, row.url, dict(row.options), row.status) == (
        "share",
        folder.as_uri(),
        {"interval": "15m"},
        "never",
    )
    assert [s.name for s in due_sources(settings)] == ["share"]  # never in step yet

    outcome = sync_sources(settings, {}).as_dict()
    assert (outcome["added"], outcome["index"]["documents"]) == (2, 3)  # + the folder's file
    (row,) = list_sources(settings)
    assert row.status == "ok" and row.cursor and row.report["added"] == 2
    assert row.checked_at is not None and due_sources(settings) == []
    # 15 minutes after it was in step its interval has passed: due, and stale for the check
    later = row.checked_at + timedelta(minutes=15, seconds=1)
    assert [s["source"] for s in stale_sources(settings, later)] == ["share"]
    assert stale_sources(settings, row.checked_at + timedelta(minutes=14)) == []

    remove_source(settings, "share")
    assert list_sources(settings) == []
    assert not (settings.sources_dir / "share").exists()
    after = sync_sources(settings, {}).as_dict()  # no source left: the removal is published
    assert after["index"]["documents"] == 1


def test_refusals_name_the_fix_and_store_nothing(settings, folder):
    cases = [
        ("Bad Name", folder.as_uri(), {}, "cannot name a source"),
        ("docs", "ftp://host/x", {}, "no connector for this scheme"),
        ("smb1", "smb://ann:hunter2@host/share", {}, "password in the URL"),
        ("s3a", "s3://bucket", {"secret_key": "abc"}, "would store a secret"),
        ("s3b", "s3://bucket", {"colour": "red"}, "take no option 'colour'"),
        ("web", "https://intranet.example/", {"max_pages": "many"}, "must be a number"),
        ("web2", "https://intranet.example/", {"interval": "soon"}, "not a duration"),
        ("readme.md", folder.as_uri(), {}, "cannot name a source"),
    ]
    for name, url, options, message in cases:
        with pytest.raises(SourceError, match=message):
            add_source(settings, name, url, options)
    (settings.docs / "share").mkdir()
    with pytest.raises(SourceError, match="has 'share' in it already"):
        add_source(settings, "share", folder.as_uri(), {})
    add_source(settings, "files", folder.as_uri(), {})
    with pytest.raises(SourceError, match="exists already"):
        add_source(settings, "files", folder.as_uri(), {})
    assert [s.name for s in list_sources(settings)] == ["files"]
    with pytest.raises(SourceError, match="no source named 'nope'"):
        remove_source(settings, "nope")


def test_a_secret_is_named_in_the_row_never_written(settings, folder, tmp_path):
    secret = "s3cr3t-value-never-stored"
    (tmp_path / "key").write_text(secret + "\n")
    add_source(
        settings,
        "vault",
        "s3://bucket/docs",
        {"endpoint_url": "http://127.0.0.1:9", "secret_key_file": str(tmp_path / "key"),
         "access_key_env": "VAULT_KEY"},
    )  # fmt: skip
    outcome = sync_sources(settings, {"VAULT_KEY": "AKIA-not-a-secret-either"}).as_dict()
    assert outcome["errors"] and outcome["index"] is None  # nothing listens on port 9
    catalog = SourceCatalog(settings.database_url)
    with catalog.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(sources))]
    catalog.close()
    written = repr(rows)
    assert "secret_key_file" in written and str(tmp_path / "key") in written
    assert secret not in written and "AKIA-not-a-secret-either" not in written


def test_a_missing_variable_fails_that_source_alone(settings, folder):
    add_source(settings, "files", folder.as_uri(), {})
    add_source(settings, "vault", "s3://bucket", {"secret_key_env": "UNSET_VARIABLE_X"})
    outcome = sync_sources(settings, {})
    report = outcome.as_dict()
    assert report["errors"] == [
        {
            "source": "vault",
            "error": "the environment variable UNSET_VARIABLE_X (option secret_key_env) is not "
            "set; set it in the environment docsearch syncs in",
        }
    ]
    assert report["added"] == 2 and report["index"]["documents"] == 3  # the other one is in
    assert {s.name: s.status for s in list_sources(settings)} == {"files": "ok", "vault": "failed"}
    assert now() - list_sources(settings)[0].synced_at < timedelta(minutes=5)
