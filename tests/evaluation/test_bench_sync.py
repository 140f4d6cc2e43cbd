"""``make bench-sync`` at a small size: one JSON object on stdout with the three timings and
what each sync did (the 5% bound is for the 10,000-document run; here only its shape)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_three_syncs_reported_as_one_json_object():
    run = subprocess.run(
        [sys.executable, "-m", "scripts.bench_sync", "--documents", "40", "--model", "hashing-128"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert run.returncode in (0, 1), run.stderr[-3000:]  # 1: the unchanged sync was over 5%
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["documents"] == 40 and run.returncode == (
        0 if report["noop_within_5_percent"] else 1
    )
    assert report["first"]["added"] == 40 and report["first"]["chunks_embedded"] == 40
    assert report["noop"]["unchanged"] == 40 and report["noop"]["new_version"] is False
    one = report["one_change"]
    assert (one["updated"], one["unchanged"], one["chunks_embedded"]) == (1, 39, 1)
    # the share is taken before the seconds are rounded to two places
    assert report["noop_share"] == pytest.approx(
        report["noop_sync_s"] / report["first_sync_s"], abs=0.01
    )
