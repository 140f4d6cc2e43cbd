"""A folder of files into a LoadReport: walk it, parse each file in a bounded worker, account for all.

``parse_files`` runs the same steps for chosen files of a folder on a pool the caller keeps
open (a source's sync parses what it fetched, batch after batch, on one pool).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat as st
from collections.abc import Sequence
from pathlib import Path

from search.access import DOCUMENT_ALIASES
from search.ingest.files import (
    EMPTY_REASON,
    special_file_reason,
    too_big_reason,
    unsupported_reason,
)
from search.ingest.model import SUPPORTED_SUFFIXES, Document, LoadReport, ParseLimits, Rejection
from search.ingest.walk import Entry, Prefer, walk
from search.ingest.workers import Task, WorkerPool
from search.progress import ProgressFn

logger = logging.getLogger(__name__)

PARSE_STAGE = "parse"


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _refusal(entry: Entry, limits: ParseLimits, fmt: str | None = None) -> str:
    """Why `entry` is not worth a worker, from what the walk saw; "" when it is."""
    if entry.reason:
        return entry.reason
    suffix = Path(entry.rel).suffix.lower()
    if fmt is None and suffix not in SUPPORTED_SUFFIXES:
        return unsupported_reason(suffix)
    if entry.info.st_size > limits.max_file_bytes:
        return too_big_reason(entry.info.st_size, limits)
    return EMPTY_REASON if entry.info.st_size == 0 else ""


def _with_aliases(outcome: Document | Rejection, entry: Entry) -> Document | Rejection:
    if not entry.aliases or not isinstance(outcome, Document):
        return outcome
    metadata = outcome.metadata | {DOCUMENT_ALIASES: list(entry.aliases)}
    return dataclasses.replace(outcome, metadata=metadata)


def load_folder(
    root: str | Path,
    limits: ParseLimits = ParseLimits(),
    progress: ProgressFn | None = None,
    *,
    workers: int | None = None,
    prefer: Prefer | None = None,
) -> LoadReport:
    """Parse every non-hidden file under `root`; each one ends up a Document or a Rejection.

    The folder is a boundary (see `search.ingest.walk`): links out of it, FIFOs, devices and
    sockets are rejected without being opened. Every other file is parsed in one of `workers`
    bounded processes (default: one per CPU core; see `search.ingest.workers`), so a hostile
    file costs at most `limits.timeout_seconds` and `limits.max_memory_bytes`. Documents and
    rejections come in path order whatever order the workers finish in. `progress("parse",
    done, total)` is called once per file. A file with several names (hard links) becomes one
    Document under the name `prefer` picks (the access policy's strictest), its other names in
    ``metadata["aliases"]`` so that the policy can hold every one of them.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(
            f"{root} is not a folder; pass the folder that holds the documents"
        )
    entries = walk(root, prefer)
    outcomes: list[Document | Rejection | None] = [None] * len(entries)
    tasks: list[Task] = []
    positions: list[int] = []
    done = 0
    for position, entry in enumerate(entries):
        reason = _refusal(entry, limits)
        if reason:
            outcomes[position] = Rejection(path=entry.rel, reason=reason)
            done += 1
            if progress is not None:
                progress(PARSE_STAGE, done, len(entries))
        else:
            fmt = SUPPORTED_SUFFIXES[Path(entry.rel).suffix.lower()]
            tasks.append(Task(entry.rel, entry.path, fmt, entry.info.st_dev, entry.info.st_ino))
            positions.append(position)
    if tasks:
        with WorkerPool(limits, workers or default_workers()) as pool:
            for job, outcome, warnings in pool.run(tasks):
                outcomes[positions[job]] = _with_aliases(outcome, entries[positions[job]])
                for warning in warnings:
                    logger.warning("%s: %s", tasks[job].rel, warning)
                done += 1
                if progress is not None:
                    progress(PARSE_STAGE, done, len(entries))
    return LoadReport(
        documents=[o for o in outcomes if isinstance(o, Document)],
        rejected=[o for o in outcomes if isinstance(o, Rejection)],
        seen=len(entries),
    )


def parse_files(
    root: str | Path,
    files: Sequence[tuple[str, str | None]],
    pool: WorkerPool,
    limits: ParseLimits = ParseLimits(),
) -> list[Document | Rejection]:
    """Parse ``(rel, fmt)`` files under ``root`` on ``pool``, one outcome per file in order;
    ``fmt`` None picks the parser by suffix. A file must be a regular file (no link)."""
    outcomes: list[Document | Rejection | None] = [None] * len(files)
    tasks: list[Task] = []
    positions: list[int] = []
    for position, (rel, fmt) in enumerate(files):
        path = os.path.join(root, *rel.split("/"))
        try:
            info = os.lstat(path)
        except OSError as exc:
            entry = Entry(rel=rel, reason=f"could not read it ({exc.strerror})")
        else:
            reason = "" if st.S_ISREG(info.st_mode) else special_file_reason(info.st_mode)
            entry = Entry(rel=rel, path=path, info=info, reason=reason)
        reason = _refusal(entry, limits, fmt)
        if reason:
            outcomes[position] = Rejection(path=rel, reason=reason)
            continue
        fmt = fmt or SUPPORTED_SUFFIXES[Path(rel).suffix.lower()]
        tasks.append(Task(rel, path, fmt, entry.info.st_dev, entry.info.st_ino))
        positions.append(position)
    for job, outcome, warnings in pool.run(tasks):
        outcomes[positions[job]] = outcome
        for warning in warnings:
            logger.warning("%s: %s", tasks[job].rel, warning)
    return [o for o in outcomes if o is not None]
