"""The one-sided paired randomization test behind the promotion gate, checked against exact
sign-flip enumerations worked out by hand."""

import numpy as np
import pytest

from evaluation.significance import paired_gain


def test_exact_sign_flips_of_a_few_queries():
    # three queries, each +1: of the 2**3 = 8 sign patterns only all-positive reaches mean 1
    gain = paired_gain([0, 0, 0], [1, 1, 1])
    assert (gain.queries, gain.changed, gain.mean_gain) == (3, 3, 1.0)
    assert gain.p_better == pytest.approx(1 / 8) and gain.p_worse == pytest.approx(1.0)
    # +0.5, +0.5, -0.2 (and a tie, which flips to itself): patterns whose sum >= 0.8 are
    # (+,+,-) 0.8 and (+,+,+) 1.2: 2 of 8
    gain = paired_gain([0.5, 0.5, 0.5, 0.3], [1.0, 1.0, 0.3, 0.3])
    assert gain.changed == 3 and gain.p_better == pytest.approx(2 / 8)
    assert gain.mean_gain == pytest.approx(0.8 / 4)


def test_one_changed_query_is_a_coin_and_no_change_is_no_evidence():
    assert paired_gain([0.2, 0.5], [0.9, 0.5]).p_better == 0.5  # its sign or the flip
    assert paired_gain([0.2, 0.5], [0.1, 0.5]).p_better == 1.0
    same = paired_gain([0.3, 0.4], [0.3, 0.4])
    assert (same.changed, same.p_better, same.p_worse) == (0, 1.0, 1.0)


def test_a_real_gain_on_many_queries_is_found_and_noise_is_not():
    rng = np.random.default_rng(3)
    before = rng.random(300)
    gained = paired_gain(before, before + rng.normal(0.05, 0.2, 300))
    assert gained.p_better < 0.01 and gained.p_worse > 0.99
    # no gain at all, 60 times: the test says "better" at alpha 0.05 about 5% of the time
    calls = sum(
        paired_gain(before[:30], before[:30] + rng.normal(0, 0.2, 30)).p_better < 0.05
        for _ in range(60)
    )
    assert calls <= 9  # binomial(60, 0.05): mean 3, P(> 9) < 0.002


def test_paired_values_must_pair():
    with pytest.raises(ValueError, match="differ in length"):
        paired_gain([1, 2], [1])
