"""The synthetic collection of ``make bench-scale`` (``evaluation.bench_scale``): what that
benchmark does not time, the text and the encoder.

Documents of ``CHUNKS_PER_DOCUMENT`` chunks each belong to one of N / 250 topics; a chunk's text
mixes its topic's words with common words (Zipf-distributed), and its vector, 384-d like
all-MiniLM-L6-v2's, is its topic's centre plus its document's own direction plus a draw from a
shared 32-dimensional subspace plus a little isotropic noise, normalised (sentence embeddings
have a low intrinsic dimension). A query names a document (its title word and two of its topic's
words) and the stand-in encoder puts it where that document's chunks are, so BM25 and the dense
index agree on what it is about; past its document's own chunks, a query's exact top 10 are
near-ties among its topic's 250 chunks, a hard case for an approximate index. Real vectors
(``real``) replace as many synthetic ones, evenly spaced.
"""

from __future__ import annotations

import hashlib

import numpy as np

DIM = 384
CHUNKS_PER_DOCUMENT = 4
CHUNKS_PER_TOPIC = 250
TOPIC_WORDS = 8  # words of its own each topic has
COMMON_WORDS = 5000
WORDS_PER_CHUNK = 24
SUBSPACE = 32
TOPIC_SCALE = 0.6  # per-dimension standard deviations of the parts of a vector
DOCUMENT_SCALE = 0.5
NOISE_SCALE = 0.5
DEPARTMENTS = 100  # path prefixes, each holding 1% of the documents
SEED = 20261127


class StandInEncoder:
    """Vectors from topics and documents, not from a model (see the module's docstring): a query
    naming a document ("d<doc>") and its topic's words ("t<topic>x<j>") lands near that
    document's chunks. Fast, deterministic, and the same in every process."""

    backend = "hashing"  # no model, no runtime

    def __init__(self, topics: int, dim: int = DIM, seed: int = SEED) -> None:
        self.model_id = f"stand-in-{dim}"
        self.dim = dim
        self.seed = seed
        identity = f"stand-in:{topics}:{dim}:{seed}".encode()
        self.fingerprint = hashlib.sha256(identity).hexdigest()[:16]
        rng = np.random.default_rng(seed)
        self.centres = rng.standard_normal((topics, dim)).astype(np.float32) * TOPIC_SCALE
        self.basis = rng.standard_normal((SUBSPACE, dim)).astype(np.float32)
        self.basis *= NOISE_SCALE / np.sqrt(SUBSPACE)

    def offsets(self, docs: np.ndarray) -> np.ndarray:
        """Each document's own direction (drawn from its number: the same in every process)."""
        out = np.empty((len(docs), self.dim), dtype=np.float32)
        for i, doc in enumerate(docs.tolist()):
            out[i] = np.random.default_rng([self.seed, doc]).standard_normal(self.dim)
        return out * DOCUMENT_SCALE

    def vectors(
        self, topics: np.ndarray, offsets: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Unit vectors: topic centre + document direction + noise in a shared subspace."""
        out = self.centres[topics] + offsets
        out += rng.standard_normal((len(topics), SUBSPACE)).astype(np.float32) @ self.basis
        out += rng.standard_normal((len(topics), self.dim)).astype(np.float32) * 0.03
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode(self, texts, progress=None) -> np.ndarray:
        return self.encode_queries(texts)

    def encode_queries(self, texts) -> np.ndarray:
        named = [_named(t) for t in texts]
        topics = np.array([t % len(self.centres) for t, _ in named], dtype=np.int64)
        offsets = self.offsets(np.array([d for _, d in named], dtype=np.int64))
        seed = int.from_bytes(hashlib.blake2b("\n".join(texts).encode()).digest()[:8], "little")
        return self.vectors(topics, offsets, np.random.default_rng(seed))

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return []


def _named(text: str) -> tuple[int, int]:
    """(topic, document) a query names: its first "t<topic>x<j>" and "d<doc>" words."""
    topic = doc = 0
    for word in reversed(text.split()):
        if word.startswith("t") and "x" in word:
            topic = int(word[1 : word.index("x")])
        elif word.startswith("d") and word[1:].isdigit():
            doc = int(word[1:])
    return topic, doc


def collection(n_chunks: int, seed: int = SEED, real: np.ndarray | None = None):
    """(documents, chunks, vectors, encoder) of a synthetic collection of ``n_chunks`` chunks;
    ``real`` vectors, if given, replace as many of the synthetic ones, evenly spaced."""
    from search.chunking import Chunk
    from search.ingest import Document

    n_docs = max(1, n_chunks // CHUNKS_PER_DOCUMENT)
    encoder = StandInEncoder(topic_count(n_chunks), seed=seed)
    rng = np.random.default_rng(seed + 1)
    doc_of_chunk = np.minimum(np.arange(n_chunks) // CHUNKS_PER_DOCUMENT, n_docs - 1)
    doc_topic = _doc_topics(n_chunks, seed)
    texts = _texts(doc_topic[doc_of_chunk], rng)
    vectors = np.empty((n_chunks, DIM), dtype=np.float32)
    for i in range(0, n_chunks, 100_000):
        docs = doc_of_chunk[i : i + 100_000]
        first = int(docs[0])
        offsets = encoder.offsets(np.arange(first, int(docs[-1]) + 1))[docs - first]
        vectors[i : i + len(docs)] = encoder.vectors(doc_topic[docs], offsets, rng)
    if real is not None and len(real):
        real = real[:n_chunks]
        vectors[np.linspace(0, n_chunks - 1, len(real)).astype(np.int64)] = real
    documents, chunks = [], []
    bounds = np.searchsorted(doc_of_chunk, np.arange(n_docs + 1))
    for d in range(n_docs):
        doc_id, title = f"dept-{d % DEPARTMENTS:02d}/doc-{d:07d}.txt", f"Document d{d}"
        parts = texts[bounds[d] : bounds[d + 1]]
        start = 0
        for position, text in enumerate(parts):
            end = start + len(text)
            chunks.append(Chunk(f"{doc_id}#{position}", doc_id, title, text, position, start, end))
            start = end + 1
        metadata = {
            "path": doc_id,
            "format": "txt",
            "modified": f"2026-{1 + d % 12:02d}-{1 + d % 28:02d}T00:00:00+00:00",
            "content_hash": f"{d:016x}",
        }
        documents.append(Document(doc_id, title, " ".join(parts), metadata))
    return documents, chunks, vectors, encoder


def topic_count(n_chunks: int) -> int:
    return max(1, n_chunks // CHUNKS_PER_TOPIC)


def _doc_topics(n_chunks: int, seed: int) -> np.ndarray:
    """The topic of every document (the same wherever it is drawn)."""
    n_docs = max(1, n_chunks // CHUNKS_PER_DOCUMENT)
    return np.random.default_rng(seed + 2).integers(0, topic_count(n_chunks), n_docs)


def _texts(chunk_topics: np.ndarray, rng: np.random.Generator) -> list[str]:
    """A text per chunk: a third its topic's words, the rest common words (Zipf)."""
    n = len(chunk_topics)
    own = WORDS_PER_CHUNK // 3
    topical = rng.integers(0, TOPIC_WORDS, (n, own))
    common = np.minimum(rng.zipf(1.3, (n, WORDS_PER_CHUNK - own)), COMMON_WORDS) - 1
    common_words = [f"w{i}" for i in range(COMMON_WORDS)]
    return [
        " ".join([f"t{topic}x{j}" for j in topical[i]] + [common_words[c] for c in common[i]])
        for i, topic in enumerate(chunk_topics.tolist())
    ]


def queries(n: int, n_chunks: int, seed: int) -> list[str]:
    """``n`` query texts, each naming a random document: two of its topic's words, its title
    word and one common word."""
    rng = np.random.default_rng(seed)
    doc_topic = _doc_topics(n_chunks, SEED)
    docs = rng.integers(0, len(doc_topic), n)
    words = rng.integers(0, TOPIC_WORDS, (2, n))
    common = rng.integers(0, 50, n)
    return [
        f"t{doc_topic[d]}x{a} t{doc_topic[d]}x{b} d{d} w{w}"
        for d, a, b, w in zip(docs.tolist(), *words.tolist(), common.tolist(), strict=True)
    ]
