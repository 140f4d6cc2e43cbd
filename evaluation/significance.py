"""Is a gain real? A one-sided paired randomization test over per-query differences.

For two systems run on the same queries, the per-query differences ``d_i = after_i - before_i``
are exchangeable in sign under the null hypothesis that neither system is better. The test
flips each difference's sign at random (Fisher's randomization test for paired data) and
counts how often the mean of the flipped differences reaches the observed mean: that share is
the one-sided p-value of "after is better". Smucker, Allan and Carterette (CIKM 2007) found the
randomization test, the t-test and the bootstrap agree on IR metrics, and the sign and Wilcoxon
tests mislead; the randomization test assumes nothing about the shape of the differences
(nDCG@10 differences are bounded, lumpy and mostly zero). scipy's ``permutation_test`` does the
sign flips (``permutation_type="samples"`` with one sample), exactly when there are few queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

RESAMPLES = 10_000  # sign flips drawn; exact enumeration below 2**13 queries' worth of flips
SEED = 0  # a fixed seed: the same evaluations always give the same verdict
TEST_NAME = "one-sided paired randomization test (sign flips) on per-query differences"


@dataclass(frozen=True)
class PairedGain:
    """The evidence that ``after`` beats ``before`` on the same queries."""

    queries: int  # paired queries
    changed: int  # queries whose value differs (a tie says nothing either way)
    mean_gain: float  # mean of after - before
    p_better: float  # one-sided p-value of "after is better" (1.0 with no query)
    p_worse: float  # one-sided p-value of "after is worse"


def paired_gain(before: Sequence[float], after: Sequence[float]) -> PairedGain:
    """``PairedGain`` of ``after`` over ``before`` (same queries, same order)."""
    if len(before) != len(after):
        raise ValueError(f"paired values differ in length: {len(before)} and {len(after)}")
    diff = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    changed = int(np.count_nonzero(np.abs(diff) > 1e-12))
    if changed == 0:
        return PairedGain(len(diff), 0, 0.0, 1.0, 1.0)
    nonzero = diff[np.abs(diff) > 1e-12]  # zeros flip to themselves: leaving them out is exact

    def p_value(alternative: str) -> float:
        if len(nonzero) == 1:  # two equally likely signs: the observed one and its flip
            wins = nonzero[0] > 0 if alternative == "greater" else nonzero[0] < 0
            return 0.5 if wins else 1.0
        result = stats.permutation_test(
            (nonzero,),
            np.mean,
            permutation_type="samples",
            alternative=alternative,
            n_resamples=RESAMPLES,
            random_state=SEED,
        )
        return float(result.pvalue)

    return PairedGain(
        queries=len(diff),
        changed=changed,
        mean_gain=float(diff.mean()),
        p_better=p_value("greater"),
        p_worse=p_value("less"),
    )
