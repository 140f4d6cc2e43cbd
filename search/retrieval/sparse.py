"""Sparse retrieval: BM25 from bm25s, with snowball stemming and stopword removal."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.tokenization import _infer_stopwords

SELECT_AMONG_ALL_UPTO = 50_000  # documents; see SparseIndex.search
RECENT_QUERIES = 256
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token pattern


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
        self._recent: dict[str, list[str]] = {}  # query text -> its tokens (see _tokens_of)
        self._stopword_set: frozenset[str] | None = None

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

    def tokenize_one(self, text: str) -> list[str]:
        """``tokenize([text])[0]``, done here: bm25s's tokenizer costs milliseconds a call in
        progress-bar bookkeeping, whatever the text's length (the same steps: lower case, its
        token pattern, stopwords out, then stems)."""
        if self._stopword_set is None:
            self._stopword_set = frozenset(_infer_stopwords(self.stopwords or None) or ())
        words = [w for w in TOKEN.findall(text.lower()) if w not in self._stopword_set]
        return self._stemmer.stemWords(words) if self._stemmer else words

    def terms(self, text: str) -> set[str]:
        """The stemmed query terms (for highlighting)."""
        return set(self._tokens_of([text])[0])

    def _tokens_of(self, queries: Sequence[str]) -> list[list[str]]:
        """Tokens of each query; a single query's are kept a while, since one search asks for
        them twice (ranking, then highlighting) and bm25s's tokenizer has a fixed cost a call."""
        if len(queries) != 1:
            return self.tokenize(queries)
        tokens = self._recent.get(queries[0])
        if tokens is None:
            tokens = self.tokenize_one(queries[0])
            if len(self._recent) >= RECENT_QUERIES:
                self._recent.clear()
            self._recent[queries[0]] = tokens
        return [list(tokens)]

    def __len__(self) -> int:
        return int(self.retriever.scores["num_docs"])

    def query_weight(self, text: str) -> tuple[float, float, int]:
        """(the most BM25 can give one document for ``text``: the sum of its known terms' IDF,
        the share of its terms the collection has, how many terms it has after stopwords).

        With bm25s's Lucene variant a term adds idf * tf / (tf + k1 * (...)) < idf, so a
        document's score over this sum lies in [0, 1): how much of the query it matches, in
        the same units for every query and collection (what ``search.retrieval.relevance``
        reads it for)."""
        tokens = self._tokens_of([text])[0]
        vocabulary = self.retriever.vocab_dict
        indptr = self.retriever.scores["indptr"]
        n = len(self)
        mass = 0.0
        known = 0
        for token in tokens:
            row = vocabulary.get(token)
            if row is None:
                continue
            df = float(indptr[row + 1] - indptr[row])
            if df > 0:
                known += 1
                mass += float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
        return mass, (known / len(tokens) if tokens else 0.0), len(tokens)

    def search(
        self, queries: Sequence[str], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query, best first; ids are -1 where fewer than k rows scored
        above zero. ``allowed`` (a boolean mask over rows, or row ids) restricts the ranking to
        those rows before the top k are chosen.

        Above ``SELECT_AMONG_ALL_UPTO`` rows only rows scoring above zero are ranked (equal
        scores by row): bm25s's selection over every row's score slows down badly when most of
        them are equal (zero). Up to it, bm25s selects, so small collections rank as always."""
        n = len(self)
        k = min(k, n)
        scores = np.zeros((len(queries), k), dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if k == 0 or not queries:
            return scores, ids
        if n <= SELECT_AMONG_ALL_UPTO:
            return self._search_small(queries, k, allowed)
        rows = None
        if allowed is not None:
            allowed = np.asarray(allowed)
            rows = np.flatnonzero(allowed) if allowed.dtype == bool else np.unique(allowed)
        for i, tokens in enumerate(self._tokens_of(queries)):
            found, best = self._top(self.retriever.get_tokens_ids(tokens), k, rows)
            scores[i, : len(found)], ids[i, : len(found)] = best, found
        return scores, ids

    def _search_small(
        self, queries: Sequence[str], k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """bm25s's own selection over every row (``allowed`` as a weight mask)."""
        mask = None
        if allowed is not None:
            allowed = np.asarray(allowed)
            if allowed.dtype == bool:
                mask = allowed.astype(np.float32)
            else:
                mask = np.zeros(len(self), dtype=np.float32)
                mask[allowed.astype(np.int64)] = 1.0
        ids, scores = self.retriever.retrieve(
            self._tokens_of(queries), k=k, show_progress=False, n_threads=0, weight_mask=mask
        )
        ids = np.asarray(ids, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float32)
        ids[scores <= 0] = -1
        return scores, ids

    def _top(
        self, token_ids: list[int], k: int, rows: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores) of the k best-scoring rows above zero, among ``rows`` if given."""
        if not token_ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        every = np.asarray(self.retriever.get_scores_from_ids(token_ids), dtype=np.float32)
        if rows is None:
            rows = np.flatnonzero(every > 0)
        else:
            rows = rows[every[rows] > 0]
        values = every[rows]
        if len(rows) > k:
            # select on keys without ties (score bits, then row), so the selection stays linear
            # however many rows share a score; equal scores keep the lower row
            keys = values.view(np.uint32).astype(np.uint64) << np.uint64(32)
            keys |= (np.uint64(0xFFFFFFFF) - rows.astype(np.uint64)) & np.uint64(0xFFFFFFFF)
            top = np.argpartition(keys, len(keys) - k)[len(keys) - k :]
            rows, values = rows[top], values[top]
        order = np.lexsort((rows, -values))[:k]
        return rows[order], values[order]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(folder), show_progress=False)
        (folder / "tokenizer.json").write_text(
            json.dumps({"stemmer": self.stemmer_name, "stopwords": self.stopwords})
        )

    @classmethod
    def load(cls, folder: Path) -> SparseIndex:
        """Read a saved index, its score matrix memory-mapped: pages are read as queries touch
        them, and processes serving the same version share one copy."""
        settings = json.loads((folder / "tokenizer.json").read_text())
        retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        return cls(retriever, settings["stemmer"], settings["stopwords"])
