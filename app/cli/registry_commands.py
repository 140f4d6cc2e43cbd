"""``docsearch promote``, ``rollback`` and ``compare``: index versions in the MLflow registry."""

from __future__ import annotations

import dataclasses
import sys

from app.cli.arguments import non_negative_float
from app.cli.output import print_json
from search.settings import Settings


def _registry(args, settings: Settings):
    from lifecycle.gate import GatePolicy
    from lifecycle.registry import Registry

    changes = {k: getattr(args, k, None) for k in ("floor", "tolerance")}
    policy = dataclasses.replace(
        GatePolicy(), **{k: v for k, v in changes.items() if v is not None}
    )
    return Registry.from_settings(settings), policy


def cmd_promote(args, settings: Settings) -> int:
    registry, policy = _registry(args, settings)
    decision, promoted = registry.promote(args.version, policy, force=args.force)
    version = registry.version(args.version).version
    if promoted:
        forced = " (forced past the gate)" if not decision.promote else ""
        print(f"v{version} is now the champion{forced}: {decision.reason}")
        return 0
    print(
        f"v{version} was not promoted: {decision.reason}. Use --force to override.", file=sys.stderr
    )
    return 1


def cmd_rollback(args, settings: Settings) -> int:
    registry, _ = _registry(args, settings)
    previous = registry.rollback()
    print(f"champion rolled back to v{previous.version}")
    return 0


def cmd_compare(args, settings: Settings) -> int:
    registry, _ = _registry(args, settings)
    a, b = registry.version(args.a), registry.version(args.b)
    deltas = registry.compare(args.a, args.b)
    if args.json:
        print_json({name: [d.__dict__ for d in rows] for name, rows in deltas.items()})
        return 0
    if not deltas:
        print("The two versions share no evaluation set.")
    for name, rows in deltas.items():
        print(f"{name}: v{a.version} -> v{b.version}")
        for d in rows:
            mark = " *" if d.significant else ""
            print(
                f"  {d.metric:>14}: {d.a:.4f} -> {d.b:.4f}  {d.delta:+.4f}  p={d.p_value:.3f}{mark}"
            )
    print("* significant at p < 0.05 (paired t-test over queries)", file=sys.stderr)
    return 0


def add_commands(sub, settings: Settings) -> None:
    from lifecycle.gate import GatePolicy

    p = sub.add_parser("promote", help="make a registered index version the champion (gated)")
    p.add_argument("version", help="version number (3 or v3) or alias (challenger)")
    p.add_argument("--force", action="store_true", help="promote even if the gate rejects it")
    p.add_argument(
        "--floor",
        type=non_negative_float,
        help=f"minimum sample nDCG@10 (default {GatePolicy.floor})",
    )
    p.add_argument(
        "--tolerance",
        type=non_negative_float,
        help=f"largest allowed metric drop (default {GatePolicy.tolerance})",
    )
    p.set_defaults(func=cmd_promote)

    p = sub.add_parser("rollback", help="point the champion back at the previous champion")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("compare", help="metric deltas of two index versions with significance")
    p.add_argument("a", help="version number or alias")
    p.add_argument("b", help="version number or alias")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)
