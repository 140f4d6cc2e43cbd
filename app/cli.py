"""The ``docsearch`` command line: build, search and evaluate indexes."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from search.config import Fusion, IndexConfig, Method

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _settings():
    from search.settings import Settings

    return Settings.from_env()


def _config(args, settings) -> IndexConfig:
    config = IndexConfig(model=getattr(args, "model", None) or settings.model)
    if getattr(args, "fusion", None):
        config = config.replace(fusion=Fusion(args.fusion))
    return config


def cmd_build(args) -> int:
    from search.encoding import load_encoder
    from search.index import IndexStore, build_and_store
    from search.ingest import load_folder
    from search.progress import ProgressPrinter

    settings = _settings()
    docs_dir = Path(args.docs or settings.docs)
    progress = ProgressPrinter()
    report = load_folder(docs_dir, progress=progress)
    for rejection in report.rejected:
        print(f"skipped {rejection.path}: {rejection.reason}", file=sys.stderr)
    config = _config(args, settings)
    encoder = load_encoder(config.model, batch_size=config.batch_size)
    store = IndexStore(settings.index_root(args.name))
    built = build_and_store(report.documents, config, encoder, settings, store, progress=progress)
    summary = {
        "version": built.version,
        "path": str(built.path),
        "documents": len(report.documents),
        "rejected": [{"path": r.path, "reason": r.reason} for r in report.rejected],
        **built.index.build_stats.__dict__,
    }
    print(json.dumps(summary, indent=None if args.json else 2))
    return 0


def cmd_search(args) -> int:
    from search.index import IndexStore, SearchIndex
    from search.retrieval import Filters

    settings = _settings()
    if args.index:
        index = SearchIndex.load(args.index)
    else:
        index = IndexStore(settings.index_root(args.name)).load()
    filters = Filters.of(
        args.format or (), args.path_prefix or "", args.after or "", args.before or ""
    )
    started = time.perf_counter()
    results = index.search(
        args.query, k=args.k, method=args.method, filters=filters, fusion=args.fusion
    )
    ms = (time.perf_counter() - started) * 1000
    if args.json:
        print(
            json.dumps(
                {
                    "query": args.query,
                    "latency_ms": round(ms, 1),
                    "results": [
                        {
                            "rank": r.rank,
                            "doc_id": r.doc_id,
                            "title": r.title,
                            "score": r.score,
                            "bm25_score": r.bm25_score,
                            "dense_score": r.dense_score,
                            "chunk_id": r.chunk_id,
                            "snippet": r.snippet.text,
                            "path": r.metadata.get("path"),
                        }
                        for r in results
                    ],
                }
            )
        )
        return 0
    if not results:
        print("No results. Try fewer or different words, or remove filters.")
    for r in results:
        print(f"{r.rank:>2}. {r.title}  [{r.doc_id}]  score {r.score:.3f}")
        print(f"    {r.snippet.render()}")
    print(f"({len(results)} results in {ms:.0f} ms)", file=sys.stderr)
    return 0


def cmd_eval(args) -> int:
    from evaluation.runner import evaluate_dataset

    settings = _settings()
    config = _config(args, settings)
    outcome = evaluate_dataset(args.dataset, args.split, Method(args.method), config, settings)
    if args.json:
        print(json.dumps(outcome))
    else:
        for key, value in outcome.items():
            print(f"{key:>16}: {value}")
    return 0


def _registry(args):
    from lifecycle.gate import GatePolicy
    from lifecycle.registry import Registry

    policy = GatePolicy()
    if getattr(args, "floor", None) is not None:
        policy = GatePolicy(floor=args.floor, tolerance=policy.tolerance)
    if getattr(args, "tolerance", None) is not None:
        policy = GatePolicy(floor=policy.floor, tolerance=args.tolerance)
    return Registry.from_settings(_settings()), policy


def cmd_promote(args) -> int:
    registry, policy = _registry(args)
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


def cmd_rollback(args) -> int:
    registry, _ = _registry(args)
    previous = registry.rollback()
    print(f"champion rolled back to v{previous.version}")
    return 0


def cmd_compare(args) -> int:
    registry, _ = _registry(args)
    a, b = registry.version(args.a), registry.version(args.b)
    deltas = registry.compare(args.a, args.b)
    if args.json:
        print(json.dumps({name: [d.__dict__ for d in rows] for name, rows in deltas.items()}))
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


def _dataset_index(dataset, settings, config):
    """The index ``docsearch eval`` builds for a dataset, reused when it exists."""
    from evaluation.beir import load_labeled_set
    from evaluation.runner import index_name_for
    from search.index import IndexStore, build_or_reuse
    from search.progress import ProgressPrinter

    store = IndexStore(settings.index_root(index_name_for(dataset)))
    corpus = load_labeled_set(dataset, _any_split(dataset))
    built = build_or_reuse(corpus.documents, config, settings, store, progress=ProgressPrinter())
    return store, built


def _served_dataset_index(dataset, settings, config):
    """The index that serves a dataset's simulated users and its learning loop: the store's
    current version as it was promoted (a fine-tuned encoder, a re-fitted fusion weight), or a
    fresh build with ``config`` when there is none or the corpus changed."""
    from evaluation.beir import load_labeled_set
    from evaluation.runner import index_name_for
    from search.index import (
        BuiltIndex,
        IndexLoadError,
        IndexStore,
        corpus_fingerprint,
        read_manifest,
    )

    store = IndexStore(settings.index_root(index_name_for(dataset)))
    current = store.current()
    if current:
        corpus = load_labeled_set(dataset, _any_split(dataset)).documents
        wanted = corpus_fingerprint({d.id: {"metadata": d.metadata} for d in corpus})
        try:
            if read_manifest(store.path(current))["corpus_fingerprint"] == wanted:
                return store, BuiltIndex(store.load(current), current, store.path(current), True)
        except IndexLoadError as exc:
            print(f"current version {current} cannot be used ({exc}); rebuilding", file=sys.stderr)
    return _dataset_index(dataset, settings, config)


def _any_split(dataset) -> str:
    splits = sorted(p.stem for p in (Path(dataset) / "qrels").glob("*.tsv"))
    if not splits:
        raise FileNotFoundError(f"No qrels in {dataset}/qrels")
    return "test" if "test" in splits else splits[0]


def cmd_simulate_feedback(args) -> int:
    from evaluation.beir import load_labeled_set
    from lifecycle.feedback import FeedbackStore
    from lifecycle.loop import ClickModel, simulate_feedback
    from search.progress import ProgressPrinter

    settings = _settings()
    store, built = _served_dataset_index(args.dataset, settings, _config(args, settings))
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
    print(json.dumps(out, indent=None if args.json else 2))
    return 0


def cmd_retrain(args) -> int:
    from evaluation.beir import load_labeled_set
    from lifecycle.feedback import FeedbackStore
    from lifecycle.loop import FineTuneConfig, eval_set_of, held_out_set, retrain, summary
    from lifecycle.registry import MODEL_NAME, Registry
    from search.settings import sample_set_path

    settings = _settings()
    feedback = FeedbackStore(settings.feedback_url)
    given = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "max_seq_length": args.max_seq_length,
        "documents": args.train_documents,
    }
    ft = FineTuneConfig(**{k: v for k, v in given.items() if v is not None})
    if args.dataset:
        store, built = _served_dataset_index(args.dataset, settings, _config(args, settings))
        report = eval_set_of(load_labeled_set(args.dataset, args.split, with_documents=False))
        gate_sets, report_sets = [], [report]
        gate_split = args.gate_split
        if gate_split and gate_split != args.split:
            if (Path(args.dataset) / "qrels" / f"{gate_split}.tsv").is_file():
                labeled = load_labeled_set(args.dataset, gate_split, with_documents=False)
                gate_sets = [held_out_set(labeled)]
            else:
                print(
                    f"note: no {gate_split} split to gate on; the feedback alone decides",
                    file=sys.stderr,
                )
        model_name = f"{MODEL_NAME}-{Path(args.dataset).resolve().name}"
    else:
        from search.index import IndexStore

        store = IndexStore(settings.index_root())
        built = type("Built", (), {"index": store.load(), "version": store.current()})
        sample = load_labeled_set(sample_set_path(), "test", with_documents=False)
        gate_sets, report_sets = [eval_set_of(sample)], []
        report = gate_sets[0]
        model_name = MODEL_NAME
    versions = set(store.versions())
    impressions = [i for i in feedback.impressions() if i.index_version in versions]
    if not impressions:
        print(
            "error: no feedback recorded for this index yet; search and click first, or run "
            "`docsearch simulate-feedback`",
            file=sys.stderr,
        )
        return 2
    registry = (
        None
        if args.no_mlflow
        else Registry(settings.mlflow_uri, settings.mlflow_artifacts, model_name=model_name)
    )

    def log(line: str) -> None:
        print(line, file=sys.stderr)

    outcome = retrain(
        built.index,
        built.version,
        impressions,
        store,
        settings,
        report_sets,
        gate_sets,
        ft,
        tolerance=args.tolerance,
        log=log,
        registry=registry,
    )
    print(json.dumps(summary(outcome, report.name), indent=None if args.json else 2, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="docsearch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="index a folder of documents as a new version")
    p.add_argument("--docs", help="documents folder (default: $DOCSEARCH_DOCS or data/sample/docs)")
    p.add_argument("--name", default="default", help="index name under $DOCSEARCH_HOME/indexes")
    p.add_argument("--model", help="encoder: hub name or local path (default: packaged MiniLM)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("search", help="search an index")
    p.add_argument("query")
    p.add_argument("--index", help="an index folder (default: the current version of --name)")
    p.add_argument("--name", default="default")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--method", choices=[m.value for m in Method], default=Method.HYBRID.value)
    p.add_argument("--fusion", choices=[f.value for f in Fusion])
    p.add_argument("--format", action="append", help="only this format (repeatable)")
    p.add_argument("--path-prefix", help="only documents under this folder")
    p.add_argument("--after", help="modified on or after this ISO date")
    p.add_argument("--before", help="modified before this ISO date")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", help="evaluate retrieval on a BEIR-layout dataset")
    p.add_argument(
        "--dataset",
        required=True,
        help="folder with corpus.jsonl (or docs/), queries.jsonl, qrels/",
    )
    p.add_argument("--split", default="test")
    p.add_argument("--method", choices=[m.value for m in Method], default=Method.HYBRID.value)
    p.add_argument("--fusion", choices=[f.value for f in Fusion])
    p.add_argument("--model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("promote", help="make a registered index version the champion (gated)")
    p.add_argument("version", help="version number (3 or v3) or alias (challenger)")
    p.add_argument("--force", action="store_true", help="promote even if the gate rejects it")
    p.add_argument("--floor", type=float, help="minimum sample nDCG@10 (default 0.5)")
    p.add_argument("--tolerance", type=float, help="largest allowed metric drop (default 0.01)")
    p.set_defaults(func=cmd_promote)

    p = sub.add_parser("rollback", help="point the champion back at the previous champion")
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("compare", help="metric deltas of two index versions with significance")
    p.add_argument("a", help="version number or alias")
    p.add_argument("b", help="version number or alias")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("simulate-feedback", help="replay labeled queries as users who click")
    p.add_argument("--dataset", required=True)
    p.add_argument("--split", default="train")
    p.add_argument("--sessions", type=int, default=1, help="times each query is replayed")
    p.add_argument("--position-bias", type=float, default=0.5, help="examination = (1/rank)^this")
    p.add_argument("--noise", type=float, default=0.05, help="click rate on examined non-relevant")
    p.add_argument("--miss-rate", type=float, default=0.1, help="skip rate of examined relevant")
    p.add_argument("--vote-rate", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_simulate_feedback)

    p = sub.add_parser("retrain", help="feedback -> fine-tuned encoder -> challenger -> gate")
    p.add_argument(
        "--dataset", help="BEIR dataset whose index learns (default: the product's index)"
    )
    p.add_argument("--split", default="test", help="split measured before/after (never trained on)")
    p.add_argument("--epochs", type=int, help="passes over the pairs (default 8)")
    p.add_argument("--batch-size", type=int, help="default 32")
    p.add_argument("--learning-rate", type=float, help="default 2e-4")
    p.add_argument("--max-seq-length", type=int, help="tokens per text in training (default 128)")
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
    p.add_argument("--tolerance", type=float, default=0.01)
    p.add_argument("--no-mlflow", action="store_true", help="do not log or register in MLflow")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_retrain)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a clear message instead of a traceback
        from search.index import IndexLoadError

        if isinstance(exc, IndexLoadError):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
