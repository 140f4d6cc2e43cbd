"""The corpus an index is built over: the documents folder and every source's mirror.

A source's documents are read from its mirror as they were parsed when fetched (nothing is
parsed again), their ids and paths prefixed with the source's name (``hr-share/policies/
leave.pdf``), and their metadata naming where they came from:

- ``source``: the source's name; ``source_path``: the path inside it (what an access rule
  with ``source:`` matches);
- ``source_url``: the object in its store (``s3://bucket/key``, ``smb://host/share/...``, a
  page's address) and ``source_version``: its ETag, size and time, or hash: what
  ``docsearch lineage`` traces an answer back to;
- ``source_link``: for web pages and WebDAV libraries, the address "open" goes to.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from search.index import folder_signature
from search.ingest import Document, LoadReport, ParseLimits, Rejection, load_folder
from search.ingest.walk import Prefer
from search.progress import ProgressFn
from search.sources.mirror import Mirror
from search.sources.model import NAME


def mirrors(sources_dir: str | Path) -> Iterator[tuple[str, Path]]:
    """(name, folder) of every source mirrored under ``sources_dir``, by name."""
    root = Path(sources_dir)
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if NAME.fullmatch(folder.name) and Mirror.exists(folder):
            yield folder.name, folder


def source_documents(name: str, folder: Path) -> tuple[list[Document], list[Rejection]]:
    """A mirror's documents as the corpus holds them (see the module docstring)."""
    documents = []
    with Mirror(folder) as mirror:
        for entry in mirror.entries():
            doc_id = f"{name}/{entry.path}"
            metadata = dict(entry.document.metadata) | {
                "path": doc_id,
                "source": name,
                "source_path": entry.path,
                "source_url": entry.url,
                "source_version": entry.version,
            }
            if entry.url.startswith(("http://", "https://")):
                metadata["source_link"] = entry.url
            documents.append(Document(doc_id, entry.document.title, entry.document.text, metadata))
        rejected = [Rejection(f"{name}/{path}", reason) for path, reason in mirror.rejected()]
    return documents, rejected


def load_corpus(
    docs: str | Path,
    sources_dir: str | Path,
    limits: ParseLimits = ParseLimits(),
    progress: ProgressFn | None = None,
    prefer: Prefer | None = None,
) -> LoadReport:
    """The documents folder parsed (``load_folder``; ``prefer`` picks the name of a file
    reached under several) plus every mirror's documents. A source whose name is also a
    top-level folder of the documents folder is refused (its ids would collide) with the fix."""
    report = load_folder(docs, limits, progress, prefer=prefer)
    documents, rejected, seen = list(report.documents), list(report.rejected), report.seen
    folders = {d.id.split("/", 1)[0] for d in report.documents if "/" in d.id}
    for name, folder in mirrors(sources_dir):
        found, refused = source_documents(name, folder)
        seen += len(found) + len(refused)
        if name in folders:
            reason = (
                f"the documents folder has a folder named {name!r} too; rename it or remove "
                f"the source and add it under another name"
            )
            rejected += [Rejection(d.id, reason) for d in found]
            found = []
        documents += found
        rejected += refused
    return LoadReport(documents=documents, rejected=rejected, seen=seen)


def corpus_signature(docs: str | Path, sources_dir: str | Path) -> str:
    """A cheap fingerprint of the corpus: the documents folder's (paths, sizes, times) and the
    generation each mirror's last complete sync left. It changes when a file changes or a
    source's sync completes with changes (never part-way through one)."""
    digest = hashlib.sha256(folder_signature(docs).encode())
    for name, folder in mirrors(sources_dir):
        with Mirror(folder) as mirror:
            digest.update(f"\n{name}\0{mirror.meta('complete_generation')}".encode())
    return digest.hexdigest()[:16]


def incomplete_sources(sources_dir: str | Path) -> list[str]:
    """Sources whose mirror a sync left part-way (see ``Mirror.incomplete``)."""
    found = []
    for name, folder in mirrors(sources_dir):
        with Mirror(folder) as mirror:
            if mirror.incomplete:
                found.append(name)
    return found
