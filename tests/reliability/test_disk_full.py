"""A build on a full disk: one line naming the folder and about how much space it needed, no
traceback, nothing half-written, and the version that served before still serves.

The disk is real: a 1 MB tmpfs mounted for the test (the suite runs as root), filled with a
file until only a little is free."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from search.diskspace import DiskFull, free_bytes, is_out_of_space
from search.encoding import EmbeddingCache, HashingEncoder
from search.index import IndexStore
from search.settings import Settings
from tests.app.conftest import DOCS, build_app_home

REPO = Path(__file__).resolve().parents[2]
CLI = "import sys; from app.cli import main; sys.exit(main())"
KB = 1024


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB file system of its own (tmpfs), unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def _fill(disk: Path, leave: int) -> None:
    """Write a file on ``disk`` until about ``leave`` bytes are free."""
    with open(disk / "filler", "ab") as fh:
        fh.write(b"\0" * max(0, free_bytes(disk) - leave))


def _build(home: Path, docs: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCSEARCH_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("MLFLOW_TRACKING_URI", None)
    command = [sys.executable, "-c", CLI, "build", "--docs", str(docs), "--model", "hashing-128"]
    return subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)


def _leftovers(store: IndexStore) -> list[str]:
    """Staging folders and half-written pointer files."""
    staged = [p.name for p in store.versions_dir.iterdir() if p.name.startswith(".")]
    return staged + [p.name for p in store.root.iterdir() if p.name.endswith(".tmp")]


def _serves(home: Path, docs: Path, version: str) -> None:
    store = IndexStore(Settings(home=home, docs=docs, model="hashing-128").index_root())
    assert store.pick().version == version
    results = store.load(encoder=HashingEncoder(128)).search("vpn error 809", k=1)
    assert results[0].doc_id == "it/vpn-setup.md"


@pytest.mark.slow
def test_a_build_on_a_full_disk_says_so_in_one_line_and_the_old_version_serves(
    small_disk, tmp_path
):
    home, docs = small_disk / "home", tmp_path / "docs"
    before = build_app_home(home, docs)
    (docs / "notes" / "new.txt").write_text("A new note about the quarterly vpn rollout.")
    _fill(small_disk, leave=96 * KB)

    built = _build(home, docs)

    assert built.returncode == 2, built.stderr
    assert "Traceback" not in built.stderr
    (error,) = [line for line in built.stderr.splitlines() if line.startswith("error:")]
    versions = home / "indexes" / "default" / "versions"
    assert error.startswith(
        f"error: not enough disk space in {versions} for a new index version: it needs about "
    )
    assert " KB and 9" in error  # about 96 KB free ("95 KB" or "96 KB")
    store = IndexStore(home / "indexes" / "default")
    assert store.versions() == [before] and _leftovers(store) == []
    _serves(home, docs, before)

    (small_disk / "filler").unlink()  # room again: the next build succeeds
    assert _build(home, docs).returncode == 0


@pytest.mark.slow
def test_a_disk_that_fills_while_a_version_is_written_leaves_nothing(
    small_disk, tmp_path, monkeypatch
):
    home, docs = small_disk / "home", tmp_path / "docs"
    before = build_app_home(home, docs)
    store = IndexStore(home / "indexes" / "default")
    index = store.load(encoder=HashingEncoder(128))
    _fill(small_disk, leave=96 * KB)
    free = free_bytes(small_disk)
    # as if the estimate had been far too low: the check before writing lets it through, and
    # the disk really fills while the version is written
    monkeypatch.setattr("search.index.store.estimated_size", lambda index: 1)

    with pytest.raises(DiskFull, match="for a new index version") as full:
        store.write(index)

    assert full.value.folder == store.versions_dir
    assert isinstance(full.value.__cause__, OSError)  # the real ENOSPC, kept as the cause
    assert _leftovers(store) == [] and store.versions() == [before]
    assert free_bytes(small_disk) == free  # every byte written was taken back
    _serves(home, docs, before)


def test_the_embedding_cache_on_a_full_disk_keeps_what_it_held(small_disk):
    cache = EmbeddingCache(small_disk / "cache" / "embeddings.sqlite")
    kept = np.ones((3, 128), dtype=np.float32)
    cache.put_many("model", ["a", "b", "c"], kept)
    _fill(small_disk, leave=0)
    many = np.zeros((2000, 128), dtype=np.float32)
    # 2 (log, then table) x 2000 rows x (512 bytes of vector + 200 of row) = 2,848,000 bytes
    with pytest.raises(DiskFull, match="for the embedding cache: it needs about 2.7 MB"):
        cache.put_many("model", [f"h{i}" for i in range(2000)], many)

    found = cache.get_many("model", ["a", "b", "c", "h0"])
    assert sorted(found) == ["a", "b", "c"]
    cache.close()


def test_sqlite_saying_the_disk_is_full_is_recognised(small_disk):
    db = sqlite3.connect(small_disk / "full.sqlite")
    db.execute("CREATE TABLE t (b BLOB)")
    db.commit()
    _fill(small_disk, leave=0)
    with pytest.raises(sqlite3.OperationalError) as raised:
        for _ in range(100):
            db.execute("INSERT INTO t VALUES (?)", (b"\0" * 65536,))
        db.commit()
    assert is_out_of_space(raised.value)  # "database or disk is full" (SQLITE_FULL)
    db.close()


def test_the_estimate_is_near_what_a_version_takes(small_disk, tmp_path):
    from search.index.disk import estimated_size

    home, docs = small_disk / "home", tmp_path / "docs"
    version = build_app_home(home, docs)
    store = IndexStore(home / "indexes" / "default")
    folder = store.path(version)
    taken = sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())
    estimate = estimated_size(store.load(encoder=HashingEncoder(128)))
    assert len(DOCS) == 5 and 0.8 * taken <= estimate <= 1.6 * taken, (estimate, taken)
