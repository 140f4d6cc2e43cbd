"""A BEIR `corpus.jsonl` into Documents keyed by `_id`."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from search.ingest.model import Document, DocumentError


def load_beir_corpus(path: str | Path) -> list[Document]:
    """Read a BEIR `corpus.jsonl` (or a folder holding one) into Documents keyed by `_id`."""
    path = Path(path)
    if path.is_dir():
        path = path / "corpus.jsonl"
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat(timespec="seconds")
    documents: list[Document] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                doc_id = str(record["_id"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DocumentError(
                    f"{path.name} line {line_no} is not a BEIR record with an _id; fix or remove it"
                ) from exc
            if doc_id in seen:
                raise DocumentError(
                    f"{path.name} line {line_no} repeats _id {doc_id!r}; ids must be unique"
                )
            seen.add(doc_id)
            title = str(record.get("title") or "")
            text = str(record.get("text") or "")
            # Separator so that ("ab", "c") and ("a", "bc") hash differently.
            body = f"{title}\n{text}".encode()
            metadata = {
                "path": doc_id,
                "format": "beir",
                "size": len(body),
                "modified": modified,
                "content_hash": hashlib.sha256(body).hexdigest(),
            }
            documents.append(Document(id=doc_id, title=title, text=text, metadata=metadata))
    return documents
