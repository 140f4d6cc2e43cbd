"""The experiments' records in the product's store: experiments started and ended, the queries
each answered, which version contributed each interleaved result, and the credit clicks and
votes gave each version (read from the feedback tables, never copied)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from lifecycle.database import open_database
from lifecycle.experiments.interleaving import credit
from lifecycle.experiments.schema import experiment_queries, experiment_shown, experiments
from lifecycle.feedback.schema import clicks, queries, shown, votes

INTERLEAVING, CANARY = "interleaving", "canary"
INTERLEAVED = "interleaved"  # the arm of a query answered by both versions at once
RUNNING = "running"


@dataclass(frozen=True)
class Experiment:
    """One experiment: ``champion_version`` is the incumbent (the champion an interleaving
    compares with; in a canary, the champion before the promotion) and ``challenger_version``
    the newcomer (the challenger; in a canary, the new champion). Versions are index version
    folder ids; ``*_registered`` the registry's numbers."""

    id: int
    kind: str
    champion_version: str
    challenger_version: str
    champion_registered: str | None
    challenger_registered: str | None
    share: float
    state: str
    reason: str | None
    parameters: dict
    stopped_by: str | None
    started_at: datetime
    ended_at: datetime | None

    @property
    def running(self) -> bool:
        return self.state == RUNNING


@dataclass(frozen=True)
class Outcome:
    """One interleaved query and the credit each version earned on it."""

    query_id: int
    credits: dict[str, int]  # side -> credited results


class ExperimentStore:
    """Experiments, their queries and credit, in the store at ``url``."""

    def __init__(self, url: str | Engine) -> None:
        self.engine = open_database(url)

    def close(self) -> None:
        self.engine.dispose()

    # ----------------------------------------------------------------- writes
    def start(
        self,
        kind: str,
        champion_version: str,
        challenger_version: str,
        share: float,
        *,
        champion_registered: str | None = None,
        challenger_registered: str | None = None,
        parameters: Mapping | None = None,
    ) -> Experiment:
        """A new running experiment; a running one of the same kind is stopped first (one
        experiment of each kind at a time: traffic is not split three ways)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(experiments)
                .where(experiments.c.kind == kind, experiments.c.state == RUNNING)
                .values(state="stopped", reason="superseded by a newer experiment", ended_at=_now())
            )
            new_id = conn.execute(
                insert(experiments).values(
                    kind=kind,
                    champion_version=champion_version,
                    challenger_version=challenger_version,
                    champion_registered=champion_registered,
                    challenger_registered=challenger_registered,
                    share=float(share),
                    state=RUNNING,
                    parameters=dict(parameters or {}),
                    started_at=_now(),
                )
            ).inserted_primary_key[0]
        return self.get(int(new_id))

    def end(self, experiment_id: int, state: str, reason: str, by: str | None = None) -> Experiment:
        """End a running experiment with its outcome; an ended one is left as it is."""
        with self.engine.begin() as conn:
            conn.execute(
                update(experiments)
                .where(experiments.c.id == experiment_id, experiments.c.state == RUNNING)
                .values(state=state, reason=reason, stopped_by=by, ended_at=_now())
            )
        return self.get(experiment_id)

    def record(
        self,
        query_id: int,
        experiment_id: int,
        arm: str,
        sides: Mapping[int, str] | None = None,
    ) -> None:
        """A logged query answered in an experiment, and for an interleaved one which side
        contributed each rank."""
        with self.engine.begin() as conn:
            conn.execute(
                insert(experiment_queries).values(
                    query_id=query_id, experiment_id=experiment_id, arm=arm
                )
            )
            if sides:
                conn.execute(
                    insert(experiment_shown),
                    [{"query_id": query_id, "rank": r, "side": s} for r, s in sides.items()],
                )

    # ------------------------------------------------------------------ reads
    def get(self, experiment_id: int) -> Experiment:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(experiments).where(experiments.c.id == int(experiment_id))
            ).first()
        if row is None:
            raise ValueError(f"no experiment {experiment_id}; `docsearch experiments list`")
        return _experiment(row)

    def all(self) -> list[Experiment]:
        """Every experiment, newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(experiments).order_by(experiments.c.id.desc()))
            return [_experiment(r) for r in rows]

    def running(self, kind: str | None = None) -> list[Experiment]:
        return [e for e in self.all() if e.running and (kind is None or e.kind == kind)]

    def arm_counts(self, experiment_id: int) -> dict[str, int]:
        """Queries the experiment answered, per arm."""
        stmt = (
            select(experiment_queries.c.arm, func.count())
            .where(experiment_queries.c.experiment_id == experiment_id)
            .group_by(experiment_queries.c.arm)
        )
        with self.engine.connect() as conn:
            return {arm: int(n) for arm, n in conn.execute(stmt)}

    def arm_queries(self, experiment_id: int) -> dict[str, list[int]]:
        """The query ids of each arm, in order."""
        stmt = (
            select(experiment_queries.c.arm, experiment_queries.c.query_id)
            .where(experiment_queries.c.experiment_id == experiment_id)
            .order_by(experiment_queries.c.query_id)
        )
        out: dict[str, list[int]] = defaultdict(list)
        with self.engine.connect() as conn:
            for arm, query_id in conn.execute(stmt):
                out[arm].append(int(query_id))
        return dict(out)

    def outcomes(self, experiment_id: int) -> list[Outcome]:
        """Each interleaved query of the experiment, in the order asked, with each side's
        credit: a result earns its side one credit when it was clicked (any kind) or voted up,
        unless the vote in force on it is a thumbs-down."""
        of_experiment = select(experiment_queries.c.query_id).where(
            experiment_queries.c.experiment_id == experiment_id,
            experiment_queries.c.arm == INTERLEAVED,
        )
        with self.engine.connect() as conn:
            sides: dict[int, dict[int, str]] = defaultdict(dict)
            for row in conn.execute(
                select(experiment_shown).where(experiment_shown.c.query_id.in_(of_experiment))
            ):
                sides[row.query_id][row.rank] = row.side
            rank_of: dict[tuple[int, str], int] = {
                (row.query_id, row.doc_id): row.rank
                for row in conn.execute(
                    select(shown.c.query_id, shown.c.doc_id, shown.c.rank).where(
                        shown.c.query_id.in_(of_experiment)
                    )
                )
            }
            credited: dict[int, set[int]] = defaultdict(set)
            for row in conn.execute(
                select(clicks.c.query_id, clicks.c.doc_id).where(
                    clicks.c.query_id.in_(of_experiment), clicks.c.is_repeat.is_(False)
                )
            ):
                credited[row.query_id].add(rank_of.get((row.query_id, row.doc_id), 0))
            in_force: dict[tuple[int, str], int] = {}
            for row in conn.execute(
                select(votes.c.query_id, votes.c.doc_id, votes.c.value)
                .where(votes.c.query_id.in_(of_experiment))
                .order_by(votes.c.id)
            ):
                in_force[(row.query_id, row.doc_id)] = row.value  # the latest vote is in force
        for (query_id, doc_id), value in in_force.items():
            rank = rank_of.get((query_id, doc_id), 0)
            if value > 0:
                credited[query_id].add(rank)
            elif value < 0:
                credited[query_id].discard(rank)
        return [
            Outcome(query_id, credit(sides[query_id], credited.get(query_id, ())))
            for query_id in sorted(sides)
        ]

    def signals_frame(self, experiment_id: int):
        """The canary's queries with their arm (pandas), for ``lifecycle.experiments.canary``."""
        import pandas as pd

        stmt = (
            select(
                queries.c.id,
                queries.c.latency_ms,
                queries.c.n_results,
                experiment_queries.c.arm,
            )
            .join(experiment_queries, experiment_queries.c.query_id == queries.c.id)
            .where(experiment_queries.c.experiment_id == experiment_id)
        )
        with self.engine.connect() as conn:
            return pd.read_sql(stmt, conn)


def _experiment(row) -> Experiment:
    m = row._mapping
    return Experiment(
        id=int(m["id"]),
        kind=m["kind"],
        champion_version=m["champion_version"],
        challenger_version=m["challenger_version"],
        champion_registered=m["champion_registered"],
        challenger_registered=m["challenger_registered"],
        share=float(m["share"]),
        state=m["state"],
        reason=m["reason"],
        parameters=dict(m["parameters"] or {}),
        stopped_by=m["stopped_by"],
        started_at=m["started_at"],
        ended_at=m["ended_at"],
    )


def _now() -> datetime:
    return datetime.now(UTC)
