"""Environments and promotion between them: a version proved in one environment (dev) reaches
another (prod) only through that environment's own gate, evaluated again on its own labeled
queries, and the target's MLflow run records who promoted what, when, from where, and on which
evidence.

Each environment is a profile of the settings (``Settings.from_profile``) with its own
registered model, hence its own champion; environments may share a tracking server or not.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mlflow.entities.model_registry import ModelVersion

from lifecycle.gate import EvidencePolicy, GateDecision, GatePolicy, quality_metrics
from lifecycle.registry import CHAMPION, INDEX_PATH_TAG, INDEX_ROOT_TAG, Registry
from lifecycle.registry.names import PROMOTION_TAG
from lifecycle.registry.reasons import PROMOTED
from lifecycle.registry.serving import fetch_version
from search.config import IndexConfig
from search.index import SearchIndex, read_manifest
from search.settings import Settings

PROMOTION_ARTIFACT = "promotion.json"  # the evidence, whole, beside the target run's metrics
FROM_RUN_TAG = f"{PROMOTION_TAG}.from_run"
FROM_TRACKING_TAG = f"{PROMOTION_TAG}.from_tracking_uri"


def policy_for(settings: Settings, **overrides: float | None) -> GatePolicy:
    """An environment's gate: its profile's floor, tolerance and dense recall floor, else the
    product's defaults; ``overrides`` (a command's ``--floor``, say) win where given."""
    given = {
        "floor": settings.gate_floor,
        "tolerance": settings.gate_tolerance,
        "min_dense_recall": settings.min_dense_recall,
    }
    given |= {k: v for k, v in overrides.items() if v is not None}
    return GatePolicy(**{k: v for k, v in given.items() if v is not None})


def evidence_for(settings: Settings) -> EvidencePolicy:
    """An environment's proof of a retrained challenger's gain: its profile's minimum number of
    labeled queries and significance level (``search.settings.experiments``)."""
    return EvidencePolicy(min_queries=settings.gate_min_queries, alpha=settings.gate_alpha)


@dataclass(frozen=True)
class CrossPromotion:
    """What ``promote --to`` did: the source version, the target's new version and its gate."""

    source: str  # "docsearch-index v3" in the source environment
    target: str  # "docsearch-index-prod v1"
    decision: GateDecision
    promoted: bool
    run_id: str  # the target environment's run
    evidence: dict = field(default_factory=dict)


def promote_to(
    source: Settings,
    ref: str,
    target: Settings,
    *,
    by: str,
    force: bool = False,
    policy: GatePolicy | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> CrossPromotion:
    """Promote version ``ref`` of ``source``'s registry into ``target``'s: fetch it from the
    source's artifact store (checksums verified), evaluate it on the target's labeled sets,
    log and register it there with the evidence, and move the target's champion if the
    target's gate passes (or ``force``). The source version must have passed its own gate."""
    if source.env == target.env:
        raise ValueError(f"{ref} is already in {target.env}; use `docsearch promote {ref}`")
    src, tgt = Registry.from_settings(source), Registry.from_settings(target)
    version = src.version(ref)
    proved = _proved(src, version)
    if not proved and not force:
        raise ValueError(
            f"{src.model_name} v{version.version} was not proved in {source.env} (its gate "
            f"said {version.tags.get('gate.decision', 'nothing')}); promote it there first, "
            "or pass --force"
        )
    with tempfile.TemporaryDirectory(prefix="docsearch-promote-") as tmp:
        folder = fetch_version(src, version, Path(tmp))
        log(f"fetched and verified {src.model_name} v{version.version}: {folder.name}")
        evaluated = _evaluate(folder, target, log)
        evidence = _evidence(source, src, version, evaluated, by, proved)
        tags = _run_tags(evidence)
        run_id = tgt.log_build(
            folder,
            read_manifest(folder),
            evaluated.evaluations,
            {},
            tags,
            run_name=f"promotion of {evidence['from_version']} from {source.env}",
            reason=f"{PROMOTED} from {source.env} ({evidence['from_version']})",
        )
        tgt.client.log_dict(run_id, evidence, PROMOTION_ARTIFACT)
        registered = tgt.register(run_id, folder)
    decision, promoted = tgt.promote(str(registered.version), policy or policy_for(target), force)
    label = f"{tgt.model_name} v{registered.version}"
    outcome = "promote" if promoted else "reject"
    src.set_run_tags(version.run_id, {f"docsearch.promoted_to.{target.env}": f"{label} {outcome}"})
    evidence["gate"] = {**decision.as_tags(), "promoted": promoted}
    tgt.client.log_dict(run_id, evidence, PROMOTION_ARTIFACT)
    return CrossPromotion(
        f"{src.model_name} v{version.version}", label, decision, promoted, run_id, evidence
    )


def _proved(registry: Registry, version: ModelVersion) -> bool:
    champion = registry.alias(CHAMPION)
    is_champion = champion is not None and str(champion.version) == str(version.version)
    return is_champion or version.tags.get("gate.decision") == "promote"


def _evaluate(folder: Path, target: Settings, log: Callable[[str], None]):
    # evaluation pulls in scipy (seconds): imported when a promotion evaluates, not by every
    # module that reads this one's tag names (`docsearch lineage`)
    from evaluation import evaluate_version

    index = SearchIndex.load(folder)
    config = IndexConfig.from_dict(read_manifest(folder)["config"])
    return evaluate_version(index, target.labeled_sets(), target, config, log=log)


def _evidence(source, registry, version, evaluated, by: str, proved: bool) -> dict:
    """Who, when, what, from where, and the numbers on both sides."""
    from evaluation import flat_metrics

    return {
        "by": by,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "from_env": source.env,
        "from_version": f"{registry.model_name} v{version.version}",
        "from_run": version.run_id,
        "from_tracking_uri": registry.tracking_uri,
        "proved_in_source": proved,
        "source_metrics": quality_metrics(registry.run_metrics(version.run_id)),
        "target_metrics": flat_metrics(evaluated.evaluations),
    }


def _run_tags(evidence: dict) -> dict[str, str]:
    tags = {
        f"{PROMOTION_TAG}.{k}": str(evidence[k])
        for k in ("by", "at", "from_env", "from_version", "from_run", "from_tracking_uri")
    }
    tags[f"{PROMOTION_TAG}.source_metrics"] = json.dumps(evidence["source_metrics"])
    tags["docsearch.kind"] = "promotion"
    # the fetched folder is temporary: a serving home fetches from the artifact store
    return tags | {INDEX_PATH_TAG: "", INDEX_ROOT_TAG: ""}
