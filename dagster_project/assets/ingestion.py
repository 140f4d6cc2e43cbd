"""Ingestion: the corpus (the documents folder and every connected source's mirror) parsed,
with what changed since the last index, where each source's documents came from, and why any
file was rejected."""

import time

import dagster as dg

from dagster_project.assets.batches import BUILDER
from dagster_project.assets.sources import source_mirror
from dagster_project.resources import DocsearchSettings
from lifecycle.builds import read_folder
from search.index import diff_documents
from search.progress import ProgressPrinter
from search.sources import corpus_signature

GROUP = "ingestion"
FILES_ACCOUNTED = "files_accounted"  # check: files seen = parsed + rejected
_LISTED = 20  # ids listed in metadata per kind of change; the counts are always complete


def _sources_table(documents) -> str:
    """Documents per source, with one object of each as an example of where they come from."""
    counts: dict[str, list] = {}
    for doc in documents:
        name = doc.metadata.get("source")
        if name:
            counts.setdefault(name, [0, doc.metadata])[0] += 1
    if not counts:
        return "Only the documents folder: no source is connected (`docsearch sources add`)."
    rows = "".join(
        f"| {name} | {n} | {meta.get('source_url')} | {meta.get('source_version')} |\n"
        for name, (n, meta) in sorted(counts.items())
    )
    return "| source | documents | e.g. object | its version |\n| --- | --- | --- | --- |\n" + rows


def _listing(ids) -> str:
    shown = list(ids)[:_LISTED]
    more = len(ids) - len(shown)
    return "\n".join(f"- {i}" for i in shown) + (f"\n- ... and {more} more" if more else "")


@dg.multi_asset(
    group_name=GROUP,
    op_tags=BUILDER,  # reads the builder's documents folder and index store
    deps=[source_mirror],  # every source's mirror is part of the corpus
    outs={
        "source_documents": dg.AssetOut(
            description="Every parsed document of the documents folder (DOCSEARCH_DOCS) and of "
            "each connected source's mirror (ids prefixed with the source's name; metadata "
            "source_url and source_version name the object in its store), with what is new, "
            "modified or deleted since the newest index version.",
        ),
        "parse_report": dg.AssetOut(
            description="Files that were seen but could not be indexed, each with the reason.",
        ),
    },
    check_specs=[
        dg.AssetCheckSpec(
            FILES_ACCOUNTED,
            asset="parse_report",
            description="Nothing silently dropped: files seen = documents parsed + files rejected.",
        )
    ],
)
def source_documents(context: dg.AssetExecutionContext, docsearch: DocsearchSettings):
    settings = docsearch.settings()
    started = time.perf_counter()
    signature = corpus_signature(settings.docs, settings.sources_dir)
    progress = ProgressPrinter(log=context.log.info, every=5.0)
    report = read_folder(settings, settings.docs, progress=progress).report  # and the sources
    changes = diff_documents(report.documents, docsearch.store())
    seconds = time.perf_counter() - started
    context.log.info(
        f"{report.seen} files: {len(report.documents)} parsed, {len(report.rejected)} rejected; "
        f"{len(changes.new)} new, {len(changes.modified)} modified, {len(changes.deleted)} deleted"
    )
    yield dg.Output(
        report.documents,
        "source_documents",
        metadata={
            "folder": str(settings.docs),
            "corpus_signature": signature,  # the sensor compares the corpus with this
            "sources": dg.MetadataValue.md(_sources_table(report.documents)),
            "documents": len(report.documents),
            "bytes": sum(int(d.metadata.get("size", 0)) for d in report.documents),
            "new": len(changes.new),
            "modified": len(changes.modified),
            "deleted": len(changes.deleted),
            "unchanged": len(changes.unchanged),
            "previous_index_version": changes.previous_version or "none",
            "changes": dg.MetadataValue.md(
                f"**new**\n{_listing(changes.new)}\n\n**modified**\n{_listing(changes.modified)}"
                f"\n\n**deleted**\n{_listing(changes.deleted)}"
            ),
            "seconds": round(seconds, 2),
        },
    )
    rows = [{"path": r.path, "reason": r.reason} for r in report.rejected]
    table = "| file | reason |\n| --- | --- |\n" + "".join(
        f"| {r['path']} | {r['reason']} |\n" for r in rows
    )
    yield dg.Output(
        rows,
        "parse_report",
        metadata={
            "seen": report.seen,
            "parsed": len(report.documents),
            "rejected": len(report.rejected),
            "report": dg.MetadataValue.md(table if rows else "No file was rejected."),
        },
    )
    yield dg.AssetCheckResult(
        check_name=FILES_ACCOUNTED,
        asset_key="parse_report",
        passed=report.seen == len(report.documents) + len(report.rejected),
        metadata={
            "seen": report.seen,
            "parsed": len(report.documents),
            "rejected": len(report.rejected),
        },
    )
