"""An experiment on live traffic: which searches it answers and how, called by the search
service (``lifecycle.documents.search_as``) for every search while one runs.

- An interleaving answers ``share`` of the searches (``interleave_share`` of the environment)
  with the team-draft interleaving of the champion's and the challenger's results. Each
  version's list is what the search service shows from it alone (``served_results``: the
  reader's permissions, spelling, whatever else it filters), so what holds for one version
  holds for the interleaved list. The reader sees one ordinary list; the query is logged once,
  under the champion's version, and each shown rank remembers its side.
- A canary has the new champion answer ``share`` of the searches (``canary_share``) and the
  previous champion the rest, each logged under the version that answered, so their online
  signals over the same period can be compared (``lifecycle.experiments.canary``).
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from lifecycle.experiments.interleaving import CHALLENGER_SIDE, CHAMPION_SIDE, coin_for, team_draft
from lifecycle.experiments.store import CANARY, INTERLEAVED, Experiment, ExperimentStore
from lifecycle.feedback import (
    FeedbackStore,
    log_search,
    search_and_log_forgiving,
    served_results,
)
from search.index import SearchIndex
from search.retrieval import Filters
from search.retrieval.forgiving import Forgiven


@dataclass(frozen=True)
class LiveExperiment:
    """A running experiment as a serving process holds it: the record, the share of searches
    it takes, and the index of the version that does not serve by default (interleaving: the
    challenger; canary: the previous champion), under the access policy in force."""

    experiment: Experiment
    share: float
    other: SearchIndex
    records: ExperimentStore
    draw: Callable[[], float] = random.random  # a test passes its own

    @property
    def serving_version(self) -> str:
        """The version the serving process answers with by default: the champion."""
        e = self.experiment
        return e.challenger_version if e.kind == CANARY else e.champion_version


@dataclass(frozen=True)
class Routed:
    query_id: int
    found: Forgiven
    version: str  # the version logged: which answered (canary) or the champion (interleaved)


def search_and_log_live(
    live: LiveExperiment | None,
    index: SearchIndex,
    store: FeedbackStore,
    query: str,
    session_id: str,
    version: str,
    *,
    k: int,
    method: str | None,
    filters: Filters,
    source: str,
    user: str | None = None,
    weaker: bool = False,
    correct: bool = True,
) -> Routed:
    """``search_and_log_forgiving`` for one search, or its share of an experiment. ``index``
    and ``version`` are what serves now; an experiment made for another serving version (the
    champion moved since it was looked up) is left alone."""
    asked = dict(
        k=k, method=method, filters=filters, source=source, user=user, weaker=weaker,
        correct=correct,
    )  # fmt: skip
    if live is not None and live.serving_version == version and live.experiment.kind == CANARY:
        return _canary(live, index, store, query, session_id, version, asked)
    if live is None or live.serving_version != version or live.draw() >= live.share:
        query_id, found = search_and_log_forgiving(
            index, store, query, session_id, version, **asked
        )
        return Routed(query_id, found, version)
    started = time.perf_counter()
    how = dict(k=k, method=method, filters=filters, weaker=weaker, correct=correct)
    mine, theirs = served_results(index, query, **how), served_results(live.other, query, **how)
    picked = team_draft(
        mine.results.results,
        theirs.results.results,
        k,
        key=lambda r: r.doc_id,
        coin=coin_for(session_id, query),
    )
    results = [dataclasses.replace(p.item, rank=rank) for rank, p in enumerate(picked, start=1)]
    # each list was cut at its own version's relevance floor; the counts shown are the
    # serving version's (what the reader would have been told without the experiment)
    page = dataclasses.replace(mine.results, results=results)
    query_id = log_search(
        store, query, session_id, version, k, method, filters, source, started, results, user
    )
    sides = {rank: p.side for rank, p in enumerate(picked, start=1)}
    live.records.record(query_id, live.experiment.id, INTERLEAVED, sides)
    return Routed(query_id, Forgiven(page, mine.did_you_mean, mine.corrected_query), version)


def _canary(live, index, store, query, session_id, version, how) -> Routed:
    """A search during a canary: the new champion (``index``) answers ``share`` of them, the
    previous champion the rest, each logged under its own version and recorded in its arm."""
    e = live.experiment
    newcomer = live.draw() < live.share
    answering, answered_as, arm = (
        (index, version, CHALLENGER_SIDE)
        if newcomer
        else (live.other, e.champion_version, CHAMPION_SIDE)
    )
    query_id, found = search_and_log_forgiving(
        answering, store, query, session_id, answered_as, **how
    )
    live.records.record(query_id, e.id, arm)
    return Routed(query_id, found, answered_as)


def live_experiment(
    settings, records: ExperimentStore, loaded, policy=None
) -> LiveExperiment | None:
    """The experiment running in this environment as a serving process holds it (``records``
    opened once per process; the other version loaded once through ``loaded``, a
    ``lifecycle.serving.LoadedIndexes``, under the access ``policy`` in force), or None. An experiment whose other version cannot be loaded
    is left out: search goes on with the champion alone."""
    import logging

    from lifecycle.registry.serving import resolve_version
    from lifecycle.serving import FROM_REGISTRY, Serving

    running = [e for e in records.running() if e.share > 0]
    if not running:
        return None
    experiment = running[0]
    other = experiment.champion_registered if experiment.kind == CANARY else None
    other = other or experiment.challenger_registered
    try:
        found = resolve_version(settings, other)
        serving = Serving(found.index_version, str(found.path), FROM_REGISTRY, found.label)
        index = loaded.index(serving, policy)
    except Exception as exc:  # noqa: BLE001 - an experiment never stops search
        logging.getLogger(__name__).warning("experiment %s left out: %s", experiment.id, exc)
        return None
    return LiveExperiment(experiment, experiment.share, index, records)
