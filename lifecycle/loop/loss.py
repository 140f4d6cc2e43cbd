"""The query-side training loss: a softmax over every document of the champion index."""

from __future__ import annotations

import math

import numpy as np
import torch

from lifecycle.loop.pairs import TrainingPair
from search.index import SearchIndex

# Above this many chunks the negatives of query-side training are a fixed random sample of the
# index (plus every chunk of the documents in the training pairs), so memory stays bounded.
MAX_NEGATIVE_CHUNKS = 500_000


class AllPassagesLoss(torch.nn.Module):
    """Cross-entropy of a query over every document of a fixed index (ADORE-style training:
    Zhan et al., SIGIR 2021). A document scores its best chunk, as at search time; the passage
    vectors stay fixed, so only the query encoder learns. The label of an example is the index of
    its TrainingPair; other documents clicked for the same query are left out of the softmax.
    A negative the user surely examined (skipped above a click, or voted down) counts
    ``hard_negative_weight`` times in the softmax's denominator."""

    def __init__(
        self,
        model,
        index: SearchIndex,
        pairs: list[TrainingPair],
        scale: float,
        seed: int,
        hard_negative_weight: float = 1.0,
    ):
        super().__init__()
        self.model = model
        self.scale = scale
        doc_row = {d: i for i, d in enumerate(index.doc_ids)}
        vectors, chunk_docs = _passages(index, pairs, doc_row, seed)
        self.n_docs = len(index.doc_ids)
        self.register_buffer("passages", torch.from_numpy(np.ascontiguousarray(vectors)))
        self.register_buffer("chunk_docs", torch.from_numpy(chunk_docs))
        positives_of: dict[str, set[int]] = {}
        for p in pairs:
            positives_of.setdefault(p.query, set()).add(doc_row[p.positive_doc])
        width = max(len(v) for v in positives_of.values())
        target = torch.tensor([doc_row[p.positive_doc] for p in pairs])
        others = torch.full((len(pairs), width), -1, dtype=torch.long)
        for row, p in enumerate(pairs):
            rest = sorted(positives_of[p.query] - {doc_row[p.positive_doc]})
            others[row, : len(rest)] = torch.tensor(rest, dtype=torch.long)
        self.register_buffer("target", target)
        self.register_buffer("others", others)
        examined = [p.negative_source in ("skipped", "voted_down") for p in pairs]
        self.register_buffer("negative", torch.tensor([doc_row[p.negative_doc] for p in pairs]))
        boost = torch.tensor([math.log(hard_negative_weight) if e else 0.0 for e in examined])
        self.register_buffer("negative_boost", boost)

    def forward(self, sentence_features, labels: torch.Tensor) -> torch.Tensor:
        query = self.model(sentence_features[0])["sentence_embedding"]
        query = torch.nn.functional.normalize(query, dim=-1)
        passages = self.passages.to(query.device)
        scores = query @ passages.T
        index = self.chunk_docs.to(query.device).expand(len(query), -1)
        docs = torch.full((len(query), self.n_docs), -1.0, device=query.device, dtype=scores.dtype)
        docs = docs.scatter_reduce(1, index, scores, reduce="amax", include_self=True)
        logits = docs * self.scale
        labels = labels.to(self.target.device)
        others = self.others[labels].to(query.device)
        # padding (-1) goes to an extra column that is dropped
        others = torch.where(others >= 0, others, self.n_docs)
        mask = torch.zeros((len(query), self.n_docs + 1), dtype=torch.bool, device=query.device)
        mask.scatter_(1, others, True)
        logits = logits.masked_fill(mask[:, : self.n_docs], float("-inf"))
        boost = torch.zeros_like(logits).scatter_(
            1,
            self.negative[labels].to(query.device)[:, None],
            self.negative_boost[labels].to(query.device, logits.dtype)[:, None],
        )
        logits = logits + boost
        target = self.target[labels].to(query.device)
        return torch.nn.functional.cross_entropy(logits, target)


def _passages(
    index: SearchIndex, pairs: list[TrainingPair], doc_row: dict[str, int], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The chunk vectors the softmax runs over and the document row of each: all of them, or
    above MAX_NEGATIVE_CHUNKS a fixed sample plus every chunk of the pairs' documents."""
    vectors = index.dense.vectors()
    chunk_docs = np.array([doc_row[c.doc_id] for c in index.chunks], dtype=np.int64)
    if len(vectors) > MAX_NEGATIVE_CHUNKS:
        needed = {doc_row[d] for p in pairs for d in (p.positive_doc, p.negative_doc)}
        keep = np.isin(chunk_docs, list(needed))
        sample = np.random.default_rng(seed).choice(
            len(vectors), MAX_NEGATIVE_CHUNKS, replace=False
        )
        keep[sample] = True
        vectors, chunk_docs = vectors[keep], chunk_docs[keep]
    return vectors, chunk_docs
