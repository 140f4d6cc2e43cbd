"""``docsearch search --as-user NAME``: the command line searches as someone, under the policy."""

from __future__ import annotations

import json

import pytest

from app.cli.main import main
from tests.access.conftest import CODEWORDS, DOCS, GROUPS, MAY_READ


@pytest.fixture
def cli_home(access_home, monkeypatch):
    from lifecycle.identity import Identities

    settings, _, _ = access_home
    identities = Identities(settings.feedback_url)
    for name, groups in GROUPS.items():
        identities.add_user(name, groups)
    identities.close()
    monkeypatch.setenv("DOCSEARCH_HOME", str(settings.home))
    monkeypatch.setenv("DOCSEARCH_DOCS", str(settings.docs))
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    monkeypatch.delenv("DOCSEARCH_ACCESS", raising=False)
    return settings


@pytest.mark.parametrize("person", sorted(MAY_READ))
def test_search_as_a_user_shows_only_what_they_may_read(cli_home, capsys, person):
    argv = ["search", "quarterly report codeword", "--as-user", person, "--k", str(len(DOCS))]
    assert main([*argv, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    assert {r["doc_id"] for r in rows} == MAY_READ[person]
    assert main(argv) == 0  # the plain listing: no code word of a document they may not read
    out = capsys.readouterr().out
    assert [w for d, w in CODEWORDS.items() if d not in MAY_READ[person] and w in out] == []


def test_an_unknown_user_is_one_line_and_exit_2(cli_home, capsys):
    assert main(["search", "quarterly", "--as-user", "nobody"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: no user 'nobody'; `docsearch users list` shows them"
    )


def test_access_check_and_apply(cli_home, capsys):
    assert main(["access", "check"]) == 0
    assert "in force: " in capsys.readouterr().out
    assert main(["access", "apply"]) == 0
    assert "made CURRENT in the local store" in capsys.readouterr().out
    cli_home.access_policy.write_text("default: [evryone]\n")
    assert main(["access", "check"]) == 1
    assert "line 1: in `default`: 'evryone' is not a principal" in capsys.readouterr().err
