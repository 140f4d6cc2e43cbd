"""An index folder's names and its manifest: format, encoder identity, corpus, checksums.

Layout of one index folder (format 1)::

    manifest.json      format version, config, encoder identity, counts, corpus fingerprint,
                       build stats, memory summary, and a sha256 of every other file
    documents.jsonl    one row per document: {"id", "title", "metadata"}
    chunks.jsonl       one row per chunk, in dense-index row order
    dense.faiss        the FAISS index over chunk vectors (Milvus backend: the collection's name)
    sparse/            the BM25 index over documents (bm25s files; Milvus: vocabulary, collection)
    memory/            the feedback memory, when the index has one
    access/            who may read each document, when the version carries an access policy

Every name in the folder is a constant here (the store's ``versions/`` and ``CURRENT`` are in
``search.index.store``); no other module spells them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from search.access import DOCUMENT_ALIASES
from search.config import IndexConfig
from search.encoding import (
    Encoder,
    document_encoder,
    encoder_backend,
    query_backend,
    query_fingerprint,
)
from search.ingest import Document
from search.retrieval.dense import FLAT, HNSW, HNSW_SQ8
from search.retrieval.milvus import MILVUS_KINDS, REFERENCE_HEAD

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
CHUNKS = "chunks.jsonl"
DENSE = "dense.faiss"
SPARSE = "sparse"
MEMORY = "memory"  # sub-folder holding the choice memory, when the index has one
ENCODER = "encoder"  # sub-folder holding the exported encoder, when an exported backend made it
ACCESS = "access"  # sub-folder holding the per-principal read bitmaps (search.index.access)


class IndexLoadError(Exception):
    """An index that cannot be used: missing, corrupt, or built for another encoder."""


REBUILD = "rebuild with `docsearch build` or roll back to another version"
_SHA256 = re.compile(r"[0-9a-f]{64}")
# the FAISS index types a manifest may name, with the four bytes that start such a file
# (a version on Milvus keeps a reference to its collection there, a JSON object)
DENSE_KINDS = {FLAT: b"IxFI", HNSW: b"IHNf", HNSW_SQ8: b"IHNs"}
DENSE_KINDS.update(dict.fromkeys(MILVUS_KINDS, REFERENCE_HEAD))


def manifest_sha256(folder: str | Path) -> str:
    """The sha256 of a version's manifest file: recorded where the version is activated
    (the store's CURRENT, the registry's version tags), so that the manifest, which vouches
    for every other file, is vouched for in turn."""
    path = Path(folder) / MANIFEST
    try:
        return _sha256(path)
    except OSError as exc:
        raise IndexLoadError(f"index manifest {path} cannot be read ({exc}); {REBUILD}") from exc


def read_manifest(folder: str | Path, expected_sha256: str | None = None) -> dict:
    """The manifest of an index folder, refused (IndexLoadError naming the file, the field
    and the fix) unless it is readable, in this format and every field is sound; and, given
    ``expected_sha256`` (what was recorded when the version was activated), unless it is the
    very manifest that was activated."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise IndexLoadError(
            f"No index at {folder}: {MANIFEST} is missing. Build one with `docsearch build`."
        )
    try:
        raw = path.read_bytes()
        manifest = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise IndexLoadError(
            f"index manifest {path} is not readable JSON ({type(exc).__name__}: {exc}); {REBUILD}"
        ) from exc
    if expected_sha256 and hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise IndexLoadError(
            f"index manifest {path} was changed after the version was activated (its sha256 "
            f"is not the {expected_sha256[:12]}... recorded then); {REBUILD}"
        )
    validate_manifest(path, manifest)
    return manifest


def validate_manifest(path: Path, manifest: object) -> None:
    """Raise IndexLoadError naming ``path``, the field and the fix unless every field of
    ``manifest`` has the type and the values a manifest written by this version has."""
    problem = _manifest_problem(path.parent, manifest)
    if problem:
        raise IndexLoadError(f"index manifest {path}: {problem}; {REBUILD}")


def _manifest_problem(folder: Path, manifest: object) -> str | None:
    if not isinstance(manifest, dict):
        return "must be a JSON object"
    if manifest.get("format_version") != FORMAT_VERSION:
        return (
            f"field 'format_version' is {manifest.get('format_version')!r}, this version reads "
            f"{FORMAT_VERSION}"
        )
    for field, kind in _FIELD_TYPES.items():
        if not isinstance(manifest.get(field), kind):
            return f"field {field!r} must be {_TYPE_NAMES[kind]}"
    if manifest["dense_index"] not in DENSE_KINDS:
        kinds = ", ".join(DENSE_KINDS)
        return f"field 'dense_index' must be one of {kinds}, not {manifest['dense_index']!r}"
    return (
        _config_problem(manifest["config"])
        or _model_problem(manifest["model"])
        or _counts_problem(manifest["counts"])
        or _files_problem(manifest)
        or _dense_file_problem(folder, manifest)
    )


_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "created": str,
    "config": dict,
    "config_fingerprint": str,
    "model": dict,
    "dense_index": str,
    "counts": dict,
    "corpus_fingerprint": str,
    "build": dict,
    "memory": (dict, type(None)),
    "access": (dict, type(None)),
    "files": dict,
}
_TYPE_NAMES = {str: "a string", dict: "an object", (dict, type(None)): "an object or null"}


def _config_problem(config: dict) -> str | None:
    """Each known setting of the type of its default (an int where a float is expected)."""
    try:
        IndexConfig.from_dict(config)
    except (TypeError, ValueError) as exc:
        return f"field 'config' is not an index configuration ({exc})"
    for spec in dataclasses.fields(IndexConfig):
        if spec.name not in config:
            continue
        value, default = config[spec.name], getattr(IndexConfig, spec.name, None)
        if not isinstance(default, bool | int | float | str):
            continue  # no simple default to take the type from
        kind = str if isinstance(default, str) else type(default)
        allowed = (int, float) if kind is float else (kind,)
        if isinstance(value, bool) is not (kind is bool) or not isinstance(value, allowed):
            return f"field 'config.{spec.name}' must be {kind.__name__}, not {value!r}"
    return None


def _model_problem(model: dict) -> str | None:
    for key in ("id", "fingerprint"):
        if not isinstance(model.get(key), str) or not model[key]:
            return f"field 'model.{key}' must be a non-empty string"
    for key in ("query_fingerprint", "weights_fingerprint", "calibration", "backend"):
        if key in model and not isinstance(model[key], str):
            return f"field 'model.{key}' must be a string"
    dim = model.get("dim")
    if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
        return f"field 'model.dim' must be a positive integer, not {dim!r}"
    return None


def _counts_problem(counts: dict) -> str | None:
    for key in ("documents", "chunks"):
        value = counts.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"field 'counts.{key}' must be a count (an integer of 0 or more)"
    return None


def _files_problem(manifest: dict) -> str | None:
    """Every file listed by a safe relative name with a sha256; the index's parts all listed."""
    files = manifest["files"]
    for name, digest in files.items():
        parts = Path(name).parts
        if not name or Path(name).is_absolute() or ".." in parts or name == MANIFEST:
            return f"field 'files' lists {name!r}, which is not a file inside the index folder"
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            return f"field 'files' gives {name!r} a checksum that is not a sha256"
    needed = [DOCUMENTS, CHUNKS, DENSE, f"{SPARSE}/"]
    needed += [f"{MEMORY}/"] if manifest.get("memory") else []
    needed += [f"{ACCESS}/"] if manifest.get("access") else []
    for name in needed:
        if not any(f == name or (name.endswith("/") and f.startswith(name)) for f in files):
            return f"field 'files' must list {name} with its checksum"
    return None


def _dense_file_problem(folder: Path, manifest: dict) -> str | None:
    """The FAISS file is of the type ``dense_index`` names (its first four bytes say)."""
    try:
        with open(folder / DENSE, "rb") as fh:
            head = fh.read(4)
    except OSError:
        return None  # a missing file is verify_files' to report, with its own message
    if head != DENSE_KINDS[manifest["dense_index"]]:
        return f"field 'dense_index' is {manifest['dense_index']!r} but {DENSE} is not one"
    return None


def new_manifest(
    *,
    config: IndexConfig,
    encoder: Encoder,
    dense_index: str,
    documents: Mapping[str, dict],
    chunks: int,
    build: Mapping,
    memory: Mapping | None,
    files: Mapping[str, str],
    access: Mapping | None = None,
) -> dict:
    """The manifest of an index folder whose other files are written (``files``: checksums)."""
    return {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": recorded_config(config, encoder).to_dict(),
        "config_fingerprint": recorded_config(config, encoder).build_fingerprint(),
        "model": encoder_identity(encoder),
        "dense_index": dense_index,
        "counts": {"documents": len(documents), "chunks": chunks},
        "corpus_fingerprint": corpus_fingerprint(documents),
        "build": dict(build),
        "memory": dict(memory) if memory is not None else None,
        "access": dict(access) if access is not None else None,
        "files": dict(files),
    }


def checksums(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder``, in path order."""
    return {
        str(p.relative_to(folder)): _sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def verify_files(folder: Path, manifest: Mapping) -> None:
    """Raise IndexLoadError unless every file the manifest lists is there with its checksum,
    and every file in the folder is listed (none escapes its checksum)."""
    listed = set(manifest["files"]) | {MANIFEST}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and str(path.relative_to(folder)) not in listed:
            raise IndexLoadError(
                f"index manifest {folder / MANIFEST}: field 'files' does not list "
                f"{path.relative_to(folder)}, which is in the folder; {REBUILD}"
            )
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise IndexLoadError(f"Index {folder} is incomplete: {name} is missing. Rebuild it.")
        if _sha256(path) != expected:
            raise IndexLoadError(
                f"Index {folder} is corrupt: checksum of {name} does not match the manifest. "
                "Rebuild it or roll back to another version."
            )


def encoder_identity(encoder: Encoder) -> dict:
    """What a manifest records of the encoder: its id, the fingerprint of what made the stored
    vectors (weights, backend and, for int8, its calibration) and of what encodes queries, the
    backends of both sides, the plain weights' fingerprint, and the dimension."""
    documents = document_encoder(encoder)
    return {
        "id": encoder.model_id,
        "fingerprint": encoder.fingerprint,
        "query_fingerprint": query_fingerprint(encoder),
        "backend": encoder_backend(encoder),
        "query_backend": query_backend(encoder),
        "weights_fingerprint": getattr(documents, "weights_fingerprint", encoder.fingerprint),
        "calibration": getattr(documents, "calibration", ""),
        "dim": encoder.dim,
    }


def encoder_matches(recorded: Mapping, encoder: Encoder) -> bool:
    """Whether ``encoder`` is the one a manifest's ``model`` entry records (both sides)."""
    return (
        encoder.fingerprint == recorded["fingerprint"]
        and query_fingerprint(encoder) == _query_side(recorded)
        and encoder.dim == recorded["dim"]
    )


def check_encoder(folder: Path, recorded: Mapping, encoder: Encoder) -> None:
    """Raise IndexLoadError, naming both encoders, unless ``encoder`` made this index."""
    if encoder_matches(recorded, encoder):
        return
    given = encoder_identity(encoder)
    raise IndexLoadError(
        f"Index {folder} was built with encoder {recorded['id']} (fingerprint "
        f"{recorded['fingerprint']}, query fingerprint {_query_side(recorded)}, dim "
        f"{recorded['dim']}) but the encoder given is {given['id']} (fingerprint "
        f"{given['fingerprint']}, query fingerprint {given['query_fingerprint']}, dim "
        f"{given['dim']}). Load it with the matching encoder or rebuild the index."
    )


def _query_side(recorded: Mapping) -> str:
    # manifests written before query-side fine-tuning existed encode queries with the same weights
    return recorded.get("query_fingerprint", recorded["fingerprint"])


def corpus_fingerprint(documents: Mapping[str, dict] | Iterable[Document]) -> str:
    """Hash of (doc id, content hash) pairs, and of the other names of a file read under
    several (``aliases``: who may read it depends on them): equal for equal corpora.

    Takes an index's ``{doc_id: {"metadata": ...}}`` or parsed ``Document`` objects alike.
    """
    if not isinstance(documents, Mapping):
        documents = {d.id: {"metadata": d.metadata} for d in documents}
    digest = hashlib.sha256()
    for doc_id in sorted(documents):
        metadata = documents[doc_id]["metadata"]
        digest.update(doc_id.encode())
        digest.update(str(metadata.get("content_hash", "")).encode())
        if metadata.get(DOCUMENT_ALIASES):  # only then: fingerprints of other corpora stay
            digest.update(json.dumps(metadata[DOCUMENT_ALIASES]).encode())
    return digest.hexdigest()[:16]


def recorded_config(config: IndexConfig, encoder: Encoder) -> IndexConfig:
    """``config`` as an index built with ``encoder`` records it: with the backend that really
    made the vectors (a test's hashing encoder is "torch", whatever the configured default)."""
    return config.replace(encoder_backend=encoder_backend(encoder))


def same_build(manifest: Mapping, corpus: str, config: IndexConfig, encoder: Encoder) -> bool:
    """Whether a manifest records a build from corpus fingerprint ``corpus`` with the build
    fields of ``config`` and with ``encoder``: then building again would give the same index."""
    return (
        manifest["corpus_fingerprint"] == corpus
        and manifest["config_fingerprint"] == recorded_config(config, encoder).build_fingerprint()
        and encoder_matches(manifest["model"], encoder)
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
