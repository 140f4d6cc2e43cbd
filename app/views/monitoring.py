"""Monitoring page: how search is going, per index version, and how each version evaluated."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app import runtime
from lifecycle import monitoring

st.title("Monitoring")
if (
    not runtime.reader().admin
):  # the page is not in a non-admin's navigation; a typed URL lands here
    st.warning("Monitoring shows everyone's traffic, so it is for admins only.")
    st.stop()
served = runtime.serving()
frames = monitoring.load_frames(runtime.store())
sources = sorted(set(frames["queries"]["source"])) if not frames["queries"].empty else []
chosen = st.multiselect(
    "Traffic",
    sources,
    default=sources,
    help="search: the Search page; chat: "
    "retrieval behind chat answers; simulator: replayed labeled queries",
)
frames = monitoring.of_sources(frames, chosen) if sources else frames
queries = frames["queries"]
table = monitoring.per_version(frames)

if queries.empty:
    st.info("No queries have been logged yet. Search or chat, and the figures appear here.")
else:
    overall = monitoring.overall(frames)
    cols = st.columns(6)
    cols[0].metric("Queries", int(overall["queries"]))
    cols[1].metric("p50 latency", f"{overall['p50_ms']:.0f} ms")
    cols[2].metric("p95 latency", f"{overall['p95_ms']:.0f} ms")
    cols[3].metric("Zero-result rate", f"{overall['zero_result_rate']:.0%}")
    cols[4].metric("Click-through", f"{overall['ctr']:.0%}")
    ratio = overall["vote_ratio"]
    cols[5].metric(
        "Thumbs up", "–" if pd.isna(ratio) else f"{ratio:.0%}", help="up-votes / all votes"
    )

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
        ).replace(
            {"zero_result_rate": "zero results", "ctr": "click-through", "vote_ratio": "thumbs up"}
        )
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
        st.dataframe(table, hide_index=True)

st.subheader("Evaluation of index versions (MLflow)")
runs, message = monitoring.evaluation_runs(runtime.settings().mlflow_uri)
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
        st.caption(f"Serving {served.version} ({served.source}).")
