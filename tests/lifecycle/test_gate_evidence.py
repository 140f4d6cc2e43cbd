"""The offline gate that needs evidence: a retrained challenger's gain must be significant on
enough labeled queries, else the verdict is "keep collecting", never "promote"; and the
registry tags the verdict with its evidence."""

import pytest

from evaluation.metrics import Evaluation
from lifecycle.gate import KEEP_COLLECTING, PROMOTE, REJECT, EvidencePolicy, decide, gain_evidence
from lifecycle.loop import challenger_policy

POLICY = challenger_policy(["feedback", "trusted"], tolerance=0.01, evidence=EvidencePolicy())


def _evaluation(values: list[float], prefix: str) -> Evaluation:
    per_query = {f"{prefix}{i}": {"ndcg_at_10": v} for i, v in enumerate(values)}
    return Evaluation({"ndcg_at_10": sum(values) / len(values)}, per_query)


def _sides(before: dict[str, list[float]], after: dict[str, list[float]]):
    b = {name: _evaluation(v, name) for name, v in before.items()}
    a = {name: _evaluation(v, name) for name, v in after.items()}
    means = {
        side: {f"{n}/ndcg_at_10": e.mean["ndcg_at_10"] for n, e in d.items()}
        for side, d in (("before", b), ("after", a))
    }
    return b, a, means["before"], means["after"]


def test_a_gain_on_too_few_queries_keeps_collecting():
    # 10 feedback + 20 trusted queries, every one better: 30 < 50 queries
    b, a, before, after = _sides(
        {"feedback": [0.5] * 10, "trusted": [0.6] * 20},
        {"feedback": [0.9] * 10, "trusted": [0.7] * 20},
    )
    evidence = gain_evidence(b, a, POLICY.sets)
    assert evidence.sets == {"feedback": 10, "trusted": 20} and evidence.gain.queries == 30
    verdict = decide(after, before, POLICY, evidence)
    assert verdict.outcome == KEEP_COLLECTING and not verdict.promote
    assert "30 labeled queries judged by both versions, 50 needed" in verdict.reason
    tags = verdict.as_tags()
    assert tags["gate.decision"] == "keep_collecting" and tags["gate.evidence.queries"] == "30"
    # no per-query values at all: nothing to test, so nothing is promoted either
    assert decide(after, before, POLICY).outcome == KEEP_COLLECTING


def test_a_mean_gain_that_is_not_significant_keeps_collecting():
    # 60 queries: 31 up by 0.1 and 29 down by 0.1, mean +0.2/60 = +0.0033; the sign flips
    # reach that mean about half the time
    up_down = [0.6] * 31 + [0.4] * 29
    b, a, before, after = _sides({"feedback": [0.5] * 60}, {"feedback": up_down})
    verdict = decide(after, before, POLICY, gain_evidence(b, a, POLICY.sets))
    assert verdict.outcome == KEEP_COLLECTING
    assert 0.3 < verdict.evidence.gain.p_better < 0.7
    assert "the gain is not significant" in verdict.reason


def test_a_significant_gain_on_enough_queries_is_promoted():
    # 60 queries, 45 up by 0.2 and 15 down by 0.1: mean (9 - 1.5) / 60 = +0.125
    changed = [0.7] * 45 + [0.4] * 15
    b, a, before, after = _sides({"feedback": [0.5] * 60}, {"feedback": changed})
    verdict = decide(after, before, POLICY, gain_evidence(b, a, POLICY.sets))
    assert verdict.outcome == PROMOTE and verdict.promote
    assert verdict.evidence.gain.mean_gain == pytest.approx(0.125)
    assert verdict.evidence.gain.p_better < 0.001
    assert verdict.reason.startswith("significant gain: ndcg_at_10 +0.1250 on 60")
    assert "randomization" in verdict.test and "alpha 0.05" in verdict.test


def test_a_report_set_never_counts_as_evidence_and_a_loss_is_rejected():
    # the feedback gains on its 60 queries, but a regression beyond tolerance on a gated set
    # rejects; a report-only set (not in the policy's sets) is never part of the evidence
    changed = [0.7] * 45 + [0.4] * 15
    b, a, before, after = _sides(
        {"feedback": [0.5] * 60, "trusted": [0.8] * 60, "report": [0.5] * 99},
        {"feedback": changed, "trusted": [0.78] * 60, "report": [0.9] * 99},
    )
    evidence = gain_evidence(b, a, POLICY.sets)
    assert set(evidence.sets) == {"feedback", "trusted"}
    verdict = decide(after, before, POLICY, evidence)
    assert verdict.outcome == REJECT and "trusted/ndcg_at_10 regressed by -0.0200" in verdict.reason
