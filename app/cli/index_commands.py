"""``docsearch build`` and ``eval``: indexes and their quality (``search`` is ``search_command``)."""

from __future__ import annotations

import sys

from app.cli.arguments import existing_dir, index_name
from app.cli.output import print_json
from search.config import Fusion, IndexConfig, Method
from search.settings import Settings


def config_for(args, settings: Settings) -> IndexConfig:
    """The product's index config with the command's ``--model`` and ``--fusion``."""
    config = settings.index_config(model=getattr(args, "model", None) or settings.model)
    if getattr(args, "fusion", None):
        config = config.replace(fusion=Fusion(args.fusion))
    return config


def cmd_build(args, settings: Settings) -> int:
    """Build a new version. Without ``--register`` it serves only when nothing served before:
    a version that was never evaluated or registered never replaces the one that serves. With
    it, the version is evaluated, registered and gated as ``index_job`` does (the same
    service): it serves when the gate promotes it. Either way the CLI and the app keep
    answering from the same version."""
    from lifecycle.builds import build_version, read_folder
    from lifecycle.housekeeping import open_store
    from search.progress import ProgressPrinter

    if args.register and args.name != settings.index_name:
        raise ValueError(
            f"--register gates the served index ({settings.index_name}), not {args.name!r}"
        )
    progress = ProgressPrinter()
    read = read_folder(settings, args.docs, progress=progress)  # its policy; and the sources
    report = read.report
    for rejection in report.rejected:
        print(f"skipped {rejection.path}: {rejection.reason}", file=sys.stderr)
    if read.policy.error:
        print(f"access policy: {read.policy.error}", file=sys.stderr)
    config = config_for(args, settings)
    store = open_store(settings, args.name)  # staging of interrupted builds and stale versions go
    served = serving_before(store)
    activate = served is None and not args.register
    built = build_version(settings, read, store, config, activate=activate, progress=progress)
    summary = {
        "version": built.version,
        "path": str(built.path),
        "documents": len(report.documents),
        "rejected": [{"path": r.path, "reason": r.reason} for r in report.rejected],
        "policy": {"file": str(read.policy.file), "hash": read.policy.hash},
        **built.index.build_stats.__dict__,
    }
    if args.register:
        from lifecycle.builds import register_and_gate

        settled = register_and_gate(settings, built.path, built.index.encoder, config)
        summary["gate"] = gate_summary(settled)
        note = gate_note(built.version, served, settled)
    else:
        note = serving_note(built.version, served)
    summary |= {"serving": store.current(), "activated": store.current() == built.version}
    print_json(summary, indent=None if args.json else 2)
    print(note, file=sys.stderr)
    return 0


def serving_before(store) -> str | None:
    """The version that serves ``store`` before a build: CURRENT, else the newest version
    (which serving falls back to; CURRENT is pinned to it so the build does not replace it)."""
    served = store.current()
    if served is None and store.latest() is not None:
        served = store.latest()
        store.activate(served)
    return served


def serving_note(version: str, served: str | None) -> str:
    """What the build did to serving, in one line."""
    if served is None:
        return f"serving: {version} (nothing served before, so the new version is CURRENT)"
    return (
        f"serving unchanged: CURRENT stays at {served}; {version} is built but not evaluated "
        "or registered (`docsearch build --register` or the Dagster index_job gates a build)"
    )


def gate_summary(settled) -> dict:
    decision = settled.decision
    return {
        "outcome": settled.outcome,
        "reason": settled.reason,
        "registered": f"v{settled.candidate}",
        "champion": f"v{settled.champion}" if settled.champion else None,
        "value": decision.value if decision is not None else None,
        "floor": decision.floor if decision is not None else None,
    }


def gate_note(version: str, served: str | None, settled) -> str:
    """What the gate did with the build, in one line."""
    if settled.promoted:
        return f"serving: {version}, registered as v{settled.candidate}: {settled.reason}"
    return (
        f"serving unchanged: CURRENT stays at {served or 'none'}; {version} registered as "
        f"v{settled.candidate}, the challenger: {settled.reason}"
    )


def cmd_eval(args, settings: Settings) -> int:
    from evaluation.runner import evaluate_dataset

    config = config_for(args, settings)
    outcome = evaluate_dataset(args.dataset, args.split, Method(args.method), config, settings)
    if args.json:
        print_json(outcome)
    else:
        for key, value in outcome.items():
            print(f"{key:>16}: {value}")
    return 0


def add_commands(sub, settings: Settings) -> None:
    methods = [m.value for m in Method]
    p = sub.add_parser("build", help="index a folder of documents as a new version")
    p.add_argument(
        "--docs",
        type=existing_dir,
        default=settings.docs,
        help="documents folder (default: %(default)s, $DOCSEARCH_DOCS)",
    )
    p.add_argument(
        "--name",
        type=index_name,
        default=settings.index_name,
        help="index name under $DOCSEARCH_HOME/indexes (default: %(default)s)",
    )
    p.add_argument(
        "--model",
        default=settings.model,
        help="encoder: hub name or local path (default: %(default)s, $DOCSEARCH_MODEL)",
    )
    p.add_argument(
        "--register",
        action="store_true",
        help="evaluate, register and gate the version as the Dagster index_job does: it "
        "serves if the gate promotes it (without: it serves only if nothing served)",
    )
    p.add_argument("--json", action="store_true", help="print the summary on one line")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("eval", help="evaluate retrieval on a BEIR-layout dataset")
    p.add_argument(
        "--dataset",
        type=existing_dir,
        required=True,
        help="folder with corpus.jsonl (or docs/), queries.jsonl, qrels/",
    )
    p.add_argument("--split", default="test")
    p.add_argument("--method", choices=methods, default=Method.HYBRID.value)
    p.add_argument("--fusion", choices=[f.value for f in Fusion])
    p.add_argument("--model", default=settings.model, help="encoder (default: %(default)s)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)
