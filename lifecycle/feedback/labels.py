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

Across the impressions of one question (the same text, normalised by ``query_key``), each
person counted once: a signed-in user by name, an anonymous one by session (``Impression.
asker``), so one person asking the same question again and again counts as one (the cap per
user):

4. A CHOSEN document is relevant only with evidence beyond one person's click, so that clicks by
   one person cannot outweigh many (issue 13): either
   a. at least ``MIN_CHOOSERS`` (2) distinct people chose that document, for this question or
      for another one, or
   b. a person who chose it for this question clicked it *and* gave it a thumbs-up in the same
      impression (two signals, the second one deliberate).
   Rule (a) counts the document's choosers over every question rather than this question's
   alone: that is the least weakening of "two people asked this" that keeps the learning loop
   fed where each question is asked once. On ``make bench-loop``'s simulated SciFact feedback
   (one person per claim) the question-level rule kept 113 of 738 chosen (claim, document)
   pairs (15%, 113 of 607 claims); rule (a) keeps 405 (55%, 385 claims), 96% of them relevant
   against 80% of all choices. One person still cannot make a document relevant on their own
   without a thumbs-up: a second person must have chosen it too. A relevant document is graded 2 when a thumbs-up is in force on it
   in some impression, else 1. It is a positive of the training pairs and a choice the memory
   remembers.
5. Otherwise a document VOTED_DOWN in some impression, or else SKIPPED in some and CHOSEN in
   none, is judged irrelevant: grade 0, a hard negative of the training pairs named by that
   verdict. Negatives need no corroboration: they never steer the memory, only training.
6. A choice without that evidence says nothing: no label, no pair, and never a negative (a
   fallback negative is never a document someone chose).
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
    user_name: str | None = None  # the signed-in user who asked; None for an anonymous session

    @property
    def asker(self) -> str:
        """Who asked, for counting distinct users: the signed-in user, else the session."""
        return f"user:{self.user_name}" if self.user_name else f"session:{self.session_id}"

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


MIN_CHOOSERS = 2  # distinct people who chose a document before one click on it counts (rule 4a)


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
    """Why one (question, document) pair got its grade: who did what (each person once), and
    the ids of the events."""

    up_by: set[str] = field(default_factory=set)  # people with a thumbs-up in force on it
    down_by: set[str] = field(default_factory=set)  # people with a thumbs-down in force on it
    skipped_by: set[str] = field(default_factory=set)  # people who passed it over (rule 3)
    chosen_by: set[str] = field(default_factory=set)  # people whose impression CHOSE it
    confirmed_by: set[str] = field(default_factory=set)  # chose it with a click and a thumbs-up
    clicks: int = 0  # click events
    query_ids: list[int] = field(default_factory=list)
    click_ids: list[int] = field(default_factory=list)
    vote_ids: list[int] = field(default_factory=list)
    index_versions: list[str] = field(default_factory=list)
    # everyone who chose this document for any question: one set shared by the document's
    # evidence on every question (rule 4a), filled in as impressions are recorded
    document_choosers: set[str] = field(default_factory=set, repr=False, compare=False)

    @property
    def up_votes(self) -> int:
        return len(self.up_by)

    @property
    def down_votes(self) -> int:
        return len(self.down_by)

    @property
    def skips(self) -> int:
        return len(self.skipped_by)

    @property
    def chosen(self) -> int:
        return len(self.chosen_by)

    @property
    def corroborated(self) -> bool:
        """Rule 4: chosen with a click and a thumbs-up, or the document chosen by enough people."""
        return bool(self.confirmed_by) or len(self.document_choosers) >= MIN_CHOOSERS

    @property
    def unconfirmed(self) -> bool:
        """Chosen, but without the evidence rule 4 asks for (rule 6)."""
        return bool(self.chosen_by) and not self.corroborated

    @property
    def verdict(self) -> Verdict | None:
        """Across impressions (rules 4-6): a corroborated choice wins; else voted down; else
        skipped and chosen by nobody; else no verdict."""
        if self.chosen_by and self.corroborated:
            return Verdict.CHOSEN
        if self.down_by:
            return Verdict.VOTED_DOWN
        if self.skipped_by and not self.chosen_by:
            return Verdict.SKIPPED
        return None

    @property
    def grade(self) -> int | None:
        """2 for a relevant document with a thumbs-up in force, 1 for any other relevant one, 0
        for a voted-down or skipped one, None when the feedback says nothing about it."""
        verdict = self.verdict
        if verdict is None:
            return None
        if verdict is not Verdict.CHOSEN:
            return GRADE_NEGATIVE
        return GRADE_UPVOTED if self.up_by else GRADE_CLICKED


class Evidence:
    """What all the feedback says, question by question: impressions are recorded one at a
    time, and the verdict of any (question, document) pair is always the policy's over
    everything recorded so far."""

    def __init__(self) -> None:
        self.questions: dict[str, dict[str, LabelEvidence]] = {}  # qid -> doc_id -> evidence
        self.texts: dict[str, str] = {}  # qid -> normalised text
        self._choosers: dict[str, set[str]] = defaultdict(set)  # doc_id -> its choosers

    def record(self, imp: Impression) -> tuple[str, dict[str, Verdict]]:
        """Add what ``imp`` says; returns its question's qid and this impression's verdicts
        (empty when it says nothing)."""
        qid, text = query_key(imp.query)
        judged = verdicts(imp)
        if not judged:
            return qid, judged
        self.texts.setdefault(qid, text)
        evidence = self.questions.setdefault(qid, {})
        in_force, skipped = imp.votes_in_force(), imp.skipped()
        for doc_id, verdict in judged.items():
            ev = evidence.get(doc_id)
            if ev is None:
                ev = evidence[doc_id] = LabelEvidence(document_choosers=self._choosers[doc_id])
            _add(ev, imp, doc_id, verdict, in_force.get(doc_id, 0), doc_id in skipped)
        return qid, judged

    def labels(self) -> Labels:
        """Graded labels of every question with at least one graded document."""
        qrels: dict[str, dict[str, int]] = {}
        lineage: dict[str, dict[str, LabelEvidence]] = {}
        for qid, docs in self.questions.items():
            graded = {d: ev.grade for d, ev in docs.items() if ev.grade is not None}
            if graded:
                qrels[qid] = graded
                lineage[qid] = {d: docs[d] for d in graded}
        return Labels({q: self.texts[q] for q in qrels}, qrels, lineage)


def _add(
    ev: LabelEvidence, imp: Impression, doc_id: str, verdict: Verdict, vote: int, skipped: bool
) -> None:
    """One impression's verdict on one document, added to its evidence."""
    asker, doc_clicks = imp.asker, [c.id for c in imp.clicks if c.doc_id == doc_id]
    if vote > 0:
        ev.up_by.add(asker)
    if vote < 0:
        ev.down_by.add(asker)
    if skipped:
        ev.skipped_by.add(asker)
    if verdict is Verdict.CHOSEN:
        ev.chosen_by.add(asker)
        ev.document_choosers.add(asker)
        if doc_clicks and vote > 0:
            ev.confirmed_by.add(asker)
    ev.clicks += len(doc_clicks)
    ev.click_ids += doc_clicks
    ev.vote_ids += [v.id for v in imp.votes if v.doc_id == doc_id]
    ev.query_ids.append(imp.query_id)
    if imp.index_version not in ev.index_versions:
        ev.index_versions.append(imp.index_version)


@dataclass(frozen=True)
class Labels:
    """Feedback as BEIR dicts: ``queries {qid: text}``, ``qrels {qid: {doc_id: grade}}``,
    plus ``lineage {qid: {doc_id: LabelEvidence}}`` naming the events behind every grade."""

    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    lineage: dict[str, dict[str, LabelEvidence]]


def labels_from(impressions: Iterable[Impression]) -> Labels:
    """Feedback as graded relevance labels, one labeled query per distinct (normalised) text,
    graded by ``LabelEvidence.grade``; pairs with no verdict are left out."""
    evidence = Evidence()
    for imp in impressions:
        evidence.record(imp)
    return evidence.labels()
