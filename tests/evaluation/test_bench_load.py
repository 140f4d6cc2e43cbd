"""``make bench-load``: a few seconds of concurrent searches, clicks and votes through the app's
services and the REST API; every acknowledged event must be in the store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_an_acknowledged_event_missing_from_the_store_is_reported(tmp_path):
    from scripts.bench_load import stored_feedback
    from search.settings import Settings

    settings = Settings(home=tmp_path, model="hashing-128")
    checked = stored_feedback(settings, [{"click": [], "vote": []}])
    assert checked["all_stored"] and checked["acknowledged"] == 0
    checked = stored_feedback(settings, [{"click": [7], "vote": []}, {"click": [], "vote": [3]}])
    assert not checked["all_stored"] and checked["acknowledged"] == 2
    assert checked["missing"] == {"click": [7], "vote": [3]}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_every_event_sent_under_load_is_stored(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "scripts.bench_load", "--seconds", "3", "--model", "hashing-128"]
        + ["--app-users", "2", "--api-users", "2", "--share-from", str(tmp_path / "shared")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1  # one JSON object, nothing else on stdout
    report = json.loads(lines[0])
    feedback = report["feedback"]
    for path in ("app", "api"):
        figures = report[path]
        assert figures["errors"] == 0, figures["error_messages"]
        assert figures["operations"]["search"]["requests"] > 0
        assert figures["requests_per_s"] > 0 and figures["p95_ms"] >= figures["p50_ms"] > 0
        sent = feedback["sent"][path]
        assert sent["click"] == figures["operations"]["click"]["requests"] > 0
        assert sent["vote"] == figures["operations"]["vote"]["requests"] > 0
        assert feedback["acknowledged_by_path"][path] == sent["click"] + sent["vote"]
    assert feedback["all_stored"] and not any(feedback["missing"].values())
    stored = feedback["stored"]["clicks"] + feedback["stored"]["votes"]
    assert stored == feedback["acknowledged"] == sum(feedback["acknowledged_by_path"].values())
