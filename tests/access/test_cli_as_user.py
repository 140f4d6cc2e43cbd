"""``docsearch search --as-user NAME``: the command line searches as someone, under the policy."""

from __future__ import annotations

import json

import pytest

from app.cli.main import main
from search.access import parse_policy
from tests.access.conftest import CODEWORDS, DOCS, MAY_READ, POLICY, as_cli_environment


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


def test_access_check_names_the_folder_and_apply_records_a_changed_policy(
    own_access_home, monkeypatch, capsys
):
    settings = as_cli_environment(own_access_home[0], monkeypatch)
    assert main(["access", "check"]) == 0
    out = capsys.readouterr().out
    assert f"documents folder: {settings.docs}\npolicy file: {settings.access_policy}\n" in out
    assert f"in force: {settings.access_policy} (hash {parse_policy(POLICY).hash})" in out
    assert f"it follows {settings.access_policy} (recorded hash" in out  # the serving version
    assert main(["access", "apply"]) == 0
    assert "already enforced" in capsys.readouterr().out  # the build recorded the policy
    settings.access_policy.write_text(POLICY.replace("allow: [group:hr]", "allow: []"))
    assert main(["access", "apply"]) == 0
    assert "made CURRENT in the local store" in capsys.readouterr().out
    settings.access_policy.write_text("default: [evryone]\n")
    assert main(["access", "check"]) == 1
    assert "line 1: in `default`: 'evryone' is not a principal" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command", [["search", "quarterly report codeword"], ["ask", "what is the codeword?"]]
)
@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_user_is_refused_never_read_as_everyone(cli_home, capsys, command, name):
    """A script whose variable is unset (``--as-user "$WHO"``) once saw every document."""
    assert main([*command, "--as-user", name, "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "argument --as-user: a user name is needed" in err
    assert not [w for w in CODEWORDS.values() if w in out + err]
