"""Length-bucketed batches: sort by token length, encode, put the vectors back in input order.

A batch is padded to its longest text, so mixing a 20-token title with 256-token passages makes
the short one cost 256 tokens of compute. Sorting by length first keeps each batch's padding
small; the order is restored before the vectors are returned.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

Tokenize = Callable[[list[str]], Any]  # texts -> the runtime's inputs (a dict of arrays/tensors)
Forward = Callable[[Any], np.ndarray]  # inputs -> (n, dim) float32 sentence embeddings


def length_order(lengths: Sequence[int]) -> np.ndarray:
    """Indices of the texts, longest first (stable: equal lengths keep their input order).

    Longest first makes the first batch the widest, so memory peaks at once and not at the end.
    """
    return np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")


def token_lengths(tokenizer, texts: Sequence[str], max_length: int) -> list[int]:
    """Token count of each text (capped at ``max_length``) from the fast tokenizer's batch path."""
    encoded = tokenizer(
        list(texts), add_special_tokens=True, truncation=True, max_length=max_length, verbose=False
    )
    return [len(ids) for ids in encoded["input_ids"]]


def encode_bucketed(
    texts: Sequence[str],
    lengths: Sequence[int],
    batch_size: int,
    dim: int,
    tokenize: Tokenize,
    forward: Forward,
    prefetch: bool = False,
    progress: Callable[[int, int], None] | None = None,
    gather: Callable[[list[Any]], np.ndarray] = np.vstack,
) -> np.ndarray:
    """Vectors of ``texts`` in input order, encoded in length-sorted batches.

    With ``prefetch`` a background thread tokenizes the next batch while ``forward`` runs the
    current one (worth it on a GPU, where the forward pass no longer dwarfs tokenization).
    ``progress(done, total)`` is called after each batch. ``gather`` joins the batches' outputs
    into one (n, dim) array (a GPU caller keeps them on the device until the end, so no batch
    waits for a copy back to the host).
    """
    out = np.zeros((len(texts), dim), dtype=np.float32)
    if not texts:
        return out
    order = length_order(lengths)
    slices = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    inputs = (tokenize([texts[j] for j in rows]) for rows in slices)
    if prefetch:
        inputs = prefetched(inputs)
    parts, done = [], 0
    for rows, batch in zip(slices, inputs, strict=True):
        parts.append(forward(batch))
        done += len(rows)
        if progress:
            progress(done, len(texts))
    out[order] = gather(parts)
    return out


_DONE = object()


def prefetched(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """``items`` produced by a background thread up to ``depth`` ahead of the consumer.

    An exception in the producer is raised in the consumer at the item where it happened.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                buffer.put(item)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            buffer.put(_Failure(exc))
            return
        buffer.put(_DONE)

    worker = threading.Thread(target=produce, name="tokenize-ahead", daemon=True)
    worker.start()
    try:
        while (item := buffer.get()) is not _DONE:
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full buffer
            try:
                buffer.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
