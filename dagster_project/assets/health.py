"""The ``monitoring`` group: what serves, checked for drift and freshness, and the online
experiments judged. Each check is an asset check an operator can alert on (Dagster's alerting
on a failed check); ``health_sensor`` acts on them (``dagster_project.automation``)."""

import math

import dagster as dg

from dagster_project.resources import DocsearchSettings
from lifecycle import health
from lifecycle.experiments.overview import judge_running

GROUP = "monitoring"
CANARY_HEALTHY = "canary_healthy"


@dg.asset(
    group_name=GROUP,
    check_specs=[
        dg.AssetCheckSpec(name, asset="serving_health", description=text)
        for name, text in (
            (health.QUERIES_NEAR_EVALUATION, "recent questions near the evaluation queries"),
            (health.QUERY_WORDS_KNOWN, "recent questions' words known to the serving index"),
            (health.INDEX_FRESH, "the serving index holds the documents folder as it is"),
            (health.EVALUATION_RECENT, "the last evaluation is recent enough"),
        )
    ],
)
def serving_health(docsearch: DocsearchSettings):
    """Drift and freshness of the serving index version (``lifecycle.health``), one check
    each with its threshold and the action a failure asks for."""
    checks = health.serving_health(docsearch.settings())
    results = [
        dg.AssetCheckResult(
            check_name=c.name,
            passed=c.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "value": _shown(c.value),
                "threshold": c.threshold,
                "action": c.action,
                "detail": c.detail,
            },
        )
        for c in checks
    ]
    failing = [c.name for c in checks if not c.passed]
    return dg.MaterializeResult(
        metadata={"failing": ", ".join(failing) or "none", "checks": len(checks)},
        check_results=results,
    )


def _shown(value: float | None):
    if value is None:
        return "nothing to measure yet"
    return "never" if math.isinf(value) else round(float(value), 4)


@dg.asset(
    group_name=GROUP,
    check_specs=[
        dg.AssetCheckSpec(
            CANARY_HEALTHY,
            asset="online_experiments",
            description="the newest canary was not rolled back",
        )
    ],
)
def online_experiments(docsearch: DocsearchSettings):
    """Every running experiment judged on its evidence so far, and acted on: an interleaving
    won promotes its challenger, a degraded canary rolls the champion back."""
    rows = judge_running(docsearch.settings())
    canaries = [r for r in rows if r["kind"] == "canary"]
    newest = canaries[0] if canaries else None
    rolled_back = newest is not None and newest["state"] == "rolled back"
    return dg.MaterializeResult(
        metadata={
            "running": sum(r["state"] == "running" for r in rows),
            "experiments": len(rows),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=CANARY_HEALTHY,
                passed=not rolled_back,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "canary": f"#{newest['id']}" if newest else "none",
                    "state": newest["state"] if newest else "none",
                    "reason": (newest or {}).get("reason") or "",
                },
            )
        ],
    )
