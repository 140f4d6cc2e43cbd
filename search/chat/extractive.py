"""The extractive answer: whole sentences of the retrieved documents, quoted verbatim.

Every sentence of the top documents (``sentences.with_headings``) is scored against the
question: the cosine of its embedding and the question's (by the index's own encoder; the
better of the sentence alone and the sentence under its heading), plus the IDF-weighted share
of the question's terms it contains (with its heading and title), plus a small prior for the
better-ranked document. Each part of a multi-part question ("when ... and how much ...?") gets
its own best sentence; a sentence that scores nearly as well as the best is added, up to
``MAX_SENTENCES``. A quoted sentence that leans on the one before it ("It is here that ...")
is quoted with that one when it directly precedes it in the same paragraph.

Whether those sentences answer the question at all is decided from the evidence
(``search.chat.evidence``): a model fitted on labeled questions with unanswerable ones
(``make fit-answerability``) for the packaged MiniLM as the default backend runs it; another
encoder needs its own fit. When it says no, the answer says the documents do not say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from search.chat.answer import EXTRACTIVE, Answer, Passage, span_passage, text_of
from search.chat.evidence import Evidence, declines, gather, weigh_terms
from search.chat.questions import question_parts, stems, words
from search.chat.sentences import Sentence, collapse, with_headings
from search.chat.vectors import SENTENCE_VECTORS
from search.chunking import Chunk
from search.encoding import Encoder

# A part of a multi-part question gets a sentence of its own when that scores at least this
# (chosen on the sample set's dev half when it was also the only rule for declining).
PART_THRESHOLD = 0.752
LEXICAL_WEIGHT = 0.5
RANK_PRIOR = 0.1  # added to the sentences of the document ranked r: RANK_PRIOR / r
MAX_SENTENCES = 3
SENTENCES_PER_DOCUMENT = 150  # a longer document is read around its retrieved passage only
NEIGHBOURS = 3  # chunks either side of the retrieved one, in a long document
NEAR_BEST = 0.15  # an extra sentence must score within this of the best
FRAGMENT_PENALTY = 0.15  # for a byline of names, versions and dates
_ASKS = ("?", ":")  # a question (a FAQ's heading) or a lead-in answers nothing itself
_NUMBER = re.compile(r"(?<![\w-])\d[\d.,:/%]*(?![\w-])")  # "600", "2.0", "1,240", "24/7"
_ENDS = (".", "!", '"', "'")
_WH = ("what", "when", "where", "who", "whom", "which", "why", "how")
# a sentence opening with one of these leans on the one before it ("It is here that the Rhine
# meets the Neckar" after "...flows through Germany."): it is quoted with its lead-in
_LEANS = re.compile(r"(?:It|Its|This|These|Those|They|Their|He|His|She|Her|Here|Such|The latter)\b")


@dataclass(frozen=True)
class _Candidate:
    passage: Passage
    sentence: Sentence
    heading: str

    @property
    def context(self) -> str:
        """What is embedded and matched: the sentence under its heading."""
        return _in_context(self.sentence, self.heading)


def _in_context(sentence: Sentence, heading: str) -> str:
    return f"{heading}: {sentence.text}" if heading else sentence.text


def _candidates(
    passages: Sequence[Passage], documents: Mapping[str, Sequence[Chunk]]
) -> tuple[list[_Candidate], dict[str, str]]:
    """The sentences of each passage's document (of the passage alone when its document is
    not given; of the chunks around the passage in a long document), once per document; and
    the texts the sentences' offsets point into."""
    out, texts = [], {}
    for passage in passages:
        if passage.doc_id in texts:
            continue
        chunks = documents.get(passage.doc_id)
        texts[passage.doc_id] = text = text_of(chunks) if chunks else passage.text
        found = _quotable(passage.title, text)
        if len(found) > SENTENCES_PER_DOCUMENT and chunks:
            start, end = _around(passage, chunks)
            found = [(s, h) for s, h in found if s.end > start and s.start < end]
        out.extend(_Candidate(passage, s, h) for s, h in found)
    return out, texts


def _quotable(title: str, text: str) -> list[tuple[Sentence, str]]:
    """(sentence, heading) of every sentence of a document that an answer may quote."""
    title = collapse(title).lower()
    return [
        (s, h)
        for s, h in with_headings(text)
        if not s.text.endswith(_ASKS) and s.text.lower() != title and not _heading(s.text)
    ]


def embedded_texts(title: str, chunks: Sequence[Chunk]) -> list[str]:
    """What scoring a document's sentences embeds: each quotable sentence under its heading
    and alone (``_scores``), so they can be encoded before a question needs them."""
    found = _quotable(title, text_of(chunks))
    return [text for s, h in found for text in (_in_context(s, h), s.text)]


def _around(passage: Passage, chunks: Sequence[Chunk]) -> tuple[int, int]:
    """The character span of the passage's chunk and ``NEIGHBOURS`` chunks either side."""
    position = next((c.position for c in chunks if c.id == passage.chunk_id), 0)
    near = [c for c in chunks if abs(c.position - position) <= NEIGHBOURS] or list(chunks)
    return min(c.start for c in near), max(c.end for c in near)


def _bags(candidates: Sequence[_Candidate]) -> list[set[str]]:
    """Each candidate's stems, with its heading and title: what its terms are matched in."""
    return [stems(f"{c.passage.title} {c.context}") for c in candidates]


def _scores(question: str, candidates: Sequence[_Candidate], bags, encoder: Encoder | None):
    """Each candidate's match with ``question`` (see the module's docstring); ``bags``: the
    candidates' ``_bags``."""
    idf = weigh_terms(question, bags)
    total = sum(idf.values()) or 1.0
    lexical = np.array([sum(idf[t] for t in bag & idf.keys()) / total for bag in bags])
    similarity = np.zeros(len(candidates))
    if encoder is not None:
        question_vector = encoder.encode_queries([question])[0]
        vectors = SENTENCE_VECTORS.encode(encoder, [c.context for c in candidates])
        alone = SENTENCE_VECTORS.encode(encoder, [c.sentence.text for c in candidates])
        best = np.maximum(vectors @ question_vector, alone @ question_vector)
        similarity = np.clip(best, 0.0, 1.0)
    prior = np.array([RANK_PRIOR / c.passage.number for c in candidates])
    fragment = np.array([_fragment(c.sentence.text) for c in candidates])
    return similarity + LEXICAL_WEIGHT * lexical + prior - FRAGMENT_PENALTY * fragment, similarity


def _heading(text: str) -> bool:
    """A line that is no sentence and states no figure: a heading, read as context only."""
    return not text.endswith(_ENDS) and not _NUMBER.search(text)


def _fragment(text: str) -> bool:
    """A byline ("Finance · Version 1.4, 10 January 2025"): it answers only when it clearly
    matches better than the sentences around it."""
    return " · " in text


def not_said(question: str) -> str:
    """The plain answer when the documents do not answer ``question``."""
    asked = " ".join(question.split()).rstrip("?.! ")
    if words(asked)[:1] and words(asked)[0] in _WH:
        return f"The documents do not say {asked[0].lower()}{asked[1:]}."
    return f'The documents do not say anything about "{asked}".'


def _choose(question: str, candidates, encoder, part_threshold: float, limit: int):
    """Indices of the sentences to quote (whether to quote them at all is decided after), and
    every candidate's overall score, similarity and stems (``_bags``)."""
    bags = _bags(candidates)
    overall, similarity = _scores(question, candidates, bags, encoder)
    best = float(overall.max())
    chosen: list[int] = []
    parts = question_parts(question)
    for part in parts if len(parts) > 1 else ():
        scores, _ = _scores(part, candidates, bags, encoder)
        for i in np.argsort(-scores, kind="stable")[:3]:
            if scores[i] >= part_threshold and int(i) not in chosen:
                chosen.append(int(i))
                break
    texts = {candidates[i].sentence.text for i in chosen}
    for i in np.argsort(-overall, kind="stable"):
        if len(chosen) >= limit or (chosen and overall[i] < best - NEAR_BEST):
            break
        if candidates[i].sentence.text not in texts:
            chosen.append(int(i))
            texts.add(candidates[i].sentence.text)
    return chosen, overall, similarity, bags


def _evidence(question, candidates, chosen, overall, similarity, bags, passages) -> Evidence:
    """What the answerability model weighs (``search.chat.evidence``)."""
    top = int(np.argmax(overall))
    return gather(
        question,
        quoted_contexts=[f"{candidates[i].passage.title} {candidates[i].context}" for i in chosen],
        all_contexts=[f"{c.passage.title} {c.context}" for c in candidates],
        all_bags=bags,
        best_score=float(overall[top]),
        best_similarity=float(similarity[top]),
        relevance=passages[0].relevance,
        quoted_sentences=[candidates[i].context for i in chosen],
        best_from_top=candidates[top].passage.number == passages[0].number,
    )


def extractive_answer(
    question: str,
    passages: Sequence[Passage],
    encoder: Encoder | None = None,
    documents: Mapping[str, Sequence[Chunk]] | None = None,
    threshold: float | None = None,
    max_sentences: int = MAX_SENTENCES,
) -> Answer:
    """Whole sentences of the passages' documents (``documents``: each one's chunks), each
    followed by the number of the passage it cites; or a plain "the documents do not say",
    as the answerability model decides (``search.chat.evidence.declines``), or, given a
    ``threshold``, when the best sentence scores below it."""
    sources = tuple(passages)
    if not passages:
        text = "No documents matched the question, so there is nothing to answer from."
        return Answer(text, sources, EXTRACTIVE, answered=False)
    candidates, texts = _candidates(passages, documents or {})
    if not candidates:
        return Answer(not_said(question), sources, EXTRACTIVE, answered=False)
    if encoder is None:  # the model is for scores with a similarity: ask for any overlap
        threshold = RANK_PRIOR + 0.01
    part_threshold = PART_THRESHOLD if threshold is None else threshold
    chosen, overall, similarity, bags = _choose(
        question, candidates, encoder, part_threshold, max_sentences
    )
    found = _evidence(question, candidates, chosen, overall, similarity, bags, passages)
    best = found.score
    if declines(found) if threshold is None else best < threshold:
        said = not_said(question)
        return Answer(
            said, sources, EXTRACTIVE, answered=False, score=best, evidence=found.as_dict()
        )
    quoted = _with_lead_ins([candidates[i] for i in chosen], candidates, texts)
    text = " ".join(f"{c.sentence.text} [{c.passage.number}]" for c in quoted)
    cited = _cited_sources(sources, quoted, documents or {}, texts)
    return Answer(text, cited, EXTRACTIVE, score=best, evidence=found.as_dict())


def _with_lead_ins(quoted, candidates, texts) -> list[_Candidate]:
    """``quoted`` with the sentence before each one that leans on it (``_LEANS``), when that
    sentence directly precedes it in the same paragraph and is not quoted already."""
    out: list[_Candidate] = []
    for c in quoted:
        if _LEANS.match(c.sentence.text):
            lead = _lead_in(c, candidates, texts[c.passage.doc_id])
            if lead is not None and lead.sentence not in {q.sentence for q in out + quoted}:
                out.append(lead)
        out.append(c)
    return out


def _lead_in(c: _Candidate, candidates, text: str) -> _Candidate | None:
    before = [
        o
        for o in candidates
        if o.passage.doc_id == c.passage.doc_id and o.sentence.end <= c.sentence.start
    ]
    if not before:
        return None
    lead = max(before, key=lambda o: o.sentence.end)
    gap = text[lead.sentence.end : c.sentence.start]
    return lead if not gap.strip() and "\n\n" not in gap else None


def _cited_sources(sources, quoted, documents, texts) -> tuple[Passage, ...]:
    """The sources, each cited one showing the passage that holds its quoted sentences."""
    spans: dict[str, tuple[int, int]] = {}
    for c in quoted:
        start, end = spans.get(c.passage.doc_id, (c.sentence.start, c.sentence.end))
        spans[c.passage.doc_id] = (min(start, c.sentence.start), max(end, c.sentence.end))
    out = []
    for passage in sources:
        chunks = documents.get(passage.doc_id)
        if passage.doc_id in spans and chunks:
            chunk_id, text = span_passage(chunks, texts[passage.doc_id], *spans[passage.doc_id])
            passage = replace(passage, chunk_id=chunk_id or passage.chunk_id, text=text)
        out.append(passage)
    return tuple(out)
