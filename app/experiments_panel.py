"""The monitoring page's part for online experiments, canaries and the drift and freshness
checks (admins only, as the page is): one call each into ``lifecycle``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.render import md


def experiments_section(settings) -> None:
    """Each experiment's state, counts and evidence; a rolled-back canary as an error line."""
    from lifecycle.experiments.overview import overview

    st.subheader("Online experiments and canaries")
    rows = overview(settings)
    if not rows:
        st.caption(
            "No experiment has run. An interleaving starts when a challenger passes the offline "
            "gate where the environment asks for an online win (`online_win_required`); a canary "
            "after a promotion where `canary_share` is above 0."
        )
        return
    for row in rows:
        if row["kind"] == "canary" and row["state"] == "rolled back":
            st.error(
                f"Canary #{row['id']}: {md(row['new_champion'])} was rolled back to "
                f"{md(row['previous_champion'])}: {md(row['reason'] or '')}"
            )
    table = pd.DataFrame(
        [
            {
                "experiment": f"#{r['id']} {r['kind']}",
                "state": r["state"],
                "versions": (
                    f"{r['new_champion']} after {r['previous_champion']}"
                    if r["kind"] == "canary"
                    else f"{r['challenger']} vs {r['champion']}"
                ),
                "share": r["share"],
                "queries": (
                    sum(r["queries"].values())
                    if r["kind"] == "canary"
                    else r["interleaved_queries"]
                ),
                "evidence": (
                    ", ".join(f"{k} {v}" for k, v in r["signals"]["degraded"].items())
                    or "no degradation"
                    if r["kind"] == "canary"
                    else f"{r['evidence_wins']} won, {r['evidence_losses']} lost, {r['ties']} ties"
                ),
                "reason": r.get("reason") or "",
            }
            for r in rows
        ]
    )
    st.dataframe(table, hide_index=True, key="experiments")
