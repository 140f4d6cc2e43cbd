"""`make gate`: the sample index against the floor and the recorded baseline (CI checks data
and models, not only code)."""

from __future__ import annotations

import json

from app.cli import main
from lifecycle.baseline import BASELINE, read_baseline, run_gate
from lifecycle.gate import GatePolicy
from search.settings import Settings


def _settings(home, labeled) -> Settings:
    return Settings.from_profile(
        "dev",
        home=str(home),
        docs=str(labeled / "docs"),
        sample_set=str(labeled),
        model="hashing-128",
    )


def test_the_gate_records_a_baseline_then_fails_a_regression(home, labeled_folder, tmp_path):
    settings, baseline = _settings(home, labeled_folder), tmp_path / "baseline.json"
    first = run_gate(settings, GatePolicy(), baseline, update=True)
    # each fixture query finds its one relevant file at rank 1: every metric is 1.0
    assert first.passed and first.recorded and first.baseline is None
    assert read_baseline(baseline) == {
        "sample/ndcg_at_10": 1.0,
        "sample/recall_at_100": 1.0,
        "sample/mrr_at_10": 1.0,
    }
    assert run_gate(settings, GatePolicy(), baseline).passed  # the same data: the same figures

    (labeled_folder / "docs" / "d2.txt").unlink()  # q2's only relevant document is gone
    worse = run_gate(settings, GatePolicy(), baseline)
    # q2 scores 0: nDCG@10 = 4/5 = 0.8 (above the floor 0.5), a drop of 0.2 > tolerance 0.01
    assert not worse.passed and not worse.recorded
    assert (
        worse.decision.regressions["sample/ndcg_at_10"] == -0.2
        or abs(worse.decision.regressions["sample/ndcg_at_10"] + 0.2) < 1e-9
    )
    assert read_baseline(baseline)["sample/ndcg_at_10"] == 1.0  # a failing run records nothing


def test_the_cli_gate_exits_nonzero_below_the_floor(
    home, labeled_folder, tmp_path, monkeypatch, capsys
):
    for name, value in {
        "DOCSEARCH_DOCS": labeled_folder / "docs",
        "DOCSEARCH_SAMPLE_SET": labeled_folder,
        "DOCSEARCH_MODEL": "hashing-128",
    }.items():
        monkeypatch.setenv(name, str(value))
    baseline = tmp_path / "b.json"
    assert main(["gate", "--baseline", str(baseline), "--floor", "1.1"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert not out["passed"] and "below the floor 1.1000" in out["reason"]
    assert not baseline.exists()  # nothing below the floor is ever recorded


def test_the_committed_baseline_is_the_sample_corpus_with_the_default_encoder():
    recorded = json.loads(BASELINE.read_text())
    assert recorded["encoder"] == Settings.from_profile("dev").model
    assert recorded["metrics"]["sample/ndcg_at_10"] >= GatePolicy.floor
