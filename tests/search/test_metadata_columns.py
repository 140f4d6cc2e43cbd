"""Metadata columns mask exactly the documents ``Filters.matches`` passes, one by one."""

import random

import numpy as np

from search.retrieval import Filters, MetadataColumns


def _metadata(rng: random.Random) -> dict:
    meta = {}
    if rng.random() < 0.9:
        meta["format"] = rng.choice(["pdf", "txt", "md", "docx"])
    if rng.random() < 0.9:
        meta["path"] = "/".join(rng.choice(["a", "ab", "b", "é", "hr"]) for _ in range(3))
    if rng.random() < 0.9:
        meta["modified"] = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00"
    return meta


def test_columns_mask_what_matches_passes(tmp_path):
    rng = random.Random(7)
    metadata = [_metadata(rng) for _ in range(400)]
    MetadataColumns.build(metadata).save(tmp_path / "columns")
    columns = MetadataColumns.load(tmp_path / "columns")
    cases = [
        Filters.of(formats=["pdf"]),
        Filters.of(formats=["pdf", "md"], path_prefix="a"),
        Filters.of(path_prefix="ab/"),
        Filters.of(path_prefix="é/hr"),
        Filters.of(path_prefix="zz"),
        Filters.of(modified_after="2026-06"),
        Filters.of(modified_before="2026-03-15"),
        Filters.of(modified_after="2026-02-01", modified_before="2026-02"),
        Filters.of(modified_after="2026-04", modified_before="2026-09-02T"),
        Filters.of(formats=["txt"], allow=lambda m: m.get("path", "").endswith("b")),
        Filters.of(formats=["none-such"]),
    ]
    for filters in cases:
        expected = np.array([filters.matches(m) for m in metadata])
        got = columns.mask(filters, lambda row: metadata[row])
        assert np.array_equal(got, expected), filters
