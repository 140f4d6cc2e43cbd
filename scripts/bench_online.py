"""``make bench-online``: do online experiments decide right? Simulated people on SciFact's test
claims, against pairs of real index versions, through the product's own interleaving, sequential
test and canary comparison; prints one JSON object.

Each version's top-10 ranking of every claim is computed once with the real index; people are
then simulated at the ranking level, so many seeds are cheap. A simulated person asks a claim
drawn at random (people ask the same things again), examines rank r with probability
(1/r)^position_bias, clicks an examined relevant result with probability 1 - miss_rate and an
examined non-relevant one with probability noise (``lifecycle.loop.ClickModel``, as
``docsearch simulate-feedback`` does).

- Interleaving: the champion is the loop's untrained default; the challengers are the loop's
  trained one ("better"), the champion itself ("equal": same weights, same rankings), and the
  champion's BM25 ranking alone ("worse"). Each seed runs one experiment to its decision
  (``lifecycle.experiments.sequential_decision`` with the environment's test); a promotion is a
  "better" decision.
- Canary: the new champion is a degraded release (``--degraded``: the worse ranking, BM25
  alone, or "broken": its results in random order) serving ``canary_share`` of searches beside
  the previous champion; a seed is rolled back when ``lifecycle.experiments.canary``'s
  comparison finds a degradation once both sides have ``canary_min_queries``. The same with an
  unchanged new champion gives the false rollback rate.
- Win rates: each pair's share of decided interleavings won by the challenger, what the
  sequential test sees. The test's design is chosen on ``--split train --held-back`` (the train
  claims the loop never trained on), never on the test claims.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from lifecycle.experiments import (
    BETTER,
    CHALLENGER_SIDE,
    SequentialPolicy,
    credit,
    sequential_decision,
    team_draft,
    winner,
)
from lifecycle.experiments.canary import CanaryLimits, Signals, degradations
from lifecycle.experiments.decisions import sequential_policy_for
from lifecycle.loop import ClickModel

K = 10


def click_ranks(ranking: list[str], relevant: dict[str, int], model: ClickModel, rng) -> list[int]:
    """The ranks a simulated person clicks in one shown list."""
    ranks = []
    for rank, doc_id in enumerate(ranking, start=1):
        if rng.random() > (1.0 / rank) ** model.position_bias:
            continue  # not examined
        p_click = (1.0 - model.miss_rate) if relevant.get(doc_id, 0) > 0 else model.noise
        if rng.random() < p_click:
            ranks.append(rank)
    return ranks


def interleaving_run(champion, challenger, qrels, policy, model, seed) -> tuple[str, int]:
    """One experiment to its decision: (state, interleaved queries it took)."""
    rng = random.Random(seed)
    claims = sorted(champion)
    shown = 0

    def outcomes():
        nonlocal shown
        while True:
            qid = rng.choice(claims)
            picked = team_draft(champion[qid], challenger[qid], K, coin=rng)
            shown += 1
            sides = {rank: p.side for rank, p in enumerate(picked, start=1)}
            ranking = [p.item for p in picked]
            side = winner(credit(sides, click_ranks(ranking, qrels.get(qid, {}), model, rng)))
            if side is not None:
                yield side == CHALLENGER_SIDE

    decision = sequential_decision(outcomes(), policy)
    return decision.state, shown


def win_rate(champion, challenger, qrels, model, queries: int, seed: int = 0) -> dict:
    """The win rate the sequential test sees, over ``queries`` simulated searches: the
    challenger's share of the decided interleavings, its 5th percentile over 1,000 bootstrap
    resamples of the claims (how low the win rate of other claims like these may be), and the
    share of interleavings decided."""
    rng = random.Random(seed)
    claims = sorted(champion)
    per_claim = {q: [0, 0] for q in claims}  # wins, decided
    for _ in range(queries):
        qid = rng.choice(claims)
        picked = team_draft(champion[qid], challenger[qid], K, coin=rng)
        sides = {rank: p.side for rank, p in enumerate(picked, start=1)}
        clicks = click_ranks([p.item for p in picked], qrels.get(qid, {}), model, rng)
        side = winner(credit(sides, clicks))
        per_claim[qid][0] += side == CHALLENGER_SIDE
        per_claim[qid][1] += side is not None

    def rate(sample) -> float:
        decided = sum(per_claim[q][1] for q in sample)
        return sum(per_claim[q][0] for q in sample) / decided if decided else 0.5

    boot = sorted(rate(rng.choices(claims, k=len(claims))) for _ in range(1000))
    return {
        "win_rate": round(rate(claims), 4),
        "win_rate_p05": round(boot[49], 4),
        "decided_share": round(sum(d for _, d in per_claim.values()) / queries, 4),
    }


def side_signals(rankings, qrels, model, rng, n: int) -> Signals:
    """``n`` searches of one canary side, as the canary comparison counts them."""
    claims = sorted(rankings)
    top3 = abandoned = 0
    for _ in range(n):
        qid = rng.choice(claims)
        ranks = click_ranks(rankings[qid], qrels.get(qid, {}), model, rng)
        top3 += any(r <= 3 for r in ranks)
        abandoned += not ranks
    counts = {
        "ctr_at_3": (top3, n),
        "abandonment": (abandoned, n),
        "zero_result_rate": (0, n),
        "not_answered_rate": (0, 0),  # no chat in this replay: not measured
    }
    return Signals(n, counts, None)


def canary_run(previous, new, qrels, limits: CanaryLimits, share, model, seed) -> bool:
    """One canary, checked once both sides reach the minimum: rolled back?"""
    rng = random.Random(seed)
    # searches until the smaller side has its minimum, split by the share
    total = int(limits.min_queries / min(share, 1 - share)) + 1
    n_new = sum(rng.random() < share for _ in range(total))
    before = side_signals(previous, qrels, model, rng, total - n_new)
    after = side_signals(new, qrels, model, rng, n_new)
    return bool(degradations(before, after, limits))


def rankings_of(index, queries, method=None) -> dict[str, list[str]]:
    run = index.run(queries, k=K, method=method)
    return {q: sorted(docs, key=lambda d: -docs[d])[:K] for q, docs in run.items()}


def broken(rankings, seed=0) -> dict[str, list[str]]:
    """A release whose ranking broke: the same results in random order."""
    rng = random.Random(seed)
    return {q: rng.sample(docs, len(docs)) for q, docs in rankings.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--degraded", choices=("broken", "worse"), default="broken")
    parser.add_argument("--trained", help="the trained version (default: the store's current)")
    parser.add_argument(
        "--held-back",
        action="store_true",
        help="only the split's claims the loop holds back from training (choose the test's "
        "design on train claims it never trained on: --split train --held-back)",
    )
    parser.add_argument(
        "--win-rate-queries",
        type=int,
        default=20000,
        help="simulated searches per pair for its measured win rate (0: not measured)",
    )
    args = parser.parse_args(argv)

    from evaluation import labeled_set_store
    from evaluation.beir import load_labeled_set
    from search.settings import Settings

    settings = Settings.from_env()
    started = time.perf_counter()
    store = labeled_set_store(args.dataset, settings)
    versions = store.versions()
    trained_version = args.trained or store.current()
    if len(versions) < 2 or trained_version == versions[0]:
        print(
            f"error: {store.root} holds no trained challenger that was promoted; run "
            "`make bench-loop` first (bench-online uses its home)",
            file=sys.stderr,
        )
        return 2
    base, trained = store.load(versions[0]), store.load(trained_version)
    labeled = load_labeled_set(args.dataset, args.split, with_documents=False)
    queries = labeled.queries
    if args.held_back:
        from lifecycle.loop.evaluation_sets import held_out_set

        queries = held_out_set(labeled).queries
    champion = rankings_of(base, queries)
    pairs = {
        "better": rankings_of(trained, queries),
        "equal": champion,
        "worse": rankings_of(base, queries, method="bm25"),
    }
    policy: SequentialPolicy = sequential_policy_for(settings)
    model = ClickModel()
    out: dict = {"split": args.split, "held_back": args.held_back, "claims": len(champion)}
    out["seeds"] = args.seeds
    for name, challenger in pairs.items():
        runs = [
            interleaving_run(champion, challenger, labeled.qrels, policy, model, seed)
            for seed in range(args.seeds)
        ]
        out[f"{name}_promoted_rate"] = sum(s == BETTER for s, _ in runs) / len(runs)
        out[f"{name}_states"] = {s: sum(r == s for r, _ in runs) for s in {r for r, _ in runs}}
        out[f"{name}_median_queries"] = statistics.median(n for _, n in runs)
        if args.win_rate_queries:
            measured = win_rate(champion, challenger, labeled.qrels, model, args.win_rate_queries)
            out.update({f"{name}_{key}": value for key, value in measured.items()})
    out["median_queries_to_decision"] = out["better_median_queries"]
    limits = CanaryLimits.of(settings)
    share = settings.canary_share or 0.2
    new = pairs["worse"] if args.degraded == "worse" else broken(pairs["better"])
    out["canary_degraded"] = args.degraded
    out["canary_rollback_rate"] = (
        sum(
            canary_run(pairs["better"], new, labeled.qrels, limits, share, model, seed)
            for seed in range(args.seeds)
        )
        / args.seeds
    )
    out["canary_false_rollback_rate"] = (
        sum(
            canary_run(pairs["better"], pairs["better"], labeled.qrels, limits, share, model, seed)
            for seed in range(args.seeds)
        )
        / args.seeds
    )
    out["canary_share"] = share
    out["test"] = policy.describe()
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
