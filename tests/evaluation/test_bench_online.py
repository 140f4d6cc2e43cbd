"""``make bench-online`` at the ranking level, on rankings made up here: a challenger that puts
the relevant document first wins its experiments, an identical one is not promoted, and a
broken release's canary is rolled back; and the command on the tiny BEIR set end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle.experiments import BETTER, SequentialPolicy
from lifecycle.experiments.canary import CanaryLimits
from lifecycle.loop import ClickModel
from scripts.bench_online import broken, canary_run, interleaving_run, win_rate

ROOT = Path(__file__).resolve().parents[2]
# 30 claims with one relevant document each ("r<i>"): the champion shows it eighth, the good
# challenger first
QRELS = {f"q{i}": {f"r{i}": 1} for i in range(30)}
OTHERS = [f"x{j}" for j in range(9)]
CHAMPION = {q: OTHERS[:7] + [f"r{q[1:]}"] + OTHERS[7:9] for q in QRELS}
GOOD = {q: [f"r{q[1:]}"] + OTHERS[:9] for q in QRELS}


def test_a_clearly_better_challenger_wins_and_an_equal_one_is_not_promoted():
    # a test built for a large gain (60% wins): this challenger wins far more often
    policy, model = SequentialPolicy(min_win=0.6, max_queries=2000), ClickModel()
    states = [interleaving_run(CHAMPION, GOOD, QRELS, policy, model, s)[0] for s in range(10)]
    assert states == [BETTER] * 10
    equal = [interleaving_run(CHAMPION, CHAMPION, QRELS, policy, model, s)[0] for s in range(10)]
    assert BETTER not in equal


def test_the_win_rate_the_test_sees():
    model = ClickModel()
    good = win_rate(CHAMPION, GOOD, QRELS, model, 3000)
    assert good["win_rate"] > 0.8 and good["win_rate_p05"] <= good["win_rate"]
    assert 0 < good["decided_share"] < 1
    same = win_rate(CHAMPION, CHAMPION, QRELS, model, 3000)
    assert abs(same["win_rate"] - 0.5) < 0.05  # identical lists: a coin decides who shows what


def test_a_broken_release_is_rolled_back_and_a_sound_one_is_not():
    limits, model = CanaryLimits(min_queries=200), ClickModel()
    assert all(canary_run(GOOD, broken(GOOD), QRELS, limits, 0.2, model, s) for s in range(5))
    assert not any(canary_run(GOOD, GOOD, QRELS, limits, 0.2, model, s) for s in range(5))


@pytest.mark.slow
def test_the_command_prints_one_json_object(tmp_path):
    from search.settings import Settings

    tiny = ROOT / "tests" / "fixtures" / "beir_tiny"
    home = tmp_path / "home"
    env = {"DOCSEARCH_HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "app.cli"]
    build = [*cli, "eval", "--dataset", str(tiny), "--model", "hashing-128", "--json"]
    subprocess.run(build, check=True, capture_output=True, env=env, cwd=ROOT)
    # a second version of the tiny index stands for the trained one
    from evaluation import labeled_set_store

    store = labeled_set_store(tiny, Settings(home=home))
    trained = store.write(store.load(store.current()), activate=False)
    bench = [sys.executable, "-m", "scripts.bench_online", "--dataset", str(tiny), "--seeds", "3"]
    out = subprocess.run(
        [*bench, "--trained", trained], check=True, capture_output=True, text=True, env=env,
        cwd=ROOT,
    )  # fmt: skip
    figures = json.loads(out.stdout)
    for key in ("better_promoted_rate", "equal_promoted_rate", "worse_promoted_rate",
                "median_queries_to_decision", "canary_rollback_rate"):  # fmt: skip
        assert key in figures
    assert figures["seeds"] == 3 and figures["equal_promoted_rate"] == 0.0
