"""``make bench-gpu``: passages/s of the product's GPU encoder beside plain sentence-transformers.

One run, one JSON object. On CUDA the product encodes in half precision (backend torch-fp16),
in length-sorted batches, with the next batch tokenized by a background thread while the GPU
runs the current one; plain sentence-transformers runs fp32 with the same batch size on the
same passages (MiniLM truncates at 256 tokens). Without CUDA it says so and times both on the
CPU with a small N, so the script itself is tested everywhere.

    python -m evaluation.bench_gpu --dataset ../shared/datasets/scifact --n 50000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from search.config import DEFAULT_MODEL
from search.encoding import load_encoder, resolve_model

TARGET_PASSAGES_PER_S = 20_000  # issue 12, one H200, MiniLM at <= 256 tokens
_WORDS = (
    "cell protein gene expression patients treatment risk study trial mice receptor cancer "
    "response increased reduced associated levels blood therapy clinical signal pathway dose"
).split()


def passages(dataset: Path | None, n: int) -> list[str]:
    """``n`` passages: the labeled set's documents (title and text, cycled) when there is one,
    else deterministic synthetic ones of 20 to 300 words."""
    texts: list[str] = []
    corpus = Path(dataset) / "corpus.jsonl" if dataset else None
    if corpus and corpus.is_file():
        with open(corpus, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                texts.append(f"{row.get('title', '')}\n{row.get('text', '')}".strip())
                if len(texts) >= n:
                    break
    if not texts:
        rng = np.random.default_rng(0)
        texts = [
            " ".join(rng.choice(_WORDS, size=int(rng.integers(20, 300))))
            for _ in range(min(n, 5000))
        ]
    return [texts[i % len(texts)] for i in range(n)]


def bench(texts: Sequence[str], batch_size: int, repeats: int) -> dict:
    """Both contenders on ``texts``, repeats interleaved; figures are medians."""
    import torch
    from sentence_transformers import SentenceTransformer

    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    backend = "torch-fp16" if cuda else "torch"
    product = load_encoder(DEFAULT_MODEL, device=device, batch_size=batch_size, backend=backend)
    plain = SentenceTransformer(resolve_model(DEFAULT_MODEL), device=device)

    def plain_encode(batch: Sequence[str]) -> np.ndarray:
        return plain.encode(
            list(batch), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )

    contenders = {"product": product.encode, "plain": plain_encode}
    warm = list(texts[: min(len(texts), 4 * batch_size)])
    cosine = np.sum(product.encode(warm) * plain_encode(warm), axis=1)  # warm-up and agreement
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(repeats):
        names = list(contenders)[::-1] if round_ % 2 else list(contenders)
        for name in names:
            if cuda:
                torch.cuda.synchronize()
            started = time.perf_counter()
            contenders[name](texts)  # returns numpy: the GPU work is finished
            rates[name].append(len(texts) / (time.perf_counter() - started))
    product_rate = statistics.median(rates["product"])
    plain_rate = statistics.median(rates["plain"])
    tokens = plain.tokenizer(list(warm), truncation=True, max_length=plain.max_seq_length)
    return {
        "cuda": cuda,
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "note": None
        if cuda
        else "no CUDA: both timed on the CPU in fp32; the GPU target does not apply",
        "product_backend": backend,
        "product_passages_per_s": round(product_rate, 1),
        "plain_st_passages_per_s": round(plain_rate, 1),
        "speedup": round(product_rate / plain_rate, 2),
        "target_passages_per_s": TARGET_PASSAGES_PER_S,
        "meets_target": bool(cuda and product_rate >= TARGET_PASSAGES_PER_S),
        "min_cosine_to_plain": round(float(cosine.min()), 4),
        "passages": len(texts),
        "mean_tokens": round(float(np.mean([len(t) for t in tokens["input_ids"]])), 1),
        "max_tokens": plain.max_seq_length,
        "batch_size": batch_size,
        "repeats": repeats,
        "runs": {name: [round(r, 1) for r in runs] for name, runs in rates.items()},
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, help="BEIR layout; synthetic passages without")
    parser.add_argument("--n", type=int, help="passages (default 50,000 on CUDA, 64 on the CPU)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    # `make bench-gpu` sets TOKENIZERS_PARALLELISM=true: the fast tokenizer's batch path then
    # spreads a batch over the cores, so the background tokenizer keeps up with the GPU
    import torch

    n = args.n or (50_000 if torch.cuda.is_available() else 64)
    out = bench(passages(args.dataset, n), args.batch_size, args.repeats)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
