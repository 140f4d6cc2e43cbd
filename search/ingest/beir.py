"""A BEIR `corpus.jsonl` into Documents keyed by `_id`."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from search.access import DOCUMENT_ALLOW
from search.ingest.model import Document, DocumentError
from search.ingest.text import without_surrogates


def _record(line: bytes, name: str, line_no: int) -> tuple[str, str, str, object]:
    """(id, title, text, its own readers or None) of one line; DocumentError naming the line
    if it is not a record. Readers are ``"metadata": {"allow": [...]}`` (``search.access``)."""
    try:
        record = json.loads(line.decode("utf-8"))
        fields = (record["_id"], record.get("title") or "", record.get("text") or "")
        # JSON escapes can spell unpaired surrogates, which no UTF-8 file can hold later.
        doc_id, title, text = (without_surrogates(str(field)) for field in fields)
        allow = (record.get("metadata") or {}).get(DOCUMENT_ALLOW)
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{name} line {line_no} is not UTF-8; re-save the file as UTF-8"
        ) from exc
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise DocumentError(
            f"{name} line {line_no} is not a BEIR record with an _id; fix or remove it"
        ) from exc
    return doc_id, title, text, allow


def load_beir_corpus(path: str | Path) -> list[Document]:
    """Read a BEIR `corpus.jsonl` (or a folder holding one) into Documents keyed by `_id`.

    A record with a title and an empty text is still a Document (text ""): public collections
    have many, and they are found by their title.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "corpus.jsonl"
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat(timespec="seconds")
    documents: list[Document] = []
    seen: set[str] = set()
    with path.open("rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            doc_id, title, text, allow = _record(line, path.name, line_no)
            if doc_id in seen:
                raise DocumentError(
                    f"{path.name} line {line_no} repeats _id {doc_id!r}; ids must be unique"
                )
            seen.add(doc_id)
            # Separator so that ("ab", "c") and ("a", "bc") hash differently.
            body = f"{title}\n{text}".encode()
            # who may read it is part of the content: a change of it makes a new version
            permissions = b"" if allow is None else b"\n" + json.dumps(allow).encode()
            metadata = {
                "path": doc_id,
                "format": "beir",
                "size": len(body),
                "modified": modified,
                "content_hash": hashlib.sha256(body + permissions).hexdigest(),
            }
            if allow is not None:
                metadata[DOCUMENT_ALLOW] = allow
            documents.append(Document(id=doc_id, title=title, text=text, metadata=metadata))
    return documents
