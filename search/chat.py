"""Answers to questions from retrieved passages, with numbered citations.

A follow-up ("what about for contractors?") is rewritten with salient terms of the previous
turn before retrieval. The answer is extractive by default: the passages' sentences that best
match the question (query-term overlap plus embedding similarity), each followed by its
citation ``[n]``. When an OpenAI-compatible endpoint is configured the answer is generated
from the same numbered passages instead; any failure there falls back to the extractive answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from search.chunking import Chunk
from search.encoding import Encoder
from search.index import SearchResult

__all__ = [
    "Answer",
    "LLMConfig",
    "Passage",
    "build_answer",
    "extractive_answer",
    "generate_answer",
    "passages_for",
    "rewrite_question",
]

_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]?\s+|\n+")
_CITATION = re.compile(r"\[(\d+)\]")
_STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    get got had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours many much tell please know""".split()
)
_PRONOUNS = frozenset(
    "it its they them their this that these those he she him her there one ones".split()
)
_FOLLOW_UP_OPENERS = ("what about", "how about", "and ", "what if", "same for", "also ", "and what")

EXTRACTIVE = "extractive"
GENERATIVE = "generative"


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the answer cites it: ``[number]``."""

    number: int
    doc_id: str
    chunk_id: str
    title: str
    path: str
    text: str


@dataclass(frozen=True)
class Answer:
    text: str  # sentences with [n] citations
    sources: tuple[Passage, ...]
    mode: str  # EXTRACTIVE or GENERATIVE
    note: str = ""  # e.g. why the generative answer fell back to the extractive one

    def cited(self) -> list[Passage]:
        """The sources the text actually cites, in citation order."""
        numbers = dict.fromkeys(int(n) for n in _CITATION.findall(self.text))
        by_number = {p.number: p for p in self.sources}
        return [by_number[n] for n in numbers if n in by_number]


@dataclass(frozen=True)
class LLMConfig:
    """An OpenAI-compatible chat-completions endpoint (base URL such as http://host:8000/v1)."""

    url: str
    model: str
    api_key: str = ""
    timeout: float = 60.0

    @classmethod
    def configured(cls, url: str, model: str, api_key: str = "") -> LLMConfig | None:
        """The endpoint when both its URL and model are given (``Settings.llm_url`` and
        ``llm_model``), else None: answers stay extractive."""
        if not (url and model):
            return None
        return cls(url.rstrip("/"), model, api_key)


def content_terms(text: str) -> list[str]:
    """Lower-cased words that carry meaning, in order, without repeats."""
    words = (w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS)
    return list(dict.fromkeys(words))


def rewrite_question(question: str, history: Sequence[str], max_terms: int = 6) -> str:
    """The question to retrieve with: a follow-up (short, with a pronoun, or opening like
    "what about") gets the salient terms of the previous turn's (already rewritten) question."""
    if not history:
        return question
    words = _WORD.findall(question.lower())
    own = content_terms(question)
    follow_up = (
        len(own) <= 2
        or any(w in _PRONOUNS for w in words)
        or question.lower().lstrip().startswith(_FOLLOW_UP_OPENERS)
    )
    if not follow_up:
        return question
    extra = [t for t in content_terms(history[-1]) if t not in own][:max_terms]
    return f"{question} {' '.join(extra)}" if extra else question


def passages_for(
    results: Sequence[SearchResult], chunks: Mapping[str, Chunk], n: int = 5
) -> list[Passage]:
    """The best-matching passage of each of the top ``n`` results, numbered from 1."""
    passages = []
    for result in results[:n]:
        chunk = chunks.get(result.chunk_id)
        text = chunk.text if chunk else result.snippet.text
        passages.append(
            Passage(
                number=len(passages) + 1,
                doc_id=result.doc_id,
                chunk_id=result.chunk_id,
                title=result.title,
                path=str(result.metadata.get("path", result.doc_id)),
                text=text,
            )
        )
    return passages


def _sentences(text: str) -> list[str]:
    out = []
    for piece in _SENTENCE.split(text):
        piece = piece.strip().lstrip("#*->• ").strip()
        if len(_WORD.findall(piece)) >= 4:  # headings and fragments do not answer anything
            out.append(piece)
    return out


def extractive_answer(
    question: str,
    passages: Sequence[Passage],
    encoder: Encoder | None = None,
    max_sentences: int = 3,
) -> Answer:
    """The passages' sentences most like the question, best first, each with its citation.

    Score = share of the question's content terms in the sentence (after a crude plural strip)
    + cosine similarity of sentence and question embeddings (when an encoder is given)
    + a small prior for higher-ranked passages (0.05 / passage number).
    """
    sources = tuple(passages)
    if not passages:
        return Answer(
            "No documents matched the question, so there is nothing to answer from.",
            sources,
            EXTRACTIVE,
        )
    candidates = [(p, s) for p in passages for s in _sentences(p.text)]
    if not candidates:
        candidates = [(p, p.text.strip()) for p in passages if p.text.strip()]
    terms = {_stem(t) for t in content_terms(question)}
    overlap = np.array(
        [
            len(terms & {_stem(t) for t in content_terms(s)}) / max(len(terms), 1)
            for _, s in candidates
        ]
    )
    similarity = np.zeros(len(candidates))
    if encoder is not None:
        vectors = encoder.encode_queries([question] + [s for _, s in candidates])
        similarity = np.clip(vectors[1:] @ vectors[0], 0.0, 1.0)
    prior = np.array([0.05 / p.number for p, _ in candidates])
    scores = overlap + similarity + prior
    if overlap.max() == 0 and similarity.max() < 0.3:
        return Answer(
            "The retrieved passages do not seem to answer this. The closest ones are listed as sources.",
            sources,
            EXTRACTIVE,
        )
    chosen, seen = [], set()
    for i in np.argsort(-scores, kind="stable"):
        passage, sentence = candidates[i]
        if sentence.lower() in seen or scores[i] <= prior[i]:
            continue
        seen.add(sentence.lower())
        chosen.append(f"{sentence} [{passage.number}]")
        if len(chosen) == max_sentences:
            break
    return Answer(" ".join(chosen), sources, EXTRACTIVE)


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


SYSTEM_PROMPT = (
    "You answer questions about an organisation's documents using only the numbered passages "
    "given. Cite every statement with the number of its passage in square brackets, like [1] "
    "or [2][3]. If the passages do not contain the answer, say so. Be brief."
)


def generate_answer(
    question: str, passages: Sequence[Passage], llm: LLMConfig, history: Sequence[str] = ()
) -> Answer:
    """Ask the endpoint for an answer from the numbered passages. Raises on any failure."""
    import requests

    context = "\n\n".join(f"[{p.number}] {p.title} ({p.path})\n{p.text}" for p in passages)
    earlier = "".join(f"Earlier question: {h}\n" for h in history[-3:])
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Passages:\n\n{context}\n\n{earlier}Question: {question}"},
    ]
    headers = {"Authorization": f"Bearer {llm.api_key}"} if llm.api_key else {}
    response = requests.post(
        f"{llm.url}/chat/completions",
        json={"model": llm.model, "messages": messages, "temperature": 0},
        headers=headers,
        timeout=llm.timeout,
    )
    response.raise_for_status()
    text = response.json()["choices"][0]["message"]["content"]
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the model returned an empty answer")
    return Answer(text.strip(), tuple(passages), GENERATIVE)


def build_answer(
    question: str,
    passages: Sequence[Passage],
    encoder: Encoder | None = None,
    llm: LLMConfig | None = None,
    history: Sequence[str] = (),
) -> Answer:
    """Generative when ``llm`` is given and works (and there are passages), else extractive."""
    if llm is None or not passages:
        return extractive_answer(question, passages, encoder)
    try:
        return generate_answer(question, passages, llm, history)
    except Exception as exc:  # noqa: BLE001 - any failure of the endpoint means "fall back"
        reason = f"{type(exc).__name__}: {exc}"[:200]
        fallback = extractive_answer(question, passages, encoder)
        return replace(
            fallback,
            note=f"The language model {llm.model} at {llm.url} could not answer ({reason}); "
            "this is the extractive answer instead.",
        )
