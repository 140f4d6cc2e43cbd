"""``docsearch ask``: one JSON object per turn, conversations continued by id, bad input refused
with one line and exit code 2."""

import json

import pytest

from app.cli import main

DOCS = {
    "it/vpn.md": "# VPN\n\nError 809 means that UDP port 51820 is blocked by the network.\n",
    "hr/leave.txt": (
        "Leave policy\n\nFull-time employees receive 25 days of paid annual leave.\n\n"
        "Part-time employees receive leave pro rata.\n"
    ),
}


@pytest.fixture
def built(home, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    docs = tmp_path / "docs"
    for path, text in DOCS.items():
        (docs / path).parent.mkdir(parents=True, exist_ok=True)
        (docs / path).write_text(text)
    assert main(["build", "--docs", str(docs), "--json"]) == 0
    capsys.readouterr()
    return docs


def _ask(capsys, *args) -> dict:
    assert main(["ask", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_ask_prints_one_object_and_continues_the_conversation(built, capsys):
    first = _ask(capsys, "how many days of annual leave do full-time employees get?")
    assert set(first) >= {"answer", "answered", "citations", "conversation_id", "searched_for"}
    assert first["answered"] is True
    assert "25 days of paid annual leave" in first["answer"]
    assert first["citations"][0]["doc_id"] == "hr/leave.txt"
    assert first["searched_for"] == "how many days of annual leave do full-time employees get?"
    follow = _ask(
        capsys, "and for part-time employees?", "--conversation", first["conversation_id"]
    )
    assert follow["conversation_id"] == first["conversation_id"]
    assert follow["searched_for"].startswith("and for part-time employees? ")  # refers back
    assert "leave" in follow["searched_for"]
    fresh = _ask(capsys, "what does vpn error 809 mean", "--conversation", first["conversation_id"])
    assert fresh["searched_for"] == "what does vpn error 809 mean"  # a new question as typed


def test_ask_says_when_the_documents_do_not_say(built, capsys):
    out = _ask(capsys, "who won the world cup in 2022?")
    assert out["answered"] is False and out["citations"] == []
    assert out["answer"].startswith("The documents do not say")


@pytest.mark.parametrize(
    "args",
    [
        ["ask"],
        ["ask", "   "],
        ["ask", "x" * 5000],
        ["ask", "hello", "--conversation", "not an id!"],
        ["ask", "hello", "--conversation", "u0000000000000000-unknown"],
        ["ask", "hello", "--as-user", "nobody"],
    ],
)
def test_bad_arguments_are_one_line_and_exit_code_2(built, capsys, args):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err and "Traceback" not in err
    assert len(err.splitlines()[-1]) < 300


def test_ask_before_any_build_is_a_clear_error(home, capsys, monkeypatch):
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    assert main(["ask", "anything"]) == 2
    assert "no index has been built yet" in capsys.readouterr().err


def test_ask_prints_the_answer_its_sources_and_how_to_follow_up(built, capsys):
    assert main(["ask", "how many days of annual leave do full-time employees get?"]) == 0
    out, err = capsys.readouterr()
    assert "25 days of paid annual leave. [1]" in out and "[1] Leave policy  (hr/leave.txt)" in out
    assert "follow up with: --conversation u" in err
