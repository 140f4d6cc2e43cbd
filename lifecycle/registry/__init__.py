"""Index versions in MLflow: one run per build, a pyfunc model per version, champion aliases.

The registered model ``docsearch-index`` wraps an index directory. The alias ``champion`` names
the version that serves; ``challenger`` the newest build the gate did not promote. Promotion
also points the local ``IndexStore``'s CURRENT at the champion, so the CLI, the app and
``models:/docsearch-index@champion`` all answer from the same index.

Modules: ``runs`` (one run per build), ``models`` (``Registry``: registered versions, aliases,
history, promote and roll back), ``pyfunc`` (``IndexModel``), ``serving`` and ``local`` (which
folder serves), ``names`` (the model, alias and tag names).
"""

from lifecycle.gate import quality_metrics
from lifecycle.registry.local import activate_local
from lifecycle.registry.models import Registry
from lifecycle.registry.names import (
    CHALLENGER,
    CHAMPION,
    EXPERIMENT,
    HISTORY_TAG,
    INDEX_PATH_TAG,
    INDEX_ROOT_TAG,
    INDEX_VERSION_TAG,
    MANIFEST_HASH_TAG,
    MODEL_DIR,
    MODEL_NAME,
)
from lifecycle.registry.pyfunc import IndexModel
from lifecycle.registry.runs import RunLog
from lifecycle.registry.serving import Champion, resolve_champion

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "EXPERIMENT",
    "HISTORY_TAG",
    "INDEX_PATH_TAG",
    "INDEX_ROOT_TAG",
    "INDEX_VERSION_TAG",
    "MANIFEST_HASH_TAG",
    "MODEL_DIR",
    "MODEL_NAME",
    "Champion",
    "IndexModel",
    "Registry",
    "RunLog",
    "activate_local",
    "quality_metrics",
    "resolve_champion",
]
