"""``scripts/make_squad_set.py``: SQuAD 2.0 articles as a document store and chat questions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from evaluation.bench_chat import load_questions
from scripts.make_squad_set import squad_set

ROOT = Path(__file__).resolve().parents[2]
SOURCE = {
    "version": "v2.0",
    "data": [
        {
            "title": "Tower_Bridge",
            "paragraphs": [
                {
                    "context": "Tower Bridge opened in 1894. It crosses the Thames.",
                    "qas": [
                        {
                            "id": "a1",
                            "question": "When did Tower Bridge open?",
                            "answers": [
                                {"text": "in 1894", "answer_start": 20},
                                {"text": "1894", "answer_start": 23},
                            ],
                            "is_impossible": False,
                        },
                        {
                            "id": "u1",
                            "question": "When did Tower Bridge close?",
                            "answers": [],
                            "plausible_answers": [{"text": "1894", "answer_start": 23}],
                            "is_impossible": True,
                        },
                    ],
                },
                {"context": "It is painted blue.", "qas": []},
            ],
        },
        {"title": "Other", "paragraphs": [{"context": "Not taken.", "qas": []}]},
    ],
}


def test_each_paragraph_is_a_file_and_each_question_a_row():
    files, rows = squad_set(SOURCE, ["Tower_Bridge"])
    assert files == {
        "tower-bridge/01.md": "# Tower Bridge\n\nTower Bridge opened in 1894. It crosses the Thames.\n",
        "tower-bridge/02.md": "# Tower Bridge\n\nIt is painted blue.\n",
    }
    by_squad = {r["squad_id"]: r for r in rows}
    answer, unanswerable = by_squad["a1"], by_squad["u1"]
    assert answer["kind"] == "answer" and answer["phrases"] == ["1894"]  # the shortest gold
    assert answer["doc_id"] == "tower-bridge/01.md"
    assert unanswerable["kind"] == "no_answer" and "phrases" not in unanswerable
    assert sorted(r["id"] for r in rows) == ["sq-0001", "sq-0002"]


def _make(source, out, title: str) -> subprocess.CompletedProcess:
    args = ["--source", str(source), "--out", str(out), title]
    return subprocess.run(
        [sys.executable, "-m", "scripts.make_squad_set", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_the_script_writes_a_set_the_chat_bench_reads(tmp_path):
    source = tmp_path / "dev.json"
    source.write_text(json.dumps(SOURCE))
    out = tmp_path / "set"
    done = _make(source, out, "Tower_Bridge")
    assert done.returncode == 0, done.stderr
    assert (out / "docs" / "tower-bridge" / "02.md").is_file()
    rows = load_questions(out / "chat_questions.jsonl")
    assert {r["half"] for r in rows} == {"dev", "test"}  # ids sq-0001 and sq-0002
    missing = _make(source, out, "Nowhere")
    assert missing.returncode == 2 and missing.stderr.strip() == "error: not in the source: Nowhere"


def test_the_stored_set_matches_its_readme():
    rows = load_questions(ROOT / "data" / "squad2" / "chat_questions.jsonl")
    answerable = [r for r in rows if r["kind"] == "answer"]
    assert (len(rows), len(answerable)) == (706, 386)
    docs = ROOT / "data" / "squad2" / "docs"
    assert len(list(docs.glob("*/*.md"))) == 83
    assert all((docs / r["doc_id"]).is_file() for r in answerable)
