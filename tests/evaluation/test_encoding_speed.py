"""The encoding benchmark: product and plain sentence-transformers timed in one run."""

import statistics

import pytest

from evaluation.encoding_speed import PLAIN, measure
from search.encoding import HashingEncoder

pytestmark = pytest.mark.slow  # loads the real sentence-transformers model as the baseline


def test_measure_times_every_contender_in_the_same_run():
    passages = ["Aspirin lowers the risk of a second heart attack.", "Cells divide.", "short"]
    out = measure(passages, {"hashing": HashingEncoder(dim=384)}, batch_size=2, repeats=3)
    assert out["encode_backend"] == "hashing"
    assert out["passages"] == 3 and out["batch_size"] == 2 and out["repeats"] == 3
    mine = out["backends"]["hashing"]["runs_passages_per_s"]
    plain = out["plain_st_runs_passages_per_s"]
    assert len(mine) == len(plain) == 3 and PLAIN not in out["backends"]
    assert out["encode_passages_per_s"] == round(statistics.median(mine), 1)
    assert out["plain_st_passages_per_s"] == round(statistics.median(plain), 1)
    # the speedup is the median of the per-round ratios (each round saw the same machine load)
    ratios = [m / p for m, p in zip(mine, plain, strict=True)]
    # (the runs are printed rounded to 0.1 passages/s, hence the tolerance)
    assert out["encode_speedup"] == pytest.approx(statistics.median(ratios), rel=0.05)
    # hashing vectors share nothing with MiniLM's: their cosine to fp32 is far from 1
    assert out["backends"]["hashing"]["mean_cosine_to_fp32"] < 0.5
