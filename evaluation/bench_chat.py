"""``make bench-chat``: the chat's answers on the sample set's labeled questions, as JSON.

``data/sample/chat_questions.jsonl`` (outside ``docs/``, so never indexed) holds three kinds:
``answer`` (a question, the short phrases its answer must contain, the document that states
them), ``no_answer`` (questions the documents cannot answer) and ``follow_up`` (a first
question, then a second message that does or does not refer back to it).

Each turn runs what the chat service runs (``search.chat.rewrite_question``, the index's
search with misspellings forgiven, ``search.chat.answer_from``), without the feedback store.
Figures:

- answer_accuracy: share of ``answer`` questions answered with every phrase (case and
  whitespace aside); citation_accuracy: share whose source document is cited;
- no_answer_precision / no_answer_recall: of the questions the chat declined ("The documents
  do not say"), the share that are ``no_answer`` ones; of the ``no_answer`` ones, the share
  declined (over the ``answer`` and ``no_answer`` questions);
- withheld_declined: share of the ``answer`` questions declined when asked again with the
  documents that state their answer withheld from the search (``withheld_turns``: a reader
  who may not open them); withheld_cited: those answers citing a withheld document (must be 0);
- followup_accuracy: share of second messages answered with every phrase; rewrite_accuracy:
  share rewritten exactly when they refer back;
- distorted_sentences: answer sentences not found verbatim (whitespace aside) in the document
  they cite, of answer_sentences in all; cut_sentences: verbatim, but starting or stopping
  inside a sentence of the document.

Whether to decline is the answerability model's call (``search.chat.evidence``), fitted by
``make fit-answerability`` on the ``dev`` half (even-numbered ids) of this set and the other
labeled question sets; figures are given for the dev half, the held-out ``test`` half (odd
ids) and all questions. ``--threshold`` declines below a sentence score instead (the rule
before the model, for comparison).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from evaluation.datasets import index_for_labeled_set
from search.chat import (
    PASSAGES_PER_ANSWER,
    LLMConfig,
    answer_from,
    collapse,
    rewrite_question,
)
from search.index import SearchIndex
from search.index.forgiving import forgiving_page
from search.retrieval.filters import Filters
from search.retrieval.forgiving import corrector_for
from search.settings import Settings

QUESTIONS = "chat_questions.jsonl"
_QUOTED = re.compile(r"(.+?)\s*((?:\[\d+\])+)[.!?]?(?=\s|$)")


def load_questions(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for row in rows:
        row["half"] = "dev" if int(re.sub(r"\D", "", row["id"])) % 2 == 0 else "test"
    return rows


def run_turn(
    index: SearchIndex, question: str, history: list[str], llm, threshold=None, filters=None
):
    """(searched_for, answer) for one message after the ``history`` of searched-for texts,
    from the documents ``filters`` allows (a reader's)."""
    searched_for = rewrite_question(question, history)
    corrector_for(index, wait=None)  # ready, as in a warmed-up service (built once per index)
    found = forgiving_page(index, searched_for, k=PASSAGES_PER_ANSWER, filters=filters, weaker=True)
    searched_for = found.corrected_query or searched_for  # as the chat service searches
    results = found.results.results
    answer = answer_from(index, question, searched_for, results, llm=llm, threshold=threshold)
    return searched_for, answer


def sources(row: dict) -> set[str]:
    """The documents that state a question's answer (one id, or a list when several do)."""
    found = row.get("doc_id") or []
    return {found} if isinstance(found, str) else set(found)


def has_phrases(answer, phrases: list[str]) -> bool:
    text = collapse(answer.text).lower()
    return answer.answered and all(collapse(p).lower() in text for p in phrases)


_CLOSES = (".", "!", "?", ":", ";", "|", '"', ")")


def _starts_clean(before: str) -> bool:
    """Whether a quote may start after ``before``: at the start, after a sentence's end, a
    list marker, a blank line, or a short line (a heading, a label); not after a line
    wrapped inside a sentence ("Do not\ntry to ...")."""
    before = before.rstrip(" \t")
    if not before or before.endswith(_CLOSES):
        return True
    if re.search(r"(?:^|\n)\s*(?:[-*•]|\d{1,2}[.)])$", before):
        return True
    if not before.endswith("\n"):
        return False
    previous = before.rstrip("\n").rsplit("\n", 1)[-1].strip()
    short = len(previous) < 60 or " | " in previous  # a heading, a label, a table row
    return before.endswith("\n\n") or previous.endswith(_CLOSES) or short


def _whole(sentence: str, source: str) -> bool:
    """Whether ``sentence`` occurs in ``source`` as a whole sentence or line: it starts where
    a sentence or line starts (``_starts_clean``), and ends a sentence or a line."""
    pattern = r"\s+".join(re.escape(w) for w in sentence.split())
    for found in re.finditer(pattern, source):
        after = source[found.end() :].lstrip(" \t")
        ends = sentence.endswith(_CLOSES) or not after or after[0] in "\n|"
        if ends and _starts_clean(source[: found.start()]):
            return True
    return False


def distortions(index: SearchIndex, answer) -> tuple[int, int, int]:
    """(answer sentences, those not verbatim in the document they cite, those cut: verbatim
    but starting or stopping inside a sentence of it)."""
    if not answer.answered:
        return 0, 0, 0
    by_number = {p.number: p.doc_id for p in answer.sources}
    total = bad = cut = 0
    for sentence, marks in _QUOTED.findall(answer.text):
        for number in re.findall(r"\d+", marks):
            total += 1
            doc_id = by_number.get(int(number))
            source = index.document_text(doc_id) if doc_id else ""
            verbatim = collapse(sentence) in collapse(source)
            bad += not verbatim
            cut += verbatim and not _whole(sentence, source)
    return total, bad, cut


def single_turns(index, rows, llm, threshold) -> list[dict]:
    out = []
    for row in rows:
        searched_for, answer = run_turn(index, row["question"], [], llm, threshold)
        total, bad, cut = distortions(index, answer)
        out.append(
            {
                **row,
                "answerable": row["kind"] == "answer",
                "score": answer.score,
                "answered": answer.answered,
                "correct": has_phrases(answer, row.get("phrases", [])),
                "cited": bool(sources(row) & {p.doc_id for p in answer.cited()}),
                "sentences": total,
                "distorted": bad,
                "cut": cut,
                "answer": answer.text,
                "evidence": answer.evidence,
            }
        )
    return out


def withheld_turns(index, rows, llm, threshold) -> list[dict]:
    """Each answerable question of ``rows`` asked again with the documents that state its
    answer withheld from the search, as for a reader who may not open them: the chat should
    say the documents do not say, as for any unanswerable question, and cite nothing withheld."""
    out = []
    for row in rows:
        withheld = sources(row)
        if row["kind"] != "answer" or not withheld:
            continue
        readable = Filters.of(allow=lambda meta, hidden=withheld: meta.get("path") not in hidden)
        _, answer = run_turn(index, row["question"], [], llm, threshold, readable)
        out.append(
            {
                **row,
                "answerable": False,
                "correct": False,
                "answered": answer.answered,
                "cites_withheld": bool(withheld & {p.doc_id for p in answer.sources}),
                "answer": answer.text,
                "evidence": answer.evidence,
            }
        )
    return out


def _follow_ups(index, rows, llm, threshold) -> list[dict]:
    out = []
    for row in rows:
        first, answer = run_turn(index, row["first"], [], llm, threshold)
        searched_for, second = run_turn(index, row["question"], [first], llm, threshold)
        total, bad, cut = distortions(index, answer)
        total2, bad2, cut2 = distortions(index, second)
        out.append(
            {
                **row,
                "correct": has_phrases(second, row["phrases"]),
                "rewritten_right": (searched_for != row["question"]) == row["refers_back"],
                "sentences": total + total2,
                "distorted": bad + bad2,
                "cut": cut + cut2,
                "searched_for": searched_for,
                "answer": second.text,
            }
        )
    return out


def _share(flags) -> float | None:
    flags = list(flags)
    return round(sum(flags) / len(flags), 3) if flags else None


def _figures(single: list[dict], follow: list[dict], withheld: list[dict]) -> dict:
    answerable = [r for r in single if r["answerable"]]
    declined = [r for r in single if not r["answered"]]
    unanswerable = [r for r in single if not r["answerable"]]
    return {
        "questions": len(answerable),
        "answer_accuracy": _share(r["correct"] for r in answerable),
        "citation_accuracy": _share(r["cited"] for r in answerable),
        "no_answer_questions": len(unanswerable),
        "no_answer_precision": _share(not r["answerable"] for r in declined),
        "no_answer_recall": _share(not r["answered"] for r in unanswerable),
        "withheld_questions": len(withheld),
        "withheld_declined": _share(not r["answered"] for r in withheld),
        "withheld_cited": sum(r["cites_withheld"] for r in withheld),
        "follow_ups": len(follow),
        "followup_accuracy": _share(r["correct"] for r in follow),
        "rewrite_accuracy": _share(r["rewritten_right"] for r in follow),
        "answer_sentences": sum(r["sentences"] for r in single + follow),
        "distorted_sentences": sum(r["distorted"] for r in single + follow),
        "cut_sentences": sum(r["cut"] for r in single + follow),
    }


def run_bench(
    dataset: Path, questions: Path, llm: LLMConfig | None, threshold: float | None = None
) -> dict:
    settings = Settings.from_env()
    started = time.perf_counter()
    built = index_for_labeled_set(dataset, settings, settings.index_config())
    index_seconds = time.perf_counter() - started
    rows = load_questions(questions)
    started = time.perf_counter()
    asked = [r for r in rows if r["kind"] != "follow_up"]
    single = single_turns(index := built.index, asked, llm, threshold)
    withheld = withheld_turns(index, asked, llm, threshold)
    follow = _follow_ups(index, [r for r in rows if r["kind"] == "follow_up"], llm, threshold)
    seconds = time.perf_counter() - started
    return {
        "dataset": str(dataset),
        "index_version": built.version,
        "mode": "generative" if llm else "extractive",
        "declined_by": "the answerability model" if threshold is None else f"score < {threshold}",
        **_figures(single, follow, withheld),
        "halves": {
            half: _figures(
                [r for r in single if r["half"] == half],
                [r for r in follow if r["half"] == half],
                [r for r in withheld if r["half"] == half],
            )
            for half in ("dev", "test")
        },
        "misses": [
            {k: r.get(k) for k in ("id", "question", "answer", "score", "cut")}
            for r in single + follow
            if r["cut"]
            or (r.get("answerable", True) and not r["correct"])
            or (not r.get("answerable", True) and r["answered"])
        ],
        "seconds": round(seconds, 1),
        "index_seconds": round(index_seconds, 1),
        "ms_per_turn": round(1000 * seconds / (len(single) + len(withheld) + 2 * len(follow)), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_chat", description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=Path("data/sample"))
    parser.add_argument("--questions", type=Path, help=f"default: DATASET/{QUESTIONS}")
    parser.add_argument(
        "--threshold",
        type=float,
        help="decline below this sentence score instead of asking the answerability model",
    )
    parser.add_argument("--llm", action="store_true", help="answer with the configured LLM")
    args = parser.parse_args(argv)
    questions = args.questions or args.dataset / QUESTIONS
    if not questions.is_file():
        print(f"error: {questions} is not a file", file=sys.stderr)
        return 2
    llm = None
    if args.llm:
        s = Settings.from_env()
        llm = LLMConfig.configured(s.llm_url, s.llm_model, s.llm_api_key)
        if llm is None:
            print("error: --llm needs DOCSEARCH_LLM_URL and DOCSEARCH_LLM_MODEL", file=sys.stderr)
            return 2
    print(json.dumps(run_bench(args.dataset, questions, llm, args.threshold), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
