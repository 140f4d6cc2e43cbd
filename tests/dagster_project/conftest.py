"""A labeled documents folder in tmp_path and resources wired to it (hashing encoder)."""

import json
from pathlib import Path

import pytest

from dagster_project.resources import DocsearchSettings, make_resources

BEIR_TINY = Path(__file__).resolve().parents[1] / "fixtures" / "beir_tiny"


@pytest.fixture
def labeled_folder(tmp_path) -> Path:
    return make_labeled_folder(tmp_path)


def make_labeled_folder(parent: Path) -> Path:
    """beir_tiny as files: docs/d1.txt .. d6.txt (title on the first line), plus one file of an
    unsupported type; queries.jsonl and qrels/test.tsv name documents by their file path."""
    root = parent / "labeled"
    docs = root / "docs"
    docs.mkdir(parents=True)
    for line in (BEIR_TINY / "corpus.jsonl").read_text().splitlines():
        record = json.loads(line)
        (docs / f"{record['_id']}.txt").write_text(f"{record['title']}\n\n{record['text']}\n")
    (docs / "scan.xyz").write_bytes(b"\x00\x01 not a document")
    (root / "queries.jsonl").write_text((BEIR_TINY / "queries.jsonl").read_text())
    (root / "qrels").mkdir()
    qrels = ["query-id\tcorpus-id\tscore"] + [f"q{i}\td{i}.txt\t1" for i in range(1, 6)]
    (root / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n")
    return root


@pytest.fixture
def docsearch(home, labeled_folder) -> DocsearchSettings:
    return DocsearchSettings(
        home=str(home),
        docs=str(labeled_folder / "docs"),
        model="hashing-128",
        sample_set=str(labeled_folder),
        ndcg_floor=0.5,
        regression_tolerance=0.01,
    )


@pytest.fixture
def resources(docsearch, home) -> dict:
    return make_resources(docsearch, home / "dagster" / "storage")
