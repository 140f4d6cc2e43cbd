"""Sentence vectors of the extractive answer: every sentence a turn may quote is embedded (by
the index's own encoder) once per process in memory, and once per home in the embedding cache
on disk when the serving process names it (``keep_on_disk``), so a restart, a second serving
process or a command run here find them instead of encoding a document's sentences again.

Encoding the sentences of the five documents a question retrieves is what made a chat turn take
3-7 s on 2 cores (hundreds of sentences through the encoder); with them known, a turn takes a
query encoding and a search. ``warm_up`` encodes them before the first question.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from search.encoding import EmbeddingCache, Encoder, embed_with_cache

WARM_UP_BATCH = 256  # texts per encoder call while warming (other threads get the lock between)


class SentenceVectors:
    """Vectors of recently scored sentences per encoder (documents repeat across turns), the
    most recent ``keep`` in memory, all of them in ``disk`` when one is kept."""

    def __init__(self, keep: int = 50_000) -> None:
        self.keep, self._items, self._lock = keep, OrderedDict(), threading.Lock()
        self.disk: EmbeddingCache | None = None

    def keep_on_disk(self, cache: EmbeddingCache | None) -> None:
        """Read and write vectors through ``cache`` too (None: memory only)."""
        self.disk = cache

    def encode(self, encoder: Encoder, texts: Sequence[str]) -> np.ndarray:
        owner = getattr(encoder, "fingerprint", None) or id(encoder)
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if (owner, t) not in self._items))
        if missing:
            fresh = self._encode(encoder, missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._items[(owner, text)] = vector
                while len(self._items) > self.keep:
                    self._items.popitem(last=False)
        with self._lock:
            return np.vstack([self._items[(owner, t)] for t in texts])

    def _encode(self, encoder: Encoder, texts: list[str]) -> np.ndarray:
        if self.disk is None or not getattr(encoder, "fingerprint", None):
            return encoder.encode(texts)
        return embed_with_cache(encoder, texts, self.disk)[0]

    def warm(self, encoder: Encoder, texts: Sequence[str]) -> int:
        """Encode (or find on disk) ``texts`` ahead of the questions; returns how many."""
        unique = list(dict.fromkeys(texts))[: self.keep]
        for start in range(0, len(unique), WARM_UP_BATCH):
            self.encode(encoder, unique[start : start + WARM_UP_BATCH])
        return len(unique)


SENTENCE_VECTORS = SentenceVectors()  # one per process: the serving threads share it
