"""A folder of files into a LoadReport: walk it, parse each file, account for every one."""

from __future__ import annotations

import os
from pathlib import Path

from search.ingest.files import parse_file
from search.ingest.model import (
    SUPPORTED_SUFFIXES,
    Document,
    DocumentError,
    LoadReport,
    ParseLimits,
    Rejection,
)
from search.ingest.workers import ISOLATED_FORMATS, IsolatedParser
from search.progress import ProgressFn

PARSE_STAGE = "parse"


def _walk(root: Path) -> list[Path]:
    """All non-hidden files under root, in a sorted, deterministic order."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath, f) for f in sorted(filenames) if not f.startswith("."))
    return found


def load_folder(
    root: str | Path,
    limits: ParseLimits = ParseLimits(),
    progress: ProgressFn | None = None,
) -> LoadReport:
    """Parse every non-hidden file under `root`; each one ends up a Document or a Rejection.

    PDF and DOCX files are parsed in a worker process bounded by `limits.timeout_seconds`,
    so a hostile file cannot hang the load; text formats are parsed in-process.
    `progress("parse", done, total)` is called after each file.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder")
    paths = _walk(root)
    documents: list[Document] = []
    rejected: list[Rejection] = []
    isolated = IsolatedParser()
    try:
        for done, path in enumerate(paths, start=1):
            rel = path.relative_to(root).as_posix()
            fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
            try:
                if fmt in ISOLATED_FORMATS:
                    documents.append(isolated.parse(path, root, limits))
                else:
                    documents.append(parse_file(path, root, limits))
            except Exception as exc:  # DocumentError, or e.g. permission denied: still reported
                reason = (
                    str(exc)
                    if isinstance(exc, DocumentError)
                    else (f"could not read the file ({exc}); check it exists and is readable")
                )
                rejected.append(Rejection(path=rel, reason=reason))
            if progress is not None:
                progress(PARSE_STAGE, done, len(paths))
    except BaseException:
        isolated.close(kill=True)  # e.g. Ctrl-C while the worker is busy: do not wait for it
        raise
    isolated.close()
    return LoadReport(documents=documents, rejected=rejected, seen=len(paths))
