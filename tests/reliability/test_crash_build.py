"""A build killed at random points, twenty times over: the served version always answers a
search, no process of the build outlives it, the next start's cleaning leaves no staging
folder, and the next build succeeds.

Half the kills fall at a random time of a build's life (start-up, parsing, encoding,
writing); the other half as soon as the build's staging folder appears, within a few
milliseconds, so interrupted writes are really made. The build is the CLI's
(``docsearch build`` run as ``python -c "...main()" build``) with the hashing test encoder.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lifecycle.housekeeping import clean_store
from lifecycle.serving import resolve_serving
from search.encoding import HashingEncoder
from search.index import IndexStore, SearchIndex
from search.settings import Settings

REPO = Path(__file__).resolve().parents[2]
KILLS = 20
CLI = "import sys; from app.cli import main; sys.exit(main())"


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # state, ppid, ...


def _descendants(root: int) -> set[int]:
    found: set[int] = set()
    frontier = {root}
    while frontier:
        children = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (fields := _stat(int(entry))) and int(fields[1]) in frontier:
                children.add(int(entry))
        frontier = children - found
        found |= children
    return found


def _running(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def _build(home: Path, docs: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DOCSEARCH_HOME": str(home),
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen(
        [sys.executable, "-c", CLI, "build", "--docs", str(docs), "--model", "hashing-128"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _staging(store: IndexStore) -> list[str]:
    if not store.versions_dir.is_dir():
        return []
    return [p.name for p in store.versions_dir.iterdir() if p.name.startswith(".")]


def _kill_at_some_point(
    proc: subprocess.Popen, store: IndexStore, rng, full: float
) -> tuple[set[int], bool]:
    """Kill ``proc`` (SIGKILL) at a random time or once it stages a version; returns every
    process it had started (collected while it ran) and whether it was writing a version.

    The build is stopped (SIGSTOP) before its staging folder is looked at and its children
    are collected, so "writing" is what the kill interrupted, not what a slow scan saw."""
    on_staging = rng.random() < 0.5
    deadline = time.monotonic() + (full * 1.5 if on_staging else rng.uniform(0.0, full * 1.1))
    seen: set[int] = set()
    scanned = 0.0
    while time.monotonic() < deadline and proc.poll() is None:
        if on_staging:
            if _staging(store):  # checked as often as possible: a write lasts milliseconds
                time.sleep(rng.uniform(0.0, 0.005))
                break
            time.sleep(0.001)
            continue
        if time.monotonic() - scanned > 0.1:  # a scan of /proc is slow
            seen |= _descendants(proc.pid)
            scanned = time.monotonic()
        time.sleep(0.002)
    if proc.poll() is None:
        proc.send_signal(signal.SIGSTOP)
    writing = bool(_staging(store))
    seen |= _descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    return seen, writing


def _answers(settings: Settings) -> str:
    serving = resolve_serving(settings)
    assert serving is not None, "nothing serves"
    index = SearchIndex.load(serving.path, HashingEncoder(dim=128))
    results = index.search("crash test topic3", k=3)
    assert results and results[0].snippet.text
    return serving.version


@pytest.mark.slow
def test_a_build_killed_twenty_times_never_breaks_what_serves(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # this home's own registry
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in range(60):
        (docs / f"f{n:02d}.txt").write_text(
            f"Document {n} about topic{n % 7} and the crash test.\n\nIt has a second part, {n}.\n"
        )
    home = tmp_path / "home"
    settings = Settings(home=home, docs=docs, model="hashing-128")
    store = IndexStore(settings.index_root())

    started = time.monotonic()
    first = _build(home, docs)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err.decode()[-2000:]
    full = time.monotonic() - started
    _answers(settings)

    rng = random.Random(13)
    interrupted = {"writes": 0, "with workers": 0}
    for attempt in range(KILLS):
        (docs / f"new{attempt:02d}.txt").write_text(f"Added file {attempt} on topic3.\n")
        spawned, writing = _kill_at_some_point(_build(home, docs), store, rng, full)
        interrupted["writes"] += writing
        interrupted["with workers"] += bool(spawned)
        limit = time.monotonic() + 10
        while any(_running(pid) for pid in spawned) and time.monotonic() < limit:
            time.sleep(0.1)
        left = [pid for pid in spawned if _running(pid)]
        assert not left, f"kill {attempt}: processes of the killed build still run: {left}"
        _answers(settings)  # the served version answers, whatever the kill interrupted
        clean_store(settings, IndexStore(settings.index_root()))  # what the next start does
        assert _staging(store) == [], f"kill {attempt}: staging left after cleaning"

    print(f"{KILLS} kills: {interrupted}")
    assert interrupted["writes"] > 0  # some kills did interrupt a write

    last = _build(home, docs)
    out, err = last.communicate(timeout=300)
    assert last.returncode == 0, err.decode()[-2000:]
    assert _staging(store) == []
    built = json.loads(out)
    assert built["version"] in store.versions()  # the next build succeeds
    # and leaves serving as it was (a build alone never moves CURRENT past the gate)
    assert _answers(settings) == built["serving"] == store.current()
