"""BM25 over documents in a Milvus collection: Milvus's own BM25 function (a ``standard``
analyzer feeding ``Function(type=BM25)`` into a sparse field, searched with metric BM25).

The text Milvus analyses is each document's tokens as ``SparseIndex`` makes them (lower case,
stopwords out, snowball stems), joined by spaces: the standard analyzer splits them back into
the same tokens, so both backends score the same terms, and highlighting, spelling and the
relevance model's query weight (``SparseIndex.query_weight``: the IDF of the query's terms,
from the vocabulary kept beside the collection) read the same statistics Milvus scores with.

Milvus scores a term idf * tf * (k1 + 1) / (tf + k1 * (...)); bm25s's Lucene variant, which the
relevance model was fitted on, leaves out the (k1 + 1): scores are divided by it here, so the
two backends' scores are the same numbers (exactly so on one segment; see ``connection``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pymilvus import DataType, Function, FunctionType

from search.retrieval.milvus import SPARSE_REFERENCE
from search.retrieval.milvus.connection import (
    CONSISTENCY,
    ROW,
    Collection,
    client,
    index_params,
    is_lite,
    new_name,
    read_reference,
    write_reference,
)
from search.retrieval.sparse import SparseIndex

TEXT = "text"
SPARSE = "sparse"
MAX_TEXT = 65_535  # bytes of a VARCHAR field; a longer token text is cut at a token boundary
VOCABULARY = "vocabulary.json"
TOKENIZER = "tokenizer.json"


class Vocabulary:
    """What ``SparseIndex`` reads of a bm25s retriever beside the scores: the terms
    (``vocab_dict``), each term's document frequency (``scores["indptr"]`` differences) and the
    number of documents. Milvus holds the postings; these stay here."""

    def __init__(self, terms: list[str], frequencies: Sequence[int], documents: int) -> None:
        self.vocab_dict = {term: i for i, term in enumerate(terms)}
        indptr = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.asarray(frequencies, dtype=np.int64), out=indptr[1:])
        empty = np.zeros(0, dtype=np.float32)
        self.scores = {"num_docs": documents, "indptr": indptr, "data": empty, "indices": empty}

    @classmethod
    def of(cls, tokens: list[list[str]]) -> Vocabulary:
        counts = Counter(term for doc in tokens for term in set(doc))
        terms = sorted(counts)
        return cls(terms, [counts[t] for t in terms], len(tokens))

    def to_dict(self) -> dict:
        indptr = self.scores["indptr"]
        return {
            "terms": list(self.vocab_dict),
            "df": np.diff(indptr).tolist(),
            "documents": int(self.scores["num_docs"]),
        }


class MilvusSparseIndex(SparseIndex):
    """``SparseIndex``'s tokenizer and vocabulary; ranking by Milvus BM25."""

    def __init__(
        self,
        collection: Collection,
        vocabulary: Vocabulary,
        k1: float,
        b: float,
        stemmer: str = "english",
        stopwords: str = "en",
        cut: int = 0,
    ) -> None:
        super().__init__(vocabulary, stemmer, stopwords)  # type: ignore[arg-type]
        self.collection = collection
        self.k1 = k1
        self.b = b
        self.cut = cut  # documents whose token text was cut to MAX_TEXT bytes

    @classmethod
    def build(  # type: ignore[override]
        cls,
        texts: Sequence[str],
        k1: float = 1.2,
        b: float = 0.75,
        method: str = "lucene",
        stemmer: str = "english",
        stopwords: str = "en",
        *,
        uri: str,
        prefix: str,
    ) -> MilvusSparseIndex:
        if method != "lucene":
            raise ValueError(f"Milvus scores BM25 as Lucene does; bm25_method {method!r} is not")
        tokenizer = SparseIndex(None, stemmer, stopwords)  # type: ignore[arg-type]
        tokens = tokenizer.tokenize(texts)
        found = client(uri)
        name = new_name(prefix, "documents")
        schema = found.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(ROW, DataType.INT64, is_primary=True)
        schema.add_field(
            TEXT,
            DataType.VARCHAR,
            max_length=MAX_TEXT,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "standard"},
        )
        schema.add_field(SPARSE, DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=[TEXT],
                output_field_names=[SPARSE],
            )
        )
        prepared = index_params(
            found, SPARSE, "SPARSE_INVERTED_INDEX", "BM25", bm25_k1=k1, bm25_b=b
        )
        found.create_collection(
            name, schema=schema, index_params=prepared, consistency_level=CONSISTENCY
        )
        collection = Collection(uri, name, len(tokens))
        texts_cut = [_joined(doc) for doc in tokens]
        collection.insert({ROW: i, TEXT: text} for i, (text, _) in enumerate(texts_cut))
        cut = sum(was_cut for _, was_cut in texts_cut)
        return cls(collection, Vocabulary.of(tokens), k1, b, stemmer, stopwords, cut)

    def search(
        self, queries: Sequence[str], k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query, best first; ids are -1 where fewer than k rows scored
        above zero; ``allowed`` (a boolean mask over rows, or row ids) restricts the ranking to
        those rows before the top k are chosen (a filter on the row key, inside Milvus)."""
        k = min(k, len(self))
        if k == 0 or not queries:
            return np.zeros((len(queries), k), dtype=np.float32), np.full(
                (len(queries), k), -1, dtype=np.int64
            )
        texts = [" ".join(tokens) for tokens in self._tokens_of(list(queries))]
        scale = 1.0 + self.k1
        # Lite returns BM25 distances as negated scores, a server the scores themselves
        sign = -1.0 if is_lite(self.collection.uri) else 1.0
        return self.collection.search(
            texts, SPARSE, k, allowed, lambda d: sign * d / scale, positive_only=True
        )

    def describe(self) -> dict:
        return {
            "backend": "milvus",
            "collection": self.collection.name,
            "documents": len(self),
            "k1": self.k1,
            "b": self.b,
            "cut_documents": self.cut,
        }

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / TOKENIZER).write_text(
            json.dumps({"stemmer": self.stemmer_name, "stopwords": self.stopwords})
        )
        (folder / VOCABULARY).write_text(json.dumps(self.retriever.to_dict()))
        write_reference(
            folder / SPARSE_REFERENCE,
            self.collection.reference(k1=self.k1, b=self.b, cut=self.cut),
        )

    @classmethod
    def load(cls, folder: Path) -> MilvusSparseIndex:
        settings = json.loads((folder / TOKENIZER).read_text())
        words = json.loads((folder / VOCABULARY).read_text())
        vocabulary = Vocabulary(words["terms"], words["df"], int(words["documents"]))
        ref = read_reference(folder / SPARSE_REFERENCE)
        collection = Collection(ref["uri"], ref["collection"], int(ref["rows"])).open()
        return cls(
            collection,
            vocabulary,
            float(ref["k1"]),
            float(ref["b"]),
            settings["stemmer"],
            settings["stopwords"],
            int(ref.get("cut", 0)),
        )


def _joined(tokens: list[str]) -> tuple[str, bool]:
    """The tokens joined by spaces, cut at a token boundary to fit a VARCHAR field."""
    text = " ".join(tokens)
    data = text.encode("utf-8")
    if len(data) <= MAX_TEXT:
        return text, False
    head = data[: MAX_TEXT + 1].decode("utf-8", errors="ignore")
    return head[: head.rfind(" ")], True
