"""``docsearch sources``: add, list, sync (one JSON object: counts, failures with path and
reason), remove; bad input is one line and exit code 2; a store that is down exits 1 with what
happened, the serving index unchanged."""

from __future__ import annotations

import json

import pytest

from app.cli import main


@pytest.fixture
def env(home, tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "handbook.md").write_text("# Handbook\n\nThe handbook of the company.")
    share = tmp_path / "share"
    share.mkdir()
    (share / "leave.md").write_text("# Leave\n\nParental leave is sixteen weeks.")
    (share / "passwd.txt").symlink_to("/etc/passwd")
    monkeypatch.setenv("DOCSEARCH_DOCS", str(docs))
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    monkeypatch.setenv("DOCSEARCH_SOURCE_RETRIES", "1")
    return share


def test_add_list_sync_search_and_remove(env, capsys):
    share = env
    assert main(["sources", "add", "share", share.as_uri(), "--option", "interval=1h"]) == 0
    assert "source share added (file, " in capsys.readouterr().out
    assert main(["sources", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["name"], row["options"], row["status"]) == ("share", {"interval": "1h"}, "never")

    assert main(["sources", "sync", "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1  # one JSON object on one line
    report = json.loads(out[0])
    assert {k: report[k] for k in ("added", "updated", "deleted", "unchanged", "failed")} == {
        "added": 1, "updated": 0, "deleted": 0, "unchanged": 0, "failed": 1,
    }  # fmt: skip
    (failure,) = report["failures"]
    assert failure["source"] == "share" and failure["path"] == "passwd.txt"
    assert "outside the documents folder" in failure["reason"]
    assert report["index"]["documents"] == 2 and report["index"]["outcome"] == "activated"

    assert main(["search", "parental leave", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["results"][0]
    assert (top["doc_id"], top["path"]) == ("share/leave.md", "share/leave.md")

    assert main(["sources", "remove", "share"]) == 0
    assert "its documents leave the next index version" in capsys.readouterr().out
    assert main(["sources", "sync", "--json"]) == 0  # no source: the removal is published
    assert json.loads(capsys.readouterr().out)["index"]["documents"] == 1


def test_bad_input_is_one_line_and_exit_code_2(env, capsys):
    share = env
    cases = [
        (["sources", "add", "Share", share.as_uri()], "cannot name a source"),
        (["sources", "add", "s3", "s3://b", "--option", "secret_key=x"], "would store a secret"),
        (["sources", "sync", "nope"], "no source named 'nope'"),
        (["sources", "remove", "nope"], "no source named 'nope'"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and message in err and "\n" not in err
    assert main(["sources", "add", "s3", "s3://b", "--option", "nonsense"]) == 2
    assert "is not KEY=VALUE" in capsys.readouterr().err


def test_a_store_that_is_down_exits_1_and_leaves_what_serves(env, capsys, tmp_path):
    share = env
    assert main(["sources", "add", "share", share.as_uri()]) == 0
    assert main(["sources", "sync", "--json"]) == 0
    served = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["index"]["version"]
    share.rename(tmp_path / "unmounted")
    assert main(["sources", "sync", "share", "--json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["errors"][0]["source"] == "share" and report["index"] is None
    assert "could not be synced" in captured.err and "What serves is unchanged" in captured.err
    from search.index import IndexStore
    from search.settings import Settings

    assert IndexStore(Settings.from_env().index_root()).current() == served


def test_a_source_no_rule_names_and_a_rule_naming_no_source_are_told(env, capsys, tmp_path):
    share = env
    docs = tmp_path / "docs"
    (docs / "access.yaml").write_text(
        "default: [everyone]\nrules:\n  - source: hr-shar\n    allow: [group:hr]\n"
    )  # a typo: the share is connected as "share"
    assert main(["sources", "add", "share", share.as_uri()]) == 0
    out = capsys.readouterr().out
    assert "source 'share': no rule names it, so its documents follow the default (everyone)" in out
    assert main(["access", "check"]) == 1  # a rule that covers nothing is an error to fix
    captured = capsys.readouterr()
    assert "note: source 'share': no rule names it" in captured.out
    assert "rule at line 3 of" in captured.err and "names source 'hr-shar'" in captured.err
