"""What the feedback says: impressions (a query, what was shown, what the user did) and the one
label policy that turns them into judgements.

The policy is used alike by ``FeedbackStore.export_labels`` (graded labels), by the training
pairs of the learning loop (``lifecycle.loop.pairs.build_training_data``: positives and hard
negatives) and so by the choice memory (``TrainingData.choices``: the positives of the training
questions). Per impression (one query, what was shown, what that user then did):

1. A result the user clicked (any kind) or up-voted is CHOSEN, unless the vote in force on it is
   a thumbs-down: a click followed by a thumbs-down says the click was a mistake.
2. A result whose vote in force is a thumbs-down is VOTED_DOWN, clicked or not.
3. A result shown above the lowest clicked or up-voted one that got neither is SKIPPED (the
   cascade model: the user surely examined it and passed it over).
   A withdrawn vote (0) is no vote; a result shown below every choice and not touched says
   nothing (it may never have been examined), and neither does an impression without clicks
   or votes.

Across the impressions of one question (the same text, normalised by ``query_key``):

4. A document CHOSEN in any impression is relevant, whatever other users did with it (one
   user's choice shows that it answers the question for someone; this is what the training
   pairs were measured with): grade 2 when a thumbs-up is in force on it in some impression,
   else 1. It is a positive of the training pairs and a choice the memory remembers.
5. Otherwise a document VOTED_DOWN in some impression, or else SKIPPED in some, is judged
   irrelevant: grade 0, a hard negative of the training pairs named by that verdict.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

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
        return votes_in_force((v.doc_id, v.value) for v in self.votes if v.doc_id is not None)

    def clicked(self) -> set[str]:
        return {c.doc_id for c in self.clicks}

    def skipped(self) -> set[str]:
        """Results shown above the lowest clicked or up-voted one that got neither."""
        positive = self.clicked() | {d for d, v in self.votes_in_force().items() if v > 0}
        ranks = [s.rank for s in self.shown if s.doc_id in positive]
        if not ranks:
            return set()
        return {s.doc_id for s in self.shown if s.rank < max(ranks) and s.doc_id not in positive}


def votes_in_force(votes: Iterable[tuple[Hashable, int]]) -> dict[Hashable, int]:
    """The vote in force per target, from ``(target, value)`` pairs in the order they were cast:
    the latest one, unless it withdrew the vote (0). Votes are events, so changing one's mind
    adds a row and never counts twice. Monitoring and the labels both count votes this way."""
    latest: dict[Hashable, int] = {}
    for target, value in votes:
        latest[target] = value
    return {target: value for target, value in latest.items() if value}


def query_key(text: str) -> tuple[str, str]:
    """(qid, normalised text): the same question typed twice is one labeled query."""
    normalised = " ".join(text.lower().split())
    return "fb-" + hashlib.sha1(normalised.encode()).hexdigest()[:12], normalised


class Verdict(StrEnum):
    """What one impression says about one document (rules 1-3 of the module docstring)."""

    CHOSEN = "chosen"
    VOTED_DOWN = "voted_down"
    SKIPPED = "skipped"


def verdicts(imp: Impression) -> dict[str, Verdict]:
    """The documents this impression says something about, each with its verdict; a document
    it says nothing about (shown below every choice and untouched) is absent."""
    in_force = imp.votes_in_force()
    down = {d for d, v in in_force.items() if v < 0}
    chosen = (imp.clicked() | {d for d, v in in_force.items() if v > 0}) - down
    judged = dict.fromkeys(imp.skipped(), Verdict.SKIPPED)
    judged |= dict.fromkeys(down, Verdict.VOTED_DOWN)
    judged |= dict.fromkeys(chosen, Verdict.CHOSEN)
    return judged


@dataclass
class LabelEvidence:
    """Why one (query, document) pair got its grade: counts and the ids of the events."""

    up_votes: int = 0  # impressions with a thumbs-up in force on it
    down_votes: int = 0  # impressions with a thumbs-down in force on it
    clicks: int = 0
    skips: int = 0  # impressions that showed it above a choice, untouched
    chosen: int = 0  # impressions whose verdict was CHOSEN
    query_ids: list[int] = field(default_factory=list)
    click_ids: list[int] = field(default_factory=list)
    vote_ids: list[int] = field(default_factory=list)
    index_versions: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict | None:
        """Across impressions (rules 4-5): chosen in any one wins; else voted down; else skipped."""
        if self.chosen:
            return Verdict.CHOSEN
        if self.down_votes:
            return Verdict.VOTED_DOWN
        if self.skips:
            return Verdict.SKIPPED
        return None

    @property
    def grade(self) -> int | None:
        """2 for a chosen document with a thumbs-up in force, 1 for any other chosen one, 0 for
        a voted-down or skipped one, None when there is no signal."""
        verdict = self.verdict
        if verdict is None:
            return None
        if verdict is not Verdict.CHOSEN:
            return GRADE_NEGATIVE
        return GRADE_UPVOTED if self.up_votes else GRADE_CLICKED


def record_impression(evidence: dict[str, LabelEvidence], imp: Impression) -> dict[str, Verdict]:
    """Add what ``imp`` says to ``evidence`` (doc_id -> LabelEvidence of one question); returns
    this impression's verdicts, empty when it says nothing."""
    judged = verdicts(imp)
    in_force, skipped = imp.votes_in_force(), imp.skipped()
    for doc_id, verdict in judged.items():
        ev = evidence.setdefault(doc_id, LabelEvidence())
        ev.up_votes += in_force.get(doc_id, 0) > 0
        ev.down_votes += in_force.get(doc_id, 0) < 0
        ev.skips += doc_id in skipped
        ev.chosen += verdict is Verdict.CHOSEN
        doc_clicks = [c.id for c in imp.clicks if c.doc_id == doc_id]
        ev.clicks += len(doc_clicks)
        ev.click_ids += doc_clicks
        ev.vote_ids += [v.id for v in imp.votes if v.doc_id == doc_id]
        ev.query_ids.append(imp.query_id)
        if imp.index_version not in ev.index_versions:
            ev.index_versions.append(imp.index_version)
    return judged


@dataclass(frozen=True)
class Labels:
    """Feedback as BEIR dicts: ``queries {qid: text}``, ``qrels {qid: {doc_id: grade}}``,
    plus ``lineage {qid: {doc_id: LabelEvidence}}`` naming the events behind every grade."""

    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    lineage: dict[str, dict[str, LabelEvidence]]


def labels_from(impressions: Iterable[Impression]) -> Labels:
    """Feedback as graded relevance labels, one labeled query per distinct (normalised) text,
    graded by ``LabelEvidence.grade``; pairs with no signal are left out."""
    texts: dict[str, str] = {}
    evidence: dict[str, dict[str, LabelEvidence]] = defaultdict(dict)
    for imp in impressions:
        qid, text = query_key(imp.query)
        if record_impression(evidence[qid], imp):
            texts.setdefault(qid, text)
    qrels: dict[str, dict[str, int]] = {}
    lineage: dict[str, dict[str, LabelEvidence]] = {}
    for qid, docs in evidence.items():
        graded = {d: ev.grade for d, ev in docs.items() if ev.grade is not None}
        if graded:
            qrels[qid] = graded
            lineage[qid] = {d: docs[d] for d in graded}
    return Labels({q: texts[q] for q in qrels}, qrels, lineage)
