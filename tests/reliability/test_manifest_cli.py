"""An edited manifest through the CLI: one line naming the file and the fix, exit code 2,
never a traceback; with an earlier good version, that one answers."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from search.index import MANIFEST, IndexStore


@pytest.fixture
def built(home, monkeypatch, tmp_path) -> IndexStore:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Parental leave lasts sixteen weeks.\n")
    (docs / "b.txt").write_text("The VPN error 809 means a blocked port.\n")
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    assert main(["build", "--docs", str(docs), "--json"]) == 0
    return IndexStore(home / "indexes" / "default")


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"\xca" + p.read_bytes()),
        lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "files": {}})),
        lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "dense_index": "ivf"})),
    ],
)
def test_a_damaged_manifest_is_one_line_and_exit_2(built, capsys, damage):
    path = built.path(built.current()) / MANIFEST
    damage(path)
    capsys.readouterr()
    assert main(["search", "leave"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and str(path) in err and "\n" not in err
    assert "Traceback" not in err


def test_the_version_before_a_damaged_one_answers(built, capsys, tmp_path):
    first = built.current()
    assert main(["build", "--docs", str(tmp_path / "docs"), "--json"]) == 0
    second = built.current()
    assert second != first
    path = built.path(second) / MANIFEST
    path.write_text(json.dumps({**json.loads(path.read_text()), "files": {}}))
    capsys.readouterr()
    assert main(["search", "leave", "--json"]) == 0
    assert "a.txt" in capsys.readouterr().out
