"""``docsearch simulate-feedback`` and ``retrain``: the learning loop from the command line."""

from __future__ import annotations

import sys

from app.cli.arguments import bounded_int, existing_dir, non_negative_float, probability
from app.cli.index_commands import config_for
from app.cli.output import print_json
from search.settings import Settings


def _served_dataset_index(dataset, settings, config):
    """The index that serves a dataset's simulated users and its learning loop: the store's
    current version as it was promoted (a fine-tuned encoder, a re-fitted fusion weight), or
    the index built with ``config`` when there is none or the corpus changed."""
    from evaluation import index_for_labeled_set, labeled_set_store
    from search.progress import ProgressPrinter

    built = index_for_labeled_set(
        dataset, settings, config, progress=ProgressPrinter(), prefer_current=True
    )
    return labeled_set_store(dataset, settings), built


def cmd_simulate_feedback(args, settings: Settings) -> int:
    from evaluation.beir import load_labeled_set
    from lifecycle.feedback import FeedbackStore
    from lifecycle.loop import ClickModel, simulate_feedback
    from search.progress import ProgressPrinter

    store, built = _served_dataset_index(args.dataset, settings, config_for(args, settings))
    labeled = load_labeled_set(args.dataset, args.split, with_documents=False)
    feedback = FeedbackStore(settings.feedback_url)
    model = ClickModel(args.position_bias, args.noise, args.miss_rate, args.vote_rate)
    report = simulate_feedback(
        built.index,
        feedback,
        labeled,
        built.version,
        model,
        args.sessions,
        seed=args.seed,
        progress=ProgressPrinter(),
    )
    out = {
        "index_version": built.version,
        "feedback_store": settings.feedback_url,
        **report.__dict__,
    }
    print_json(out, indent=None if args.json else 2)
    return 0


def _fine_tune_config(args):
    from lifecycle.loop import FineTuneConfig

    given = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "max_seq_length": args.max_seq_length,
        "documents": args.train_documents,
    }
    return FineTuneConfig(**{k: v for k, v in given.items() if v is not None})


def _loop_target(args, settings: Settings):
    """(store, served index, gate sets, report sets, registered model name) of the index that
    learns: a benchmark's (``--dataset``), gated on its held-back train questions and reported
    on ``--split``; or the product's, gated on the sample's labeled queries."""
    from evaluation.beir import load_labeled_set
    from lifecycle.loop import benchmark_sets, eval_set_of
    from lifecycle.registry import MODEL_NAME
    from search.index import BuiltIndex, IndexStore

    if args.dataset:
        store, built = _served_dataset_index(args.dataset, settings, config_for(args, settings))
        gate_sets, report_sets, note = benchmark_sets(args.dataset, args.split, args.gate_split)
        if note:
            print(f"note: {note}", file=sys.stderr)
        return store, built, gate_sets, report_sets, f"{MODEL_NAME}-{args.dataset.name}"
    store = IndexStore(settings.index_root())
    index = store.load()  # the current version; a clear error when none was built
    version = store.current()
    built = BuiltIndex(index, version, store.path(version), reused=True)
    sample = eval_set_of(load_labeled_set(settings.sample_set, "test", with_documents=False))
    return store, built, [sample], [], MODEL_NAME


def cmd_retrain(args, settings: Settings) -> int:
    from lifecycle.environments import evidence_for
    from lifecycle.experiments import OnlineGate
    from lifecycle.loop import collect_impressions, retrain, summary
    from lifecycle.registry import Registry

    store, built, gate_sets, report_sets, model_name = _loop_target(args, settings)
    impressions = collect_impressions(settings.feedback_url, store)
    if not impressions:
        print(
            "error: no feedback recorded for this index yet; search and click first, or run "
            "`docsearch simulate-feedback`",
            file=sys.stderr,
        )
        return 2
    registry = None
    if not args.no_mlflow:
        registry = Registry(settings.mlflow_uri, settings.mlflow_artifacts, model_name=model_name)
    outcome = retrain(
        built.index,
        built.version,
        impressions,
        store,
        settings,
        report_sets,
        gate_sets,
        _fine_tune_config(args),
        tolerance=args.tolerance,
        log=lambda line: print(line, file=sys.stderr),
        registry=registry,
        evidence=evidence_for(settings),
        online=OnlineGate.of(settings) if not args.dataset else None,
    )
    report = (report_sets or gate_sets)[0].name
    print_json(summary(outcome, report), indent=None if args.json else 2, default=str)
    return 0


def add_commands(sub, settings: Settings) -> None:
    from lifecycle.gate import GatePolicy

    p = sub.add_parser("simulate-feedback", help="replay labeled queries as users who click")
    p.add_argument("--dataset", type=existing_dir, required=True)
    p.add_argument("--split", default="train")
    p.add_argument(
        "--sessions", type=bounded_int(1, 100), default=1, help="times each query is replayed"
    )
    p.add_argument(
        "--position-bias", type=non_negative_float, default=0.5, help="examination = (1/rank)^this"
    )
    p.add_argument(
        "--noise", type=probability, default=0.05, help="click rate on examined non-relevant"
    )
    p.add_argument(
        "--miss-rate", type=probability, default=0.1, help="skip rate of examined relevant"
    )
    p.add_argument("--vote-rate", type=probability, default=0.2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_simulate_feedback)

    p = sub.add_parser("retrain", help="feedback -> fine-tuned encoder -> challenger -> gate")
    p.add_argument(
        "--dataset",
        type=existing_dir,
        help="BEIR dataset whose index learns (default: the product's index)",
    )
    p.add_argument("--split", default="test", help="split measured before/after (never trained on)")
    p.add_argument("--epochs", type=bounded_int(1, 1000), help="passes over the pairs (default 8)")
    p.add_argument("--batch-size", type=bounded_int(1, 4096), help="default 32")
    p.add_argument("--learning-rate", type=non_negative_float, help="default 2e-4")
    p.add_argument(
        "--max-seq-length",
        type=bounded_int(8, 8192),
        help="tokens per text in training (default 128)",
    )
    p.add_argument(
        "--train-documents",
        action="store_true",
        help="fine-tune the passage side too (re-encodes the whole corpus: wants a GPU)",
    )
    p.add_argument(
        "--gate-split",
        default="train",
        help="labeled split whose held-back queries (never trained on) join the gate, when the "
        "dataset has it and it is not --split (default train; '' for none)",
    )
    p.add_argument(
        "--tolerance",
        type=non_negative_float,
        default=GatePolicy.tolerance,
        help="largest allowed metric drop (default %(default)s)",
    )
    p.add_argument("--no-mlflow", action="store_true", help="do not log or register in MLflow")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_retrain)
