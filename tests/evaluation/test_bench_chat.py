"""The chat benchmark: its labeled questions, its helpers, and one run on the sample set."""

import json
from pathlib import Path

import numpy as np
import pytest

from evaluation.answerability_fit import (
    FALSE_DECLINE_COST,
    choose,
    figures,
    utility,
)
from evaluation.bench_chat import QUESTIONS, _whole, load_questions, run_bench, withheld_turns
from search.chat import collapse
from search.chat.evidence import EVIDENCE, AnswerabilityModel, Evidence

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def test_the_questions_are_labeled_from_the_sample_documents_and_never_indexed():
    from evaluation.beir import load_documents

    rows = load_questions(SAMPLE / QUESTIONS)
    kinds = [r["kind"] for r in rows]
    assert kinds.count("answer") >= 40 and kinds.count("no_answer") >= 10
    follow = [r for r in rows if r["kind"] == "follow_up"]
    assert any(r["refers_back"] for r in follow) and not all(r["refers_back"] for r in follow)
    documents = {d.id: collapse(d.text) for d in load_documents(SAMPLE).documents}
    assert not any(QUESTIONS in doc_id for doc_id in documents)  # not a document
    for row in rows:
        sources = row.get("doc_id") or []
        for doc_id in [sources] if isinstance(sources, str) else sources:
            assert any(p in documents[doc_id] for p in row["phrases"]), row["id"]
        if isinstance(sources, str):
            assert all(p in documents[sources] for p in row["phrases"]), row["id"]
    assert {r["half"] for r in rows} == {"dev", "test"}


def _row(name, half, answerable, score, named=1.0):
    evidence = dict.fromkeys(EVIDENCE, 0.0) | {"score": score, "named": named}
    return {
        "set": name,
        "half": half,
        "answerable": answerable,
        "correct": answerable,
        "evidence": evidence,
    }


def test_the_answerability_fit_learns_to_decline_and_stores_the_model_in_its_units(tmp_path):
    rows = [
        _row(name, "dev", answerable, score + 0.01 * i, named)
        for name in ("a", "b")
        for i in range(10)
        for answerable, score, named in ((True, 1.0, 1.0), (False, 0.4, 0.5))
    ]
    model, chosen = choose(rows)
    assert chosen["evidence"] and set(model.weights) == set(chosen["evidence"])
    scores = figures(model, rows)
    assert scores["a"] == {
        "answer_accuracy": 1.0,
        "no_answer_precision": 1.0,
        "no_answer_recall": 1.0,
        "questions": 20,
    }
    # stored in the evidence's own units: the model gives the fitted probabilities
    assert model.answers(Evidence(**rows[0]["evidence"]))
    assert not model.answers(Evidence(**rows[1]["evidence"]))
    assert AnswerabilityModel.from_json(model.to_json()) == model


def test_a_false_decline_costs_what_the_target_precision_says():
    rows = [_row("a", "dev", True, 0.5), _row("a", "dev", False, 0.1), _row("a", "dev", False, 0.2)]
    probability = np.array([0.4, 0.1, 0.2])
    # declining all three: two caught, one answerable question lost
    assert utility(rows, probability, 0.5) == pytest.approx(2 - FALSE_DECLINE_COST)
    assert utility(rows, probability, 0.3) == 2  # only the two unanswerable ones
    assert FALSE_DECLINE_COST == pytest.approx(0.85 / 0.15)


def test_each_set_weighs_the_same_in_the_utility():
    rows = [_row("a", "dev", False, 0.1)] + [_row("b", "dev", False, 0.1) for _ in range(3)]
    rows += [_row("b", "dev", True, 0.9)]
    probability = np.array([0.1, 0.1, 0.1, 0.1, 0.9])
    # set a's one question weighs what set b's four do: (1 + 3/4 * 1) of 5 rows, scaled to 5
    assert utility(rows, probability, 0.5) == pytest.approx(5 * (1 + 0.75) / 2)


def test_a_withheld_answer_is_asked_again_without_the_documents_that_state_it(index):
    asked = [
        {"id": "a02", "half": "dev", "kind": "answer", "doc_id": "d1"},
        {"id": "n04", "half": "dev", "kind": "no_answer"},  # nothing to withhold
    ]
    asked[0]["question"] = "how many weeks of paid parental leave do employees receive?"
    asked[1]["question"] = "what is the capital of Australia?"
    (row,) = withheld_turns(index, asked, None, float("-inf"))  # nothing declined on score
    assert row["id"] == "a02" and row["half"] == "dev"
    assert not row["answerable"] and not row["correct"] and not row["cites_withheld"]
    assert "sixteen weeks" not in row["answer"]  # d1 says it, and d1 was not searched


def test_a_quote_must_be_a_whole_sentence_of_its_source():
    source = (
        "Report a phishing e-mail in the #security Slack channel within 1 hour of noticing it. Do not\n"
        "try to investigate. Do not delete the e-mail.\nE599 Safety controller fault\n"
    )
    assert _whole("Do not try to investigate.", source)
    assert not _whole("try to investigate.", source)  # starts inside the sentence
    assert not _whole("Do not delete the", source)  # stops inside it
    assert _whole("E599 Safety controller fault", source)  # a line of its own


@pytest.mark.slow
def test_chat_bench_on_the_sample_set_meets_the_targets(home, capsys):
    figures = run_bench(SAMPLE, SAMPLE / QUESTIONS, None)
    json.dumps(figures)  # what `make bench-chat` prints
    assert figures["answer_accuracy"] >= 0.8
    assert figures["distorted_sentences"] == 0 and figures["cut_sentences"] == 0
    assert figures["no_answer_precision"] >= 0.85  # the target for questions nobody here wrote
    assert figures["withheld_cited"] == 0 and figures["withheld_declined"] >= 0.6
    assert figures["followup_accuracy"] >= 0.8 and figures["rewrite_accuracy"] == 1.0


def test_the_generative_path_is_measured_the_same_way(index, monkeypatch):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from evaluation.bench_chat import distortions, has_phrases, main, run_turn
    from search.chat import LLMConfig

    class Model(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers["Content-Length"]))
            body = {"choices": [{"message": {"content": "Port 51820 is blocked [1]."}}]}
            self.send_response(200)
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        llm = LLMConfig(f"http://127.0.0.1:{server.server_port}/v1", "tiny")
        _, answer = run_turn(index, "which UDP port does the firewall block?", [], llm, 0.0)
    finally:
        server.shutdown()
        server.server_close()
    assert answer.mode == "generative" and has_phrases(answer, ["51820"])
    assert distortions(index, answer)[1] == 1  # a paraphrase is not a quote: it is counted
    monkeypatch.delenv("DOCSEARCH_LLM_URL", raising=False)
    assert main(["--llm"]) == 2  # no endpoint configured
