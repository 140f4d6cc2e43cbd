"""The texts a model wants before queries and passages (e5's "query: " / "passage: ", bge's
query instruction), read from the model's own ``config_sentence_transformers.json``.

sentence-transformers keeps a model's prompts under ``prompts`` in that file; a model trained
with prompts (e5, bge, gte, nomic...) ships them there. The query prompt is the one named
``query``; the passage prompt the one named ``passage``, ``document`` or ``corpus``. Every
backend prepends them the same way, so PyTorch and the exported runtimes encode identically.
To change a model's prompts, edit that file in the model's local folder. A model without
prompts encodes texts as they are, and its fingerprint is unchanged; one with prompts gets a
fingerprint that covers them, so vectors encoded with other prompts are never mixed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

PASSAGE_NAMES = ("passage", "document", "corpus")


@dataclass(frozen=True)
class Prompts:
    query: str = ""
    passage: str = ""

    @classmethod
    def from_mapping(cls, prompts: Mapping[str, str] | None) -> Prompts:
        """The query and passage prompts of a sentence-transformers ``prompts`` dict."""
        prompts = dict(prompts or {})
        passage = next((prompts[n] for n in PASSAGE_NAMES if prompts.get(n)), "")
        return cls(query=prompts.get("query") or "", passage=passage)

    @classmethod
    def of_model(cls, model) -> Prompts:
        """A loaded SentenceTransformer's prompts (its ``prompts`` attribute, read by
        sentence-transformers from ``config_sentence_transformers.json``)."""
        return cls.from_mapping(getattr(model, "prompts", None))

    def __bool__(self) -> bool:
        return bool(self.query or self.passage)

    def queries(self, texts: Sequence[str]) -> list[str]:
        return [self.query + t for t in texts] if self.query else list(texts)

    def passages(self, texts: Sequence[str]) -> list[str]:
        return [self.passage + t for t in texts] if self.passage else list(texts)

    def fingerprint(self, base: str) -> str:
        """``base`` unchanged without prompts, else a fingerprint that covers them too."""
        if not self:
            return base
        payload = f"{base}\0{self.query}\0{self.passage}".encode()
        return hashlib.sha256(payload).hexdigest()[:16]
