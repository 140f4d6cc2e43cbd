"""Simulated users: replay labeled queries through the app's logging path and click like people do."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from evaluation.beir import LabeledSet
from lifecycle.feedback import FeedbackStore, search_and_log
from search.index import SearchIndex


@dataclass(frozen=True)
class ClickModel:
    """A position-based click model (Craswell et al. 2008; Joachims et al. 2017).

    A result at rank r is examined with probability (1 / r) ** position_bias. An examined relevant
    result is clicked with probability 1 - miss_rate; an examined non-relevant one with
    probability noise. A clicked result is up-voted (relevant) or down-voted (not relevant) with
    probability vote_rate.
    """

    position_bias: float = 0.5
    noise: float = 0.05
    miss_rate: float = 0.1
    vote_rate: float = 0.2


@dataclass(frozen=True)
class SimulationReport:
    queries: int
    sessions: int
    clicks: int
    relevant_clicks: int
    noisy_clicks: int
    up_votes: int
    down_votes: int
    zero_click_queries: int


def simulate_feedback(
    index: SearchIndex,
    store: FeedbackStore,
    labeled: LabeledSet,
    index_version: str,
    model: ClickModel = ClickModel(),
    sessions_per_query: int = 1,
    k: int = 10,
    seed: int = 7,
    progress: Callable[[str, int, int], None] | None = None,
) -> SimulationReport:
    """Search every labeled query (through ``search_and_log``, as the app does) and click."""
    rng = random.Random(seed)
    counts = dict(clicks=0, relevant=0, noisy=0, up=0, down=0, zero=0)
    items = list(labeled.queries.items())
    total = len(items) * sessions_per_query
    done = 0
    for _ in range(sessions_per_query):
        for qid, text in items:
            session = f"sim-{uuid.UUID(int=rng.getrandbits(128)).hex[:12]}"
            query_id, results = search_and_log(
                index, store, text, session, index_version, k=k, source="simulator"
            )
            relevant = labeled.qrels.get(qid, {})
            clicked = 0
            for result in results:
                if rng.random() > (1.0 / result.rank) ** model.position_bias:
                    continue  # not examined
                is_relevant = relevant.get(result.doc_id, 0) > 0
                p_click = (1.0 - model.miss_rate) if is_relevant else model.noise
                if rng.random() >= p_click:
                    continue
                store.log_click(query_id, result.doc_id, result.rank, kind="open")
                clicked += 1
                counts["relevant" if is_relevant else "noisy"] += 1
                if rng.random() < model.vote_rate:
                    store.log_vote(
                        query_id=query_id, doc_id=result.doc_id, value=1 if is_relevant else -1
                    )
                    counts["up" if is_relevant else "down"] += 1
            counts["clicks"] += clicked
            counts["zero"] += clicked == 0
            done += 1
            if progress:
                progress("simulate", done, total)
    return SimulationReport(
        queries=len(items),
        sessions=total,
        clicks=counts["clicks"],
        relevant_clicks=counts["relevant"],
        noisy_clicks=counts["noisy"],
        up_votes=counts["up"],
        down_votes=counts["down"],
        zero_click_queries=counts["zero"],
    )
