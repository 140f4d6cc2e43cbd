"""Deciding an interleaving experiment as its queries come in: Wald's sequential probability
ratio test (Wald 1945) on the challenger's win rate, two-sided as Sobel and Wald (1949) do it.

Per decided query (ties left out) the challenger wins with probability p. Two SPRTs run on the
same outcomes: "better" tests p = 1/2 against p = p1 (``min_win``), "worse" tests p = 1/2
against p = 1 - p1. Each one's log-likelihood ratio moves by ln(p1 / (1/2)) per win and
ln((1 - p1) / (1/2)) per loss (the other way round for "worse") and stops at the first
crossing of A = ln(1 / alpha), accepting its alternative, or of B = ln(beta / (1 - alpha)),
accepting p = 1/2. The experiment ends when "better" or "worse" accepts its alternative, or
when both accept p = 1/2 ("no difference"); after ``max_queries`` decided queries it stops
without a winner ("no decision"). Under p = 1/2 the likelihood ratio is a martingale of mean 1,
so by Ville's inequality it reaches 1/alpha with probability at most alpha, however long the
test runs: an equal challenger is called better with probability at most alpha (Wald's usual
A = ln((1 - beta) / alpha) only approximates that: 0.0555 at alpha 0.05 in simulation). A
challenger whose win rate is p1 is missed with probability about beta. ``make bench-online`` and
``tests/lifecycle/test_experiments_sequential.py`` check both by simulation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

BETTER, WORSE, NO_DIFFERENCE, NO_DECISION, KEEP_COLLECTING = (
    "better",
    "worse",
    "no difference",
    "no decision",
    "keep collecting",
)


@dataclass(frozen=True)
class SequentialPolicy:
    """The test's error rates and the smallest win rate worth detecting."""

    alpha: float = 0.05  # P(call an equal challenger better): the false-promotion rate
    beta: float = 0.10  # P(miss a challenger that wins ``min_win`` of decided queries)
    min_win: float = 0.52  # the settings' default (``experiment_min_win``)
    max_queries: int = 20000  # decided queries, then "no decision"

    @property
    def accept(self) -> float:
        return math.log(1 / self.alpha)

    @property
    def reject(self) -> float:
        return math.log(self.beta / (1 - self.alpha))

    def describe(self) -> str:
        return (
            f"Wald SPRT on the challenger's win rate: 1/2 against {self.min_win:g} (better) and "
            f"{1 - self.min_win:g} (worse); alpha {self.alpha:g}, beta {self.beta:g}, at most "
            f"{self.max_queries} decided queries"
        )


@dataclass(frozen=True)
class SequentialDecision:
    """Where the test stands after the outcomes it was given."""

    state: str  # BETTER, WORSE, NO_DIFFERENCE, NO_DECISION or KEEP_COLLECTING
    wins: int  # decided queries the challenger won
    losses: int  # ... and the champion won
    llr_better: float  # "better"'s log-likelihood ratio where it stopped (or now)
    llr_worse: float
    decided_at: int | None  # decided queries when the test ended

    @property
    def decided(self) -> int:
        return self.wins + self.losses

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.decided if self.decided else None

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            "wins": self.wins,
            "losses": self.losses,
            "win_rate": self.win_rate,
            "llr_better": round(self.llr_better, 4),
            "llr_worse": round(self.llr_worse, 4),
            "decided_at": self.decided_at,
        }


def sequential_decision(
    outcomes: Iterable[bool], policy: SequentialPolicy = SequentialPolicy()
) -> SequentialDecision:
    """The test over decided queries in the order they came: True where the challenger won,
    False where the champion did (ties are not outcomes)."""
    up, down = math.log(policy.min_win / 0.5), math.log((1 - policy.min_win) / 0.5)
    llr = {BETTER: 0.0, WORSE: 0.0}
    open_ = {BETTER: True, WORSE: True}
    wins = losses = 0
    for n, won in enumerate(outcomes, start=1):
        wins, losses = wins + won, losses + (not won)
        for test in (BETTER, WORSE):
            if not open_[test]:
                continue
            llr[test] += (up if won else down) if test == BETTER else (down if won else up)
            if llr[test] >= policy.accept:  # its alternative: the experiment ends
                return SequentialDecision(test, wins, losses, llr[BETTER], llr[WORSE], n)
            if llr[test] <= policy.reject:
                open_[test] = False  # this one accepted p = 1/2; the other one goes on
        if not any(open_.values()):
            return SequentialDecision(NO_DIFFERENCE, wins, losses, llr[BETTER], llr[WORSE], n)
        if n >= policy.max_queries:
            return SequentialDecision(NO_DECISION, wins, losses, llr[BETTER], llr[WORSE], n)
    return SequentialDecision(KEEP_COLLECTING, wins, losses, llr[BETTER], llr[WORSE], None)
