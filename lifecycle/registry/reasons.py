"""Why an index version exists, said on its MLflow run: what differs from the champion it was
built to replace (the documents, the access policy, the encoder, the config), or what the
caller knows better (the learning loop retrained it; it was promoted from another environment).

The comparison reads the two manifests, the record each version carries of itself: the corpus
fingerprint, the encoder's fingerprint, the config, and the hash of the access policy the
version enforces (``access.policy_hash``). A version that differs in nothing was rebuilt by
hand ("manual").
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from lifecycle.registry.names import CHAMPION
from search.index import MANIFEST

FIRST = "first version"  # nothing served before it
DOCUMENTS = "documents changed"
POLICY = "policy changed"
ENCODER = "encoder changed"
CONFIG = "config changed"
RETRAINED = "retrained"  # the learning loop: an encoder fine-tuned on feedback, a memory
PROMOTED = "promoted"  # from another environment's registry
MANUAL = "manual"  # the same documents, policy, encoder and config: rebuilt by hand
UNKNOWN = "unknown"  # the champion's manifest could not be read
NO_POLICY = "none"  # what a version enforcing no access policy records as its policy hash

# config fields the encoder decides (compared through the encoder's own fingerprint)
_ENCODER_FIELDS = {"model", "encoder_backend"}


class Reason(NamedTuple):
    """The reason for a version ("documents changed, policy changed") and what it was compared
    with, value by value."""

    reason: str
    detail: str


def policy_hash(manifest: Mapping) -> str:
    """The hash of the access policy a version enforces, as its manifest records it."""
    return (manifest.get("access") or {}).get("policy_hash") or NO_POLICY


def compare(manifest: Mapping, previous: Mapping | None, previous_name: str = "") -> Reason:
    """What differs from ``previous`` (the champion's manifest, None when there is none)."""
    if previous is None:
        return Reason(FIRST, "no champion before it")
    changed, details = [], []

    def differs(label: str, before, after, short: int = 12) -> None:
        if before != after:
            changed.append(label)
            details.append(f"{label}: {str(before)[:short]} -> {str(after)[:short]}")

    differs(DOCUMENTS, previous.get("corpus_fingerprint"), manifest.get("corpus_fingerprint"))
    differs(POLICY, policy_hash(previous), policy_hash(manifest), short=19)
    model, before_model = manifest.get("model", {}), previous.get("model", {})
    differs(ENCODER, _encoder_identity(before_model), _encoder_identity(model), short=40)
    config, before_config = manifest.get("config", {}), previous.get("config", {})
    fields = sorted(
        k
        for k in set(config) | set(before_config)
        if k not in _ENCODER_FIELDS and config.get(k) != before_config.get(k)
    )
    if fields:
        changed.append(CONFIG)
        details.append(
            f"{CONFIG}: "
            + ", ".join(f"{k} {before_config.get(k)} -> {config.get(k)}" for k in fields)
        )
    compared = f"compared with {previous_name}" if previous_name else "compared with the champion"
    return Reason(", ".join(changed) or MANUAL, "; ".join([compared, *details]))


def _encoder_identity(model: Mapping) -> str:
    return f"{model.get('id', '')} {model.get('weights_fingerprint', model.get('fingerprint', ''))}"


def champion_manifest(client: MlflowClient, model_name: str) -> tuple[dict | None, str]:
    """The manifest the champion's run logged, and a name for it ("docsearch-index v3");
    (None, "") when there is no champion. Raises when the run's manifest cannot be read."""
    try:
        champion = client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException:
        return None, ""
    with tempfile.TemporaryDirectory() as tmp:
        path = client.download_artifacts(champion.run_id, MANIFEST, tmp)
        manifest = json.loads(Path(path).read_text())
    return manifest, f"{model_name} v{champion.version}"
