"""Every labeled set in two parts, fixed before anything is tuned on it: the part a choice may
be tuned on (``TUNE``) and the part that is only reported (``REPORT``).

A set that ships its own split (BEIR's ``qrels/train.tsv`` beside ``qrels/test.tsv``) keeps it:
train is tuned on, test reported. Any other set is split by a salted hash of each item's id, so
the split is the same on every machine and for every run, does not depend on the order of the
file, and an item added later falls into a part without moving the others. Figures quoted for
a method are the ``REPORT`` part's; a rule designed while looking at a set's misses has been
tuned on that set, whichever part the misses were in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

TUNE = "tune"
REPORT = "report"
PARTS = (TUNE, REPORT)
SALT = "docsearch-split-1"  # changing it re-deals every set: never do it after tuning
REPORT_SHARE = 0.5


def part_of(item_id: str, set_name: str = "", report_share: float = REPORT_SHARE) -> str:
    """``TUNE`` or ``REPORT`` for one query or question id of the labeled set ``set_name``."""
    digest = hashlib.sha256(f"{SALT}\0{set_name}\0{item_id}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    return REPORT if position < report_share else TUNE


def split(
    item_ids: Iterable[str], set_name: str = "", report_share: float = REPORT_SHARE
) -> dict[str, list[str]]:
    """``{TUNE: [...], REPORT: [...]}``: the ids of each part, in their given order."""
    parts: dict[str, list[str]] = {TUNE: [], REPORT: []}
    for item_id in item_ids:
        parts[part_of(item_id, set_name, report_share)].append(item_id)
    return parts
