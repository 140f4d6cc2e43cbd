import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from search.chat import (
    EXTRACTIVE,
    GENERATIVE,
    LLMConfig,
    Passage,
    build_answer,
    extractive_answer,
    passages_for,
    rewrite_question,
)
from search.config import IndexConfig
from search.index import SearchIndex
from search.settings import Settings

CONFIG = IndexConfig(model="hashing-128", chunk_tokens=64, chunk_overlap=8)


@pytest.fixture
def index(tiny_docs, hashing_encoder):
    return SearchIndex.build(tiny_docs, CONFIG, hashing_encoder)


def test_follow_up_borrows_terms_from_the_previous_turn():
    first = "How many weeks of parental leave do employees get?"
    assert rewrite_question(first, []) == first
    follow = rewrite_question("What about for contractors?", [first])
    assert follow == "What about for contractors? weeks parental leave employees"
    # a pronoun makes it a follow-up too; a full new question is left alone
    assert "vpn" in rewrite_question("Does it work on Mac?", ["vpn error 809"])
    new = "Where do I submit expense receipts?"
    assert rewrite_question(new, [first]) == new
    # a new question after a two-part one is searched as typed (issue 14)
    liftbot = "when is the Liftbot L4 launching and how much does it cost?"
    assert rewrite_question("minimum password length", [liftbot]) == "minimum password length"
    assert rewrite_question(
        "and how much does it cost?", ["when is the Liftbot L4 launching?"]
    ) == ("and how much does it cost? liftbot l4")
    # a pronoun borrows the thing named, not what was asked about it (the price sentence)
    assert rewrite_question(
        "and what is its maximum load?", ["how much does the Liftbot L4 cost?"]
    ) == ("and what is its maximum load? liftbot l4")
    # an ellipsis with no pronoun still borrows the whole question
    assert rewrite_question("and for contractors?", [first]).endswith(
        "weeks parental leave employees"
    )


def test_an_ellipsis_replaces_the_thing_it_stands_in_for():
    soak = rewrite_question("and on canary?", ["How long must new firmware soak on staging?"])
    assert "firmware" in soak and "staging" not in soak
    error = rewrite_question("and E102?", ["What does error E101 mean on a Shelfrunner S2?"])
    assert "s2" in error and "e101" not in error
    child = rewrite_question("and for a child?", ["What does a passport cost for an adult?"])
    assert child == "and for a child? passport cost"
    car = rewrite_question("and for a second car?", ["What is a resident permit in zone B?"])
    assert "zone" in car  # a phrase with another preposition is kept


def test_extractive_answer_cites_the_best_sentence(index, hashing_encoder):
    question = "Which UDP port does the firewall block?"
    results = index.search(question, k=3)
    chunks = {c.id: c for c in index.chunks}
    passages = passages_for(results, chunks, n=3)
    assert [p.number for p in passages] == [1, 2, 3]
    answer = extractive_answer(question, passages, hashing_encoder)
    assert answer.mode == EXTRACTIVE
    d2 = next(p for p in passages if p.doc_id == "d2")
    assert answer.text.startswith(
        f"Error 809 means the firewall blocks UDP port 51820. [{d2.number}]"
    )
    assert answer.cited()[0].doc_id == "d2"


def test_extractive_answer_without_passages_says_so():
    answer = extractive_answer("anything", [])
    assert "No documents matched" in answer.text and answer.cited() == []


def test_nothing_relevant_is_not_passed_off_as_an_answer():
    passage = Passage(1, "d", "d#0", "T", "t.md", "Bananas are yellow and curved fruit.")
    answer = extractive_answer("kubernetes ingress timeout", [passage])
    assert answer.text == 'The documents do not say anything about "kubernetes ingress timeout".'
    assert not answer.answered and answer.cited() == []


class _FakeLLM(BaseHTTPRequestHandler):
    requests: list = []
    status = 200

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeLLM.requests.append((self.path, dict(self.headers), body))
        if _FakeLLM.status != 200:
            self.send_response(_FakeLLM.status)
            self.end_headers()
            return
        content = "Sixteen weeks of paid leave [1]."
        payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload.encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_llm():
    server = HTTPServer(("127.0.0.1", 0), _FakeLLM)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeLLM.requests, _FakeLLM.status = [], 200
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
        server.server_close()


PASSAGES = [
    Passage(
        1,
        "d1",
        "d1#0",
        "Parental leave policy",
        "d1",
        "Employees receive sixteen weeks of paid parental leave.",
    ),
    Passage(2, "d3", "d3#0", "Expense reimbursement", "d3", "Submit receipts within thirty days."),
]


def test_generative_answer_posts_numbered_passages(fake_llm):
    settings = Settings(llm_url=fake_llm + "/", llm_model="tiny", llm_api_key="k")
    llm = LLMConfig.configured(settings.llm_url, settings.llm_model, settings.llm_api_key)
    answer = build_answer("How long is parental leave?", PASSAGES, llm=llm, history=["earlier?"])
    assert answer.mode == GENERATIVE and answer.text == "Sixteen weeks of paid leave [1]."
    assert [p.doc_id for p in answer.cited()] == ["d1"]
    path, headers, body = _FakeLLM.requests[0]
    assert path == "/v1/chat/completions" and headers["Authorization"] == "Bearer k"
    assert body["model"] == "tiny"
    user = body["messages"][-1]["content"]
    assert "[1] Parental leave policy (d1)" in user and "[2] Expense reimbursement" in user
    assert "Earlier question: earlier?" in user and user.endswith(
        "Question: How long is parental leave?"
    )


def test_generative_failure_falls_back_to_extractive(fake_llm):
    _FakeLLM.status = 500
    answer = build_answer("How long is parental leave?", PASSAGES, llm=LLMConfig(fake_llm, "tiny"))
    assert answer.mode == EXTRACTIVE
    assert "could not answer" in answer.note and "[1]" in answer.text


def test_llm_config_needs_url_and_model(monkeypatch):
    assert LLMConfig.configured("", "") is None
    assert LLMConfig.configured("http://x/v1", "") is None
    monkeypatch.setenv("DOCSEARCH_LLM_URL", "http://x/v1/")
    monkeypatch.setenv("DOCSEARCH_LLM_MODEL", "m")
    settings = Settings.from_env()
    llm = LLMConfig.configured(settings.llm_url, settings.llm_model, settings.llm_api_key)
    assert llm == LLMConfig("http://x/v1", "m", "")


def test_an_answer_comes_only_from_results_above_the_relevance_floor(monkeypatch):
    from types import SimpleNamespace

    from search.chat import turn

    results = [SimpleNamespace(doc_id=d, relevance=p) for d, p in (("a", 0.9), ("b", 0.02))]
    monkeypatch.setattr(turn, "model_for", lambda index, method: SimpleNamespace(floor=0.03))
    assert [r.doc_id for r in turn.above_floor(None, results)] == ["a"]
    # only weak matches: nothing left to answer from
    weak = [results[1]]
    assert turn.above_floor(None, weak) == []
    # no relevance model for this encoder: no floor, every result counts
    monkeypatch.setattr(turn, "model_for", lambda index, method: None)
    assert turn.above_floor(None, weak) == weak
