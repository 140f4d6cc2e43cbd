"""The feedback store as a source of the training graph: Dagster observes it, never makes it.

``feedback_sensor`` records an observation whenever new clicks and votes have arrived (the
count is the asset's data version), so the graph shows the feedback that ``training_pairs``
was made from, beside the serving index version it was shown on."""

import warnings

import dagster as dg

from dagster_project.resources import DocsearchSettings
from lifecycle.feedback import FeedbackStore

FEEDBACK_EVENTS = "feedback_events"


def count_feedback(docsearch: DocsearchSettings) -> int | None:
    """Clicks and votes on the served index's versions; None before any index is built."""
    versions = docsearch.store().versions()
    if not versions:
        return None
    store = FeedbackStore(docsearch.settings().feedback_url)
    try:
        return store.count_events(versions)
    finally:
        store.close()


def observation(total: int, new: int) -> dg.AssetObservation:
    return dg.AssetObservation(
        asset_key=FEEDBACK_EVENTS,
        metadata={"events": total, "new_since_last_request": new},
        tags={"dagster/data_version": str(total)},
    )


def _observe(docsearch: DocsearchSettings) -> dg.ObserveResult:
    total = count_feedback(docsearch) or 0
    return dg.ObserveResult(data_version=dg.DataVersion(str(total)), metadata={"events": total})


with warnings.catch_warnings():  # observable source assets are "beta" in Dagster 1.13
    warnings.simplefilter("ignore", dg.BetaWarning)
    feedback_events = dg.observable_source_asset(
        name=FEEDBACK_EVENTS,
        group_name="training",
        description="Clicks and votes in the feedback store (DOCSEARCH_FEEDBACK_URL) on the "
        "served index's versions; its data version is their count.",
    )(_observe)
