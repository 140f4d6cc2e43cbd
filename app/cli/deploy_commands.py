"""``docsearch promote VERSION --to ENV``, ``lineage`` and ``gate``: environments, lineage, CI.

``--to`` extends the ``promote`` command of ``registry_commands`` (registered before this
group): without it, promote moves the champion within this environment as before.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from types import SimpleNamespace

from app.cli.arguments import non_negative_float, positive_id
from app.cli.output import print_json
from app.cli.remote import api_for
from search.settings import Settings


def cmd_promote_to(args, settings: Settings) -> int:
    from lifecycle.environments import policy_for, promote_to

    target = Settings.from_profile(args.to, settings.config_file)
    done = promote_to(
        settings,
        args.version,
        target,
        by=args.by or getpass.getuser(),
        force=args.force,
        policy=policy_for(target, floor=args.floor, tolerance=args.tolerance),
        log=lambda line: print(line, file=sys.stderr),
    )
    if args.json:
        print_json(
            {
                "source": done.source,
                "target": done.target,
                "run_id": done.run_id,
                "promoted": done.promoted,
                **done.evidence,
            },
            default=str,
        )
    elif done.promoted:
        print(
            f"{done.source} ({settings.env}) is now {done.target}, champion of {target.env}: "
            f"{done.decision.reason}"
        )
    else:
        print(
            f"{done.source} ({settings.env}) was registered as {done.target} but not promoted "
            f"in {target.env}: {done.decision.reason}",
            file=sys.stderr,
        )
    return 0 if done.promoted else 1


def cmd_lineage(args, settings: Settings) -> int:
    """Through the API (as DOCSEARCH_API_TOKEN's user, an admin) when it answers: it has
    MLflow loaded; else here."""
    api = api_for(settings, None)
    if api is not None:
        lineage = api.get(f"/v1/lineage/{args.query_id}")
    else:
        from lifecycle.lineage import trace

        lineage = trace(settings, args.query_id).as_dict()
    if args.json:
        print_json(lineage, indent=2, default=str)
        return 0
    print(describe(SimpleNamespace(**lineage)))
    return 0


def describe(lineage) -> str:
    """The lineage as text, the answer first and its origins after."""
    q, index = lineage.query, lineage.index
    lines = [f"query {q['id']}: {q['text']!r} ({q['source']}, {q['method']}, {q['at']})"]
    for r in lineage.results:
        lines.append(
            f"  {r['rank']}. {r['doc_id']}  file {r.get('path')}  "
            f"content sha256 {r.get('content_hash')}  chunk {r['chunk_id']}"
        )
        if r.get("source_url"):  # from a connected store: the object it came from
            lines.append(
                f"     from source {r['source']}: {r['source_url']} (version {r['source_version']})"
            )
    for a in lineage.answers:
        lines.append(f"  answer {a['id']} ({a['mode']}) cites {', '.join(a['cited']) or 'nothing'}")
    model = index.get("model") or {}
    lines.append(
        f"index version {index['version']} at {index['folder'] or '(not on this machine)'}"
    )
    lines.append(
        f"  corpus {index['corpus_fingerprint']}  config {index['config_fingerprint']}  "
        f"built {index['created']}  {len(index['files'])} files checksummed"
    )
    lines.append(
        f"  encoder {model.get('id')} (fingerprint {model.get('fingerprint')}, "
        f"query side {model.get('query_fingerprint')})"
    )
    if lineage.encoder:
        e = lineage.encoder
        lines.append(
            f"  fine-tuned: {e['registered']} (run {e['run_id']}) from {e['base_model']} "
            f"on training data {e['training_data']} ({e['feedback_events']} feedback "
            f"events shown on {e['feedback_index_versions']})"
        )
    for run in lineage.runs:
        gate = run["gate"].get("gate.decision", "-")
        lines.append(f"MLflow run {run['run_id']} {run['name']!r} {run['registered']} gate {gate}")
        lines.append(f"  {run['url']}")
        promotion = {
            k.split(".")[-1]: v
            for k, v in run["tags"].items()
            if k.startswith("docsearch.promotion.")
        }
        if promotion:
            lines.append(
                f"  promoted by {promotion.get('by')} at {promotion.get('at')} from "
                f"{promotion.get('from_env')} {promotion.get('from_version')}"
            )
    if lineage.dagster_run:
        lines.append(f"Dagster run {lineage.dagster_run['run_id']}  {lineage.dagster_run['url']}")
    return "\n".join(lines)


def cmd_gate(args, settings: Settings) -> int:
    from lifecycle.baseline import BASELINE, run_gate
    from lifecycle.environments import policy_for

    run = run_gate(
        settings,
        policy_for(settings, floor=args.floor, tolerance=args.tolerance),
        Path(args.baseline) if args.baseline else BASELINE,
        update=args.update_baseline,
        log=lambda line: print(line, file=sys.stderr),
    )
    print_json(
        {
            "passed": run.passed,
            "reason": run.decision.reason,
            "metrics": run.metrics,
            "baseline": run.baseline,
            "baseline_written": run.recorded,
        },
        indent=2,
    )
    if run.recorded:
        print(f"baseline recorded in {args.baseline or BASELINE}; commit it", file=sys.stderr)
        return 0
    return 0 if run.passed else 1


def add_commands(sub, settings: Settings) -> None:
    promote = sub.choices["promote"]
    promote.add_argument(
        "--to",
        metavar="ENV",
        help="promote into another environment "
        "(a profile of the profiles file), through that environment's gate",
    )
    promote.add_argument("--by", help="who promotes (default: this user)")
    promote.add_argument("--json", action="store_true", help="with --to: the evidence as JSON")
    within = promote.get_default("func")
    promote.set_defaults(func=lambda a, s: cmd_promote_to(a, s) if a.to else within(a, s))

    p = sub.add_parser("lineage", help="where an answer came from: index, encoder, runs, files")
    p.add_argument(
        "query_id", type=positive_id, help="the query id (result details, the API's answer)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lineage)

    p = sub.add_parser("gate", help="CI: build the sample index, fail below the floor or baseline")
    p.add_argument("--baseline", help="baseline file (default data/gate_baseline.json)")
    p.add_argument("--update-baseline", action="store_true", help="record these metrics")
    p.add_argument("--floor", type=non_negative_float, help="minimum sample nDCG@10")
    p.add_argument("--tolerance", type=non_negative_float, help="largest allowed metric drop")
    p.set_defaults(func=cmd_gate)
