"""``docsearch ask --as-user NAME``: the answer retrieves and cites only what NAME may read."""

from __future__ import annotations

import json

import pytest

from app.cli.main import main
from tests.access.conftest import CODEWORDS, DOCS, MAY_READ


@pytest.mark.parametrize("person", sorted(MAY_READ))
def test_ask_as_a_user_cites_only_what_they_may_read(cli_home, capsys, person):
    question = "what does the quarterly report say about salaries, budget and keys?"
    assert main(["ask", question, "--as-user", person, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {c["doc_id"] for c in out["citations"]} <= MAY_READ[person]
    text = out["answer"] + " ".join(c["text"] for c in out["citations"])
    assert [w for d, w in CODEWORDS.items() if d not in MAY_READ[person] and w in text] == []
    # a conversation is its owner's: another person cannot continue it
    other = next(p for p in sorted(MAY_READ) if p != person)
    argv = ["ask", "and the budget?", "--conversation", out["conversation_id"]]
    assert main([*argv, "--as-user", other]) == 2
    assert "no conversation" in capsys.readouterr().err
    assert main([*argv, "--as-user", person, "--json"]) == 0


def test_without_as_user_the_operator_is_answered_from_the_index(cli_home, capsys):
    assert main(["ask", "quarterly report codeword", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["conversation_id"] and {c["doc_id"] for c in out["citations"]} <= set(DOCS)
