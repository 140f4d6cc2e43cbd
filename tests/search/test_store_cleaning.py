"""Cleaning a store on start, on real folders: staging of interrupted writes goes, a live
writer's stays; old and never-activated versions go, never the current one, the one before it,
or a protected one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from search.index import IndexStore, Retention
from search.index.store import WRITER_LOCK, _held


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _version_id(hours_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours_ago)).strftime("%Y%m%dT%H%M%S%fZ")


@pytest.fixture
def store(index, tmp_path) -> IndexStore:
    store = IndexStore(tmp_path / "store")
    store.write(index, activate=False)
    return store


def test_staging_of_a_killed_writer_is_removed(store):
    staging = store.versions_dir / f".{_version_id(0)}-{os.getpid()}-abc"
    staging.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(600)",
            str(staging / WRITER_LOCK),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert store.clean().staging == []  # its writer is alive: kept
        assert staging.is_dir()
    finally:
        holder.kill()
        holder.wait()
    assert store.clean().staging == [staging.name]
    assert not staging.exists()


def test_staging_held_in_this_process_is_kept(store):
    staging = store.versions_dir / f".{_version_id(0)}-{os.getpid()}-def"
    staging.mkdir()
    with _held(staging / WRITER_LOCK):
        assert store.clean().staging == []
    assert store.clean().staging == [staging.name]


def test_staging_without_a_lock_is_judged_by_its_pid_then_its_age(store):
    alive = store.versions_dir / f".{_version_id(0)}-{os.getpid()}-a1"
    dead = store.versions_dir / f".{_version_id(0)}-{_dead_pid()}-b2"
    legacy_new = store.versions_dir / ".20261127T000000000000Z-c3xyz"
    legacy_old = store.versions_dir / ".20200101T000000000000Z-d4xyz"
    for folder in (alive, dead, legacy_new, legacy_old):
        folder.mkdir()
        (folder / "index").mkdir()
    old = time.time() - 2 * 3600
    os.utime(legacy_old, (old, old))
    assert sorted(store.clean().staging) == sorted([dead.name, legacy_old.name])
    assert alive.is_dir() and legacy_new.is_dir()


def test_old_and_never_activated_versions_are_removed_but_never_protected_ones(store):
    source = store.path(store.versions()[0])
    ages = {"a": 90, "b": 80, "c": 70, "d": 60, "e": 50, "f": 40, "g": 30, "h": 2, "i": 1}
    ids = {name: _version_id(hours) for name, hours in ages.items()}
    for version in ids.values():
        shutil.copytree(source, store.path(version))
    shutil.rmtree(source)
    for name in ("b", "d", "g", "f"):  # f is current, g the one activated before it
        store.activate(ids[name])
    cleaned = store.clean(Retention(keep=4, unactivated_hours=24), protected={ids["a"]})
    # kept: a (protected), f (current), g (previous), h and i (newest, recent, never activated)
    # removed: b, c, d (beyond the newest 4), e (never activated, 50 h old)
    assert sorted(cleaned.versions) == sorted(ids[n] for n in "bcde")
    assert store.versions() == sorted(ids[n] for n in "afghi")
    assert store.current() == ids["f"]
    # again: nothing more to remove
    assert store.clean(Retention(keep=4, unactivated_hours=24), protected={ids["a"]}).versions == []


def test_an_unknown_registry_cleans_staging_only(store):
    staging = store.versions_dir / f".{_version_id(0)}-{_dead_pid()}-zz"
    staging.mkdir()
    old = store.versions()[0]
    cleaned = store.clean(Retention(keep=1, unactivated_hours=0), protected=None)
    assert cleaned.staging == [staging.name] and cleaned.versions == []
    assert store.versions() == [old]


def test_a_build_leaves_no_staging_and_writes_a_lock_while_it_runs(index, tmp_path, monkeypatch):
    store = IndexStore(tmp_path / "other")
    seen = []
    original = type(index).save

    def save(self, folder):
        seen.append(sorted(p.name for p in folder.parent.iterdir()))
        return original(self, folder)

    monkeypatch.setattr(type(index), "save", save)
    version = store.write(index)
    assert seen == [[WRITER_LOCK]]
    assert [p.name for p in store.versions_dir.iterdir()] == [version]
