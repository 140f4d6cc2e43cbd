"""What the feedback says: impressions (a query, what was shown, what the user did) and the
label policy that turns them into judgements."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

# Grades of the exported labels (BEIR convention: higher is more relevant, 0 judged irrelevant).
GRADE_UPVOTED = 2
GRADE_CLICKED = 1
GRADE_NEGATIVE = 0


@dataclass(frozen=True)
class Shown:
    rank: int
    doc_id: str
    chunk_id: str
    score: float
    bm25_score: float | None
    dense_score: float | None


@dataclass(frozen=True)
class Click:
    id: int
    doc_id: str
    rank: int | None
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class Vote:
    id: int
    doc_id: str | None
    value: int
    comment: str | None
    created_at: datetime


@dataclass(frozen=True)
class Impression:
    """One logged query with everything shown for it and everything the user did with it."""

    query_id: int
    session_id: str
    query: str
    index_version: str
    method: str
    source: str
    latency_ms: float
    created_at: datetime
    shown: tuple[Shown, ...]
    clicks: tuple[Click, ...]
    votes: tuple[Vote, ...]  # in the order they were cast

    def votes_in_force(self) -> dict[str, int]:
        """doc_id -> +1 / -1 for each result whose latest vote was not withdrawn."""
        latest = {v.doc_id: v.value for v in self.votes if v.doc_id is not None}
        return {doc: value for doc, value in latest.items() if value}

    def clicked(self) -> set[str]:
        return {c.doc_id for c in self.clicks}

    def skipped(self) -> set[str]:
        """Results shown above the lowest clicked or up-voted one that got neither."""
        positive = self.clicked() | {d for d, v in self.votes_in_force().items() if v > 0}
        ranks = [s.rank for s in self.shown if s.doc_id in positive]
        if not ranks:
            return set()
        return {s.doc_id for s in self.shown if s.rank < max(ranks) and s.doc_id not in positive}


def query_key(text: str) -> tuple[str, str]:
    """(qid, normalised text): the same question typed twice is one labeled query."""
    normalised = " ".join(text.lower().split())
    return "fb-" + hashlib.sha1(normalised.encode()).hexdigest()[:12], normalised


@dataclass
class LabelEvidence:
    """Why one (query, document) pair got its grade: counts and the ids of the events."""

    up_votes: int = 0
    down_votes: int = 0
    clicks: int = 0
    skips: int = 0
    query_ids: list[int] = field(default_factory=list)
    click_ids: list[int] = field(default_factory=list)
    vote_ids: list[int] = field(default_factory=list)
    index_versions: list[str] = field(default_factory=list)

    @property
    def grade(self) -> int | None:
        """2 when up-votes outnumber down-votes, 0 when down-votes do, else 1 if clicked,
        0 if only skipped (shown above a click) or down-voted, None when there is no signal."""
        if self.up_votes > self.down_votes:
            return GRADE_UPVOTED
        if self.down_votes > self.up_votes:
            return GRADE_NEGATIVE
        if self.clicks:
            return GRADE_CLICKED
        if self.skips or self.down_votes:
            return GRADE_NEGATIVE
        return None


@dataclass(frozen=True)
class Labels:
    """Feedback as BEIR dicts: ``queries {qid: text}``, ``qrels {qid: {doc_id: grade}}``,
    plus ``lineage {qid: {doc_id: LabelEvidence}}`` naming the events behind every grade."""

    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    lineage: dict[str, dict[str, LabelEvidence]]


def labels_from(impressions: Iterable[Impression]) -> Labels:
    """Feedback as graded relevance labels, one labeled query per distinct (normalised) text.

    Per (query, document) the signals are summed over every impression: up- and down-votes
    in force, clicks (any kind), and skips (shown above a clicked or up-voted result and not
    touched). ``LabelEvidence.grade`` turns them into 2 / 1 / 0; pairs with no signal are
    left out, so a shown-but-ignored result below every click is not a negative.
    """
    texts: dict[str, str] = {}
    evidence: dict[str, dict[str, LabelEvidence]] = defaultdict(dict)
    for imp in impressions:
        qid, text = query_key(imp.query)
        in_force = imp.votes_in_force()
        skipped = imp.skipped()
        touched = imp.clicked() | set(in_force) | skipped
        for doc_id in touched:
            ev = evidence[qid].setdefault(doc_id, LabelEvidence())
            ev.up_votes += in_force.get(doc_id, 0) > 0
            ev.down_votes += in_force.get(doc_id, 0) < 0
            ev.skips += doc_id in skipped
            doc_clicks = [c.id for c in imp.clicks if c.doc_id == doc_id]
            ev.clicks += len(doc_clicks)
            ev.click_ids += doc_clicks
            ev.vote_ids += [v.id for v in imp.votes if v.doc_id == doc_id]
            ev.query_ids.append(imp.query_id)
            if imp.index_version not in ev.index_versions:
                ev.index_versions.append(imp.index_version)
            texts.setdefault(qid, text)
    qrels: dict[str, dict[str, int]] = {}
    lineage: dict[str, dict[str, LabelEvidence]] = {}
    for qid, docs in evidence.items():
        graded = {d: ev.grade for d, ev in docs.items() if ev.grade is not None}
        if graded:
            qrels[qid] = graded
            lineage[qid] = {d: docs[d] for d in graded}
    return Labels({q: texts[q] for q in qrels}, qrels, lineage)
