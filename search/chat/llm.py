"""The optional generative answer: an OpenAI-compatible chat-completions endpoint writes the
answer from the same numbered passages. The extractive scoring decides first whether the
documents answer at all (a question they do not answer never reaches the model), and any
failure of the endpoint falls back to the extractive answer."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from search.chat.answer import GENERATIVE, Answer, Passage
from search.chat.extractive import extractive_answer, not_said
from search.chunking import Chunk
from search.encoding import Encoder

SYSTEM_PROMPT = (
    "You answer questions about an organisation's documents using only the numbered passages "
    "given. Cite every statement with the number of its passage in square brackets, like [1] "
    "or [2][3]. Quote numbers, dates and negations exactly as the passages state them. If the "
    'passages do not contain the answer, say "The documents do not say". Be brief.'
)
_REFUSAL = re.compile(
    r"\b(?:documents|passages|context)\s+(?:do|does)\s+not\s+(?:say|contain|mention|answer)",
    re.IGNORECASE,
)


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
    text = text.strip()
    return Answer(text, tuple(passages), GENERATIVE, answered=not _REFUSAL.search(text))


def build_answer(
    question: str,
    passages: Sequence[Passage],
    encoder: Encoder | None = None,
    llm: LLMConfig | None = None,
    history: Sequence[str] = (),
    documents: Mapping[str, Sequence[Chunk]] | None = None,
    threshold: float | None = None,
    scored_as: str = "",
) -> Answer:
    """Generative when ``llm`` is given, works, and the documents answer at all; else the
    extractive answer (which says so when the documents do not answer). ``scored_as``: the
    text sentences are matched with, when not the question itself (a rewritten follow-up)."""
    extractive = extractive_answer(scored_as or question, passages, encoder, documents, threshold)
    if not extractive.answered and passages:
        extractive = replace(extractive, text=not_said(question))
    if llm is None or not extractive.answered:
        return extractive
    try:
        generated = generate_answer(question, extractive.sources, llm, history)
        return replace(generated, score=extractive.score)
    except Exception as exc:  # noqa: BLE001 - any failure of the endpoint means "fall back"
        reason = f"{type(exc).__name__}: {exc}"[:200]
        return replace(
            extractive,
            note=f"The language model {llm.model} at {llm.url} could not answer ({reason}); "
            "this is the extractive answer instead.",
        )
