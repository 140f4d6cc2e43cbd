"""Monitoring figures from the feedback store (pandas), and evaluation runs from MLflow.

One definition per figure, used by the app's monitoring page and the REST API alike: votes are
counted by ``lifecycle.feedback.votes_in_force`` (the label policy's own rule), the overall
row is the same computation as the per-version rows over all traffic, and the evaluation
metrics are ``evaluation.METRICS``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy.engine import make_url

from evaluation import METRICS
from lifecycle.feedback import FeedbackStore, votes_in_force

TABLES = ("queries", "clicks", "votes", "answers")
ALL = "all"  # the version label of the overall row
COLUMNS = ["index_version", "queries", "p50_ms", "p95_ms", "zero_result_rate", "ctr", "vote_ratio"]
# Each figure's name and meaning, shown beside it wherever it appears (the tiles, the table,
# the charts): one definition each.
DEFINITIONS = {
    "queries": ("Queries", "searches logged (the Search page, and the retrieval behind chat)"),
    "p50_ms": ("p50 latency", "median time to answer a query, in milliseconds"),
    "p95_ms": ("p95 latency", "95th percentile of the time to answer a query, in milliseconds"),
    "zero_result_rate": ("Zero results", "share of queries that returned no result"),
    "ctr": ("Click-through", "share of queries with at least one click on a result"),
    "vote_ratio": (
        "Thumbs up",
        "up-votes / all votes in force, on search results and chat answers alike (a changed "
        "vote counts once, as it stands; a withdrawn vote not at all)",
    ),
}
RANGES = {"Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30, "All time": None}


def load_frames(store: FeedbackStore) -> dict[str, pd.DataFrame]:
    """The feedback tables as DataFrames (created_at parsed as UTC)."""
    frames = {}
    for name in TABLES:
        frame = pd.read_sql_table(name, store.engine)
        if "created_at" in frame:
            frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        frames[name] = frame
    return frames


def _votes_in_force(votes: pd.DataFrame) -> pd.DataFrame:
    """The vote in force per (query or answer, document): ``votes_in_force`` over the rows in
    the order they were cast. Columns query_id, answer_id, value."""
    if votes.empty:
        return pd.DataFrame(columns=["query_id", "answer_id", "value"])
    rows = votes.sort_values("id")
    # a missing id is None, not NaN: NaN != NaN would make every vote a target of its own
    query_ids = [None if pd.isna(v) else int(v) for v in rows["query_id"]]
    answer_ids = [None if pd.isna(v) else int(v) for v in rows["answer_id"]]
    targets = zip(query_ids, answer_ids, rows["doc_id"].fillna(""), strict=True)
    in_force = votes_in_force(zip(targets, rows["value"], strict=True))
    return pd.DataFrame(
        [(q, a, v) for (q, a, _doc), v in in_force.items()],
        columns=["query_id", "answer_id", "value"],
    )


def of_sources(frames: dict[str, pd.DataFrame], sources) -> dict[str, pd.DataFrame]:
    """The traffic of some sources only (search, chat, simulator): their queries, and the chat
    answers (with their votes) whose retrieval was one of those queries."""
    queries = frames["queries"][frames["queries"]["source"].isin(list(sources))]
    answers = frames["answers"]
    if not answers.empty:
        answers = answers[answers["query_id"].isin(queries["id"])]
    return {**frames, "queries": queries, "answers": answers}


def overall(frames: dict[str, pd.DataFrame]) -> pd.Series:
    """The figures of ``per_version`` over all traffic at once (every query and every answer
    counted as one version), so the totals and the per-version table never disagree."""
    everything = {
        **frames,
        "queries": frames["queries"].assign(index_version=ALL),
        "answers": frames["answers"].assign(index_version=ALL),
    }
    table = per_version(everything)
    return table.iloc[0] if not table.empty else pd.Series(dtype=object)


def per_version(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per index version: queries, p50/p95 latency (ms), zero-result rate,
    click-through rate (share of queries with at least one click) and vote ratio
    (up-votes / all votes in force, on results and chat answers)."""
    queries = frames["queries"]
    if queries.empty:
        return pd.DataFrame(columns=COLUMNS)
    clicked = set(frames["clicks"]["query_id"])
    q = queries.assign(zero=queries["n_results"] == 0, clicked=queries["id"].isin(clicked))
    out = q.groupby("index_version").agg(
        queries=("id", "size"),
        p50_ms=("latency_ms", lambda s: s.quantile(0.5)),
        p95_ms=("latency_ms", lambda s: s.quantile(0.95)),
        zero_result_rate=("zero", "mean"),
        ctr=("clicked", "mean"),
        first_seen=("created_at", "min"),
    )
    votes = _votes_in_force(frames["votes"])
    if not votes.empty:
        version_of_query = queries.set_index("id")["index_version"]
        answers = frames["answers"]
        version_of_answer = (
            answers.set_index("id")["index_version"] if not answers.empty else pd.Series()
        )  # an answer outside ``answers`` (another source's) has no version: not counted
        version = (
            votes["query_id"]
            .map(version_of_query)
            .fillna(votes["answer_id"].map(version_of_answer))
        )
        votes = votes.assign(index_version=version, up=votes["value"] > 0)
        ratio = votes.groupby("index_version").agg(up_votes=("up", "sum"), votes=("up", "size"))
        out = out.join(ratio)
    for column in ("up_votes", "votes"):
        if column not in out:
            out[column] = 0
    out[["up_votes", "votes"]] = out[["up_votes", "votes"]].fillna(0).astype(int)
    out["vote_ratio"] = (out["up_votes"] / out["votes"].where(out["votes"] > 0)).astype(float)
    return out.reset_index().sort_values("first_seen").drop(columns="first_seen")


def within(frames: dict[str, pd.DataFrame], days: int | None, now=None) -> dict:
    """The traffic of the last ``days`` days (all of it for None): queries and answers asked
    in that time; clicks and votes count with the query or answer they belong to."""
    if days is None:
        return frames
    since = (now or pd.Timestamp.now(tz="UTC")) - pd.Timedelta(days=days)
    out = dict(frames)
    for name in ("queries", "answers"):
        frame = frames[name]
        out[name] = frame[frame["created_at"] >= since] if not frame.empty else frame
    return out


def _normalised(text: pd.Series) -> pd.Series:
    return text.str.lower().str.split().str.join(" ")


def query_lists(frames: dict[str, pd.DataFrame], n: int = 20) -> dict[str, pd.DataFrame]:
    """Three lists of query texts (lower-cased, spaces collapsed), most asked first, with how
    often each was asked: ``top`` (every query), ``zero_results`` (asked and found nothing)
    and ``not_clicked`` (found results, but no result of any of its asks was clicked).
    Everyone's questions: for admins only (``lifecycle.personal``)."""
    queries = frames["queries"]
    if queries.empty:
        empty = pd.DataFrame(columns=["query", "asked"])
        return {"top": empty, "zero_results": empty, "not_clicked": empty}
    q = queries.assign(
        query=_normalised(queries["query"].astype(str)),
        clicked=queries["id"].isin(set(frames["clicks"]["query_id"])),
    )

    def ranked(rows: pd.DataFrame) -> pd.DataFrame:
        counts = rows.groupby("query").size().rename("asked").reset_index()
        return counts.sort_values(["asked", "query"], ascending=[False, True]).head(n)

    answered = q[q["n_results"] > 0]
    clicked_texts = set(answered.loc[answered["clicked"], "query"])
    return {
        "top": ranked(q).reset_index(drop=True),
        "zero_results": ranked(q[q["n_results"] == 0]).reset_index(drop=True),
        "not_clicked": ranked(answered[~answered["query"].isin(clicked_texts)]).reset_index(
            drop=True
        ),
    }


def version_numbers(settings) -> dict[str, str]:
    """index version folder -> the registry's number ("v3"), from the registered versions'
    index-version tags; empty when MLflow cannot be read (monitoring works without it)."""
    url = make_url(settings.mlflow_uri) if "://" in settings.mlflow_uri else None
    if url is not None and url.get_backend_name() == "sqlite":
        if not url.database or not Path(url.database).is_file():
            return {}
    try:
        from lifecycle.registry import INDEX_VERSION_TAG, Registry

        registry = Registry.from_settings(settings)
        found = registry.client.search_model_versions(f"name='{registry.model_name}'")
    except Exception:  # noqa: BLE001 - an unreachable registry: the folder ids are shown
        return {}
    return {
        v.tags[INDEX_VERSION_TAG]: f"v{v.version}" for v in found if INDEX_VERSION_TAG in v.tags
    }


def version_label(index_version: str, numbers: dict[str, str]) -> str:
    """ "v3" for a registered version; an unregistered build by its folder id, said so."""
    if index_version == ALL or index_version in numbers:
        return numbers.get(index_version, index_version)
    return f"{index_version} (not registered)"


def over_time(queries: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Queries per time bucket and version; hourly buckets for spans under three days."""
    if queries.empty:
        return pd.DataFrame(columns=["time", "index_version", "queries"]), "h"
    span = queries["created_at"].max() - queries["created_at"].min()
    freq = "h" if span < pd.Timedelta(days=3) else "D"
    bucketed = queries.assign(time=queries["created_at"].dt.floor(freq))
    counts = bucketed.groupby(["time", "index_version"]).size().rename("queries").reset_index()
    return counts, freq


def evaluation_runs(tracking_uri: str) -> tuple[pd.DataFrame, str]:
    """Evaluation metrics of index versions logged to MLflow, long form (index_version,
    started, dataset, metric, value), with a message saying what was found. Metric names may
    carry an evaluation-set prefix ("sample/ndcg_at_10"). Never raises: monitoring must work
    without MLflow."""
    empty = pd.DataFrame(columns=["index_version", "started", "dataset", "metric", "value"])
    url = make_url(tracking_uri) if "://" in tracking_uri else None
    if url is not None and url.get_backend_name() == "sqlite":
        if not url.database or not Path(url.database).is_file():
            return empty, "No MLflow store yet: no index version has been evaluated."
    try:
        runs = _runs_frame(tracking_uri)
    except Exception as exc:  # noqa: BLE001 - an unreachable tracking server is reported, not fatal
        return empty, f"MLflow at {tracking_uri} could not be read ({type(exc).__name__})."
    if not isinstance(runs, pd.DataFrame) or runs.empty:
        return empty, "MLflow has no runs yet."
    columns = {
        c: c.removeprefix("metrics.")
        for c in runs.columns
        if c.startswith("metrics.") and c.rsplit("/", 1)[-1].removeprefix("metrics.") in METRICS
    }
    if not columns:
        return empty, "MLflow has runs, but none with evaluation metrics."
    label = runs["run_id"].str[:8]
    for column in ("tags.mlflow.runName", "params.index_version", "tags.docsearch.index_version"):
        if column in runs:
            label = runs[column].fillna(label)
    wide = runs[list(columns)].rename(columns=columns)
    wide["index_version"] = label
    wide["started"] = pd.to_datetime(runs["start_time"], utc=True)
    long = wide.melt(["index_version", "started"], var_name="name", value_name="value").dropna()
    split = long["name"].str.rpartition("/")
    long = long.assign(dataset=split[0].replace("", "default"), metric=split[2]).drop(
        columns="name"
    )
    long = long.sort_values(["started", "dataset", "metric"]).reset_index(drop=True)
    n_runs = long[["index_version", "started"]].drop_duplicates().shape[0]
    return long[empty.columns], f"{n_runs} evaluated index versions in MLflow."


def _runs_frame(tracking_uri: str, limit: int = 1000) -> pd.DataFrame:
    """Every experiment's runs as ``mlflow.search_runs`` lays them out (run_id, start_time,
    metrics.*, params.*, tags.*), read through a client of its own: ``mlflow.set_tracking_uri``
    would also set MLFLOW_TRACKING_URI for the whole process."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments:
        return pd.DataFrame()
    rows = [
        {
            "run_id": run.info.run_id,
            "start_time": pd.to_datetime(run.info.start_time, unit="ms", utc=True),
            **{f"metrics.{k}": v for k, v in run.data.metrics.items()},
            **{f"params.{k}": v for k, v in run.data.params.items()},
            **{f"tags.{k}": v for k, v in run.data.tags.items()},
        }
        for run in client.search_runs(experiments, max_results=limit)
    ]
    return pd.DataFrame(rows)
