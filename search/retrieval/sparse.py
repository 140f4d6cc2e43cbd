"""Sparse retrieval: BM25 from bm25s, with snowball stemming and stopword removal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer


class SparseIndex:
    """A bm25s index over chunk texts, tokenised the same way at index and query time."""

    def __init__(
        self,
        retriever: bm25s.BM25,
        stemmer: str = "english",
        stopwords: str = "en",
    ) -> None:
        self.retriever = retriever
        self.stemmer_name = stemmer
        self.stopwords = stopwords
        self._stemmer = Stemmer.Stemmer(stemmer) if stemmer else None

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        k1: float = 1.2,
        b: float = 0.75,
        method: str = "lucene",
        stemmer: str = "english",
        stopwords: str = "en",
    ) -> SparseIndex:
        index = cls(bm25s.BM25(k1=k1, b=b, method=method), stemmer, stopwords)
        index.retriever.index(index.tokenize(texts), show_progress=False)
        index._size = len(texts)
        return index

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        return bm25s.tokenize(
            list(texts),
            stopwords=self.stopwords or None,
            stemmer=self._stemmer,
            return_ids=False,
            show_progress=False,
        )

    def terms(self, text: str) -> set[str]:
        """The stemmed query terms (for highlighting)."""
        return set(self.tokenize([text])[0])

    def __len__(self) -> int:
        return int(self.retriever.scores["num_docs"])

    def search(
        self, queries: Sequence[str], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; ids are -1 where fewer than k rows scored above zero.

        ``allowed`` (a boolean mask over rows, or row ids) zeroes every other row's score
        before the top k are chosen."""
        n = len(self)
        k = min(k, n)
        if k == 0 or not queries:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        mask = None
        if allowed is not None:
            allowed = np.asarray(allowed)
            if allowed.dtype == bool:
                mask = allowed.astype(np.float32)
            else:
                mask = np.zeros(n, dtype=np.float32)
                mask[allowed.astype(np.int64)] = 1.0
        ids, scores = self.retriever.retrieve(
            self.tokenize(queries), k=k, show_progress=False, n_threads=1, weight_mask=mask
        )
        ids = np.asarray(ids, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float32)
        ids[scores <= 0] = -1
        return scores, ids

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(folder), show_progress=False)
        (folder / "tokenizer.json").write_text(
            json.dumps({"stemmer": self.stemmer_name, "stopwords": self.stopwords})
        )

    @classmethod
    def load(cls, folder: Path) -> SparseIndex:
        settings = json.loads((folder / "tokenizer.json").read_text())
        retriever = bm25s.BM25.load(str(folder), mmap=False)
        return cls(retriever, settings["stemmer"], settings["stopwords"])
