"""Registered versions of indexes: register, aliases, champion history, promote and roll back.

``Registry`` is the run log (``runs``) plus the model registry: one object, one client.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from lifecycle.gate import (
    GainEvidence,
    GateChecks,
    GateDecision,
    GatePolicy,
    check,
    decide,
    gain_evidence,
)
from lifecycle.registry.local import activate_local
from lifecycle.registry.names import (
    ALIAS_TAG,
    CHALLENGER,
    CHAMPION,
    CHAMPION_SINCE_TAG,
    HISTORY_TAG,
    INDEX_VERSION_TAG,
    MODEL_DIR,
)
from lifecycle.registry.pyfunc import save_index_model
from lifecycle.registry.runs import RunLog

if TYPE_CHECKING:  # evaluation pulls in scipy: imported where versions are compared
    from evaluation import MetricDelta


@dataclass(frozen=True)
class Promotion:
    """What the gate did with a registered version, and the aliases after it."""

    candidate: str
    decision: GateDecision | None  # None when the candidate already was the champion
    promoted: bool
    champion_before: str | None
    champion: str | None
    challenger: str | None

    @property
    def outcome(self) -> str:
        if self.decision is None:
            return "unchanged"
        return "promote" if self.promoted else "reject"

    @property
    def reason(self) -> str:
        return self.decision.reason if self.decision else "this version is already the champion"


class Registry(RunLog):
    """MLflow runs and registered versions of indexes, through one ``MlflowClient``."""

    def register(self, run_id: str, index_path: str | Path) -> ModelVersion:
        """Log the index directory as a pyfunc model of ``run_id`` and register it."""
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / MODEL_DIR
            save_index_model(local, index_path)
            self.client.log_artifacts(run_id, str(local), MODEL_DIR)
        try:
            self.client.create_registered_model(self.model_name)
        except MlflowException:
            pass  # it exists already
        run = self.client.get_run(run_id)
        source = f"{run.info.artifact_uri}/{MODEL_DIR}"
        tags = {k: v for k, v in run.data.tags.items() if k.startswith("docsearch.")}
        return self.client.create_model_version(self.model_name, source, run_id, tags=tags)

    def version_for_run(self, run_id: str) -> ModelVersion | None:
        found = self.client.search_model_versions(
            f"name = '{self.model_name}' and run_id = '{run_id}'"
        )
        return found[0] if found else None

    def alias(self, alias: str) -> ModelVersion | None:
        try:
            return self.client.get_model_version_by_alias(self.model_name, alias)
        except MlflowException:
            return None

    def version(self, ref: str) -> ModelVersion:
        """A version by number ("3", "v3") or alias ("champion")."""
        ref = str(ref)
        number = ref[1:] if ref[:1] in "vV" and ref[1:].isdigit() else ref
        if number.isdigit():
            try:
                return self.client.get_model_version(self.model_name, number)
            except MlflowException as exc:
                raise ValueError(f"{self.model_name} has no version {number}") from exc
        found = self.alias(ref)
        if found is None:
            raise ValueError(f"{self.model_name} has no version or alias {ref!r}")
        return found

    def champion_metrics(self) -> dict[str, float] | None:
        champion = self.alias(CHAMPION)
        return self.run_metrics(champion.run_id) if champion else None

    def history(self) -> list[str]:
        try:
            tags = self.client.get_registered_model(self.model_name).tags
        except MlflowException:
            return []
        raw = tags.get(HISTORY_TAG, "")
        return [v for v in raw.split(",") if v]

    # ------------------------------------------------------------------ gate
    def _to_beat(
        self, is_candidate: Callable[[ModelVersion], bool]
    ) -> tuple[ModelVersion | None, dict[str, float] | None]:
        """The champion, and its metrics unless it is the candidate itself."""
        champion = self.alias(CHAMPION)
        if champion is None or is_candidate(champion):
            return champion, None
        return champion, self.run_metrics(champion.run_id)

    def gate_checks(
        self, metrics: Mapping[str, float], index_version: str, policy: GatePolicy = GatePolicy()
    ) -> tuple[GateChecks, ModelVersion | None]:
        """The gate's checks (floor, no regression) on a build's metrics before it is
        registered, against the champion unless the champion is that index version; and the
        champion. The decision itself is ``promote``'s."""
        champion, against = self._to_beat(
            lambda mv: mv.tags.get(INDEX_VERSION_TAG) == index_version
        )
        return check(metrics, against, policy), champion

    def decide(
        self,
        ref: str,
        policy: GatePolicy = GatePolicy(),
        evidence: GainEvidence | None = None,
    ) -> GateDecision:
        """The gate's verdict on a version against the champion (which it is not). A policy
        that wants a proved gain gets ``evidence``, or the paired test on the per-query
        evaluations both runs logged."""
        candidate = self.version(ref)
        champion, against = self._to_beat(lambda mv: str(mv.version) == str(candidate.version))
        if policy.evidence is not None and evidence is None and against is not None:
            evidence = gain_evidence(
                self.evaluations(champion.run_id),
                self.evaluations(candidate.run_id),
                policy.sets,
                policy.evidence.metric,
            )
        return decide(self.run_metrics(candidate.run_id), against, policy, evidence)

    def promote(
        self,
        ref: str,
        policy: GatePolicy = GatePolicy(),
        force: bool = False,
        evidence: GainEvidence | None = None,
        hold: bool = False,
    ) -> tuple[GateDecision, bool]:
        """Move ``champion`` to a version if the gate passes (or ``force``). A rejected version,
        or one whose gain is not proved yet (keep collecting), becomes ``challenger``; so does
        one that passed when ``hold`` (the environment wants an online win first: an
        interleaving experiment decides, ``lifecycle.experiments``). The decision is tagged on
        the version's run and model version. Returns (decision, promoted)."""
        candidate = self.version(ref)
        champion = self.alias(CHAMPION)
        if champion is not None and str(champion.version) == str(candidate.version):
            raise ValueError(f"v{candidate.version} is already the champion")
        decision = self.decide(candidate.version, policy, evidence)
        promoted = (decision.promote and not hold) or force
        tags = decision.as_tags() | {"gate.forced": str(force and not decision.promote).lower()}
        if decision.promote and hold and not force:
            tags["online.state"] = "awaiting an online win"
        self.set_run_tags(candidate.run_id, tags)
        for key, value in tags.items():
            self.client.set_model_version_tag(self.model_name, candidate.version, key, value)
        if promoted:
            number = str(candidate.version)
            history = [v for v in self.history() if v != number] + [number]
            self._set_champion(number, history)
            activate_local(self.client.get_model_version(self.model_name, candidate.version))
        else:
            self.client.set_registered_model_alias(self.model_name, CHALLENGER, candidate.version)
            self._mark_alias_runs()
        return decision, promoted

    def settle(self, ref: str, policy: GatePolicy = GatePolicy()) -> Promotion:
        """The gate on a newly registered version: ``promote`` it if it is not the champion
        already (a rejected version becomes the challenger); then where the aliases point."""
        before = self.alias(CHAMPION)
        candidate = str(self.version(ref).version)
        decision, promoted = None, True
        if before is None or str(before.version) != candidate:
            decision, promoted = self.promote(candidate, policy)
        after, challenger = self.alias(CHAMPION), self.alias(CHALLENGER)
        return Promotion(
            candidate, decision, promoted, _number(before), _number(after), _number(challenger)
        )

    def make_champion(self, ref: str, tags: Mapping[str, str] = ()) -> ModelVersion:
        """Point ``champion`` at a version whose gates were passed elsewhere (an online win
        after the offline gate), tagging its run and model version with why."""
        candidate = self.version(ref)
        number = str(candidate.version)
        self.tag_version(number, tags)
        self._set_champion(number, [v for v in self.history() if v != number] + [number])
        activate_local(self.client.get_model_version(self.model_name, number))
        return candidate

    def tag_version(self, ref: str, tags: Mapping[str, str]) -> None:
        """Tags on a version's run and on the model version alike."""
        version = self.version(ref)
        if tags:
            self.set_run_tags(version.run_id, tags)
        for key, value in dict(tags).items():
            self.client.set_model_version_tag(self.model_name, version.version, key, str(value))

    def rollback(self, tags: Mapping[str, str] = ()) -> ModelVersion:
        """Point ``champion`` back at the version that held it before the current one;
        ``tags`` (the reason) go on the version rolled back from."""
        history = self.history()
        champion = self.alias(CHAMPION)
        if champion is not None and history and history[-1] == str(champion.version):
            history = history[:-1]
        if not history:
            raise ValueError(f"{self.model_name} has no earlier champion to roll back to")
        if champion is not None and tags:  # why it was rolled back, on the version it left
            self.tag_version(str(champion.version), tags)
        self._set_champion(history[-1], history)
        previous = self.client.get_model_version(self.model_name, history[-1])
        activate_local(previous)
        return previous

    def _set_champion(self, version: str, history: list[str]) -> None:
        self.client.set_registered_model_alias(self.model_name, CHAMPION, version)
        self.client.set_registered_model_tag(self.model_name, HISTORY_TAG, ",".join(history))
        since = datetime.now(UTC).isoformat(timespec="seconds")
        self.client.set_model_version_tag(self.model_name, version, CHAMPION_SINCE_TAG, since)
        challenger = self.alias(CHALLENGER)
        if challenger is not None and str(challenger.version) == version:
            self.client.delete_registered_model_alias(self.model_name, CHALLENGER)
        self._mark_alias_runs()

    def _mark_alias_runs(self) -> None:
        """Keep the runs' ``docsearch.alias`` tag in step with the aliases (the runs table
        shows tags as columns, not the registry's aliases): on the champion's and the
        challenger's runs, and on no other run of this experiment."""
        holders = {}
        for alias in (CHALLENGER, CHAMPION):
            version = self.alias(alias)
            if version is not None:
                holders[version.run_id] = alias
        marked = self.client.search_runs(
            [self.experiment_id()], f"tags.`{ALIAS_TAG}` LIKE '%'", max_results=1000
        )
        for run in marked:
            if run.info.run_id not in holders:
                self.client.delete_tag(run.info.run_id, ALIAS_TAG)
        for run_id, alias in holders.items():
            self.client.set_tag(run_id, ALIAS_TAG, alias)

    # --------------------------------------------------------------- compare
    def compare(self, a: str, b: str) -> dict[str, list[MetricDelta]]:
        """Metric deltas from version ``a`` to ``b`` per evaluation set, with paired t-tests."""
        ea = self.evaluations(self.version(a).run_id)
        eb = self.evaluations(self.version(b).run_id)
        from evaluation import compare

        return {name: compare(ea[name], eb[name]) for name in sorted(set(ea) & set(eb))}


def _number(version: ModelVersion | None) -> str | None:
    return str(version.version) if version is not None else None
