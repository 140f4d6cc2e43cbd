"""Monitoring page: how search is going, per index version, and how each version evaluated.
Every figure is named and explained by ``monitoring.DEFINITIONS``, the same in the tiles, the
table and the charts; versions are the registry's numbers (v1, v2 ...)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app import runtime
from app.experiments_panel import experiments_section
from lifecycle import monitoring

LISTS = {
    "top": ("Top queries", "asked most often"),
    "zero_results": ("Zero-result queries", "found nothing: a gap in the documents or a typo"),
    "not_clicked": ("Queries nobody clicked", "results shown, but no result of any ask opened"),
}


def _query_lists(frames) -> None:
    """Everyone's questions: this page is for admins only."""
    st.subheader("Queries")
    lists = monitoring.query_lists(frames)
    for col, (name, (title, meaning)) in zip(st.columns(3), LISTS.items(), strict=True):
        with col:
            st.markdown(f"**{title}**", help=meaning)
            if lists[name].empty:
                st.caption("None in this time range.")
            else:
                st.dataframe(lists[name], hide_index=True, key=f"list-{name}")


st.title("Monitoring")
if (
    not runtime.reader().admin
):  # the page is not in a non-admin's navigation; a typed URL lands here
    st.warning("Monitoring shows everyone's traffic, so it is for admins only.")
    st.stop()
served = runtime.serving()
DEFINED = monitoring.DEFINITIONS
numbers = runtime.version_numbers()
frames = monitoring.load_frames(runtime.store())
sources = sorted(set(frames["queries"]["source"])) if not frames["queries"].empty else []
left, right = st.columns([3, 2])
chosen = left.multiselect(
    "Traffic",
    sources,
    default=sources,
    help="search: the Search page; chat: "
    "retrieval behind chat answers; simulator: replayed labeled queries",
)
span = right.selectbox("Time range", list(monitoring.RANGES), index=len(monitoring.RANGES) - 1)
frames = monitoring.of_sources(frames, chosen) if sources else frames
frames = monitoring.within(frames, monitoring.RANGES[span])
queries = frames["queries"].assign(
    index_version=lambda f: f["index_version"].map(lambda v: monitoring.version_label(v, numbers))
)
table = monitoring.per_version(frames)
table["index_version"] = table["index_version"].map(lambda v: monitoring.version_label(v, numbers))

if queries.empty:
    st.info("No queries have been logged yet. Search or chat, and the figures appear here.")
else:
    overall = monitoring.overall(frames)
    shown = {
        "queries": lambda v: str(int(v)),
        "p50_ms": lambda v: f"{v:.0f} ms",
        "p95_ms": lambda v: f"{v:.0f} ms",
        "zero_result_rate": lambda v: f"{v:.0%}",
        "ctr": lambda v: f"{v:.0%}",
        "vote_ratio": lambda v: f"{v:.0%}",
    }
    for col, (name, text) in zip(st.columns(len(shown)), shown.items(), strict=True):
        value = overall[name]
        label, meaning = DEFINED[name]
        col.metric(label, "–" if pd.isna(value) else text(value), help=meaning)

    st.subheader("Queries over time")
    counts, freq = monitoring.over_time(queries)
    st.altair_chart(
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("time:T", title="hour" if freq == "h" else "day"),
            y=alt.Y("queries:Q", title="queries"),
            color=alt.Color("index_version:N", title="index version"),
            tooltip=["time:T", "index_version:N", "queries:Q"],
        ),
        use_container_width=True,
    )

    left, right = st.columns(2)
    with left:
        st.subheader("Latency")
        latency = table.melt("index_version", ["p50_ms", "p95_ms"], "percentile", "ms")
        st.altair_chart(
            alt.Chart(latency)
            .mark_bar()
            .encode(
                x=alt.X("index_version:N", title="index version"),
                xOffset="percentile:N",
                y=alt.Y("ms:Q", title="milliseconds"),
                color=alt.Color("percentile:N", title=None),
                tooltip=["index_version:N", "percentile:N", alt.Tooltip("ms:Q", format=".1f")],
            ),
            use_container_width=True,
        )
    with right:
        st.subheader("Quality signals")
        rates = table.melt(
            "index_version", ["zero_result_rate", "ctr", "vote_ratio"], "signal", "rate"
        ).replace({k: DEFINED[k][0] for k in ("zero_result_rate", "ctr", "vote_ratio")})
        st.altair_chart(
            alt.Chart(rates.dropna())
            .mark_bar()
            .encode(
                x=alt.X("signal:N", title=None),
                xOffset="index_version:N",
                y=alt.Y("rate:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
                color=alt.Color("index_version:N", title="index version"),
                tooltip=["index_version:N", "signal:N", alt.Tooltip("rate:Q", format=".0%")],
            ),
            use_container_width=True,
        )
    with st.expander("Figures per index version"):
        st.dataframe(
            table,
            hide_index=True,
            column_config={
                name: st.column_config.NumberColumn(label, help=meaning)
                for name, (label, meaning) in DEFINED.items()
            }
            | {"index_version": st.column_config.TextColumn("version")},
        )
    _query_lists(frames)

experiments_section(runtime.settings())
st.subheader("Evaluation of index versions (MLflow)")
runs, message = monitoring.evaluation_runs(runtime.settings().mlflow_uri)
if not runs.empty:
    runs["index_version"] = runs["index_version"].map(
        lambda v: monitoring.version_label(v, numbers)
    )
st.caption(message)
if not runs.empty:
    order = list(dict.fromkeys(runs.sort_values("started")["index_version"]))
    st.altair_chart(
        alt.Chart(runs)
        .mark_line(point=True)
        .encode(
            x=alt.X("index_version:N", sort=order, title="index version (oldest first)"),
            y=alt.Y("value:Q", title=None, scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("metric:N"),
            strokeDash=alt.StrokeDash("dataset:N"),
            tooltip=[
                "index_version:N",
                "dataset:N",
                "metric:N",
                alt.Tooltip("value:Q", format=".4f"),
                "started:T",
            ],
        ),
        use_container_width=True,
    )
    if served is not None:
        label = monitoring.version_label(served.version, numbers)
        st.caption(f"Serving {label}: {served.version} ({served.source}).")
