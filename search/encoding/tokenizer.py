"""The tokenizer an exported encoder runs, kept with the export so that loading the export later
needs neither PyTorch nor transformers (their imports alone cost a command 10-15 s on 2 cores).

It is the Rust tokenizer (``tokenizers``) that sentence-transformers loaded, serialised as
transformers holds it (``backend_tokenizer``), with the padding and truncation transformers sets
on it for every call set once instead, on separate copies: one truncates and pads batches for
the model (``padding=True, truncation=True, max_length``: pad to the longest, cut at
``max_length`` counting the special tokens), one only truncates (token counts), one does neither
(character spans of a whole text). Each copy is configured once and never changed afterwards, so
threads may share them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

TOKENIZER_FILE = "tokenizer.json"  # the serialised Rust tokenizer
SETTINGS_FILE = "tokenizer_settings.json"  # what transformers set on it per call


@dataclass(frozen=True)
class TokenizerSettings:
    """What transformers' fast tokenizer sets on the Rust tokenizer for each call."""

    input_names: tuple[str, ...]  # what the model takes, e.g. input_ids, attention_mask
    max_length: int
    pad_id: int
    pad_token: str
    pad_type_id: int
    padding_side: str = "right"
    truncation_side: str = "right"


class FastTokenizer:
    """Batches for the model, token counts and token spans, from a serialised Rust tokenizer."""

    def __init__(self, serialised: str, settings: TokenizerSettings) -> None:
        from tokenizers import Tokenizer

        self.settings = settings
        self._free = Tokenizer.from_str(serialised)
        self._free.no_truncation()
        self._free.no_padding()
        self._truncating = Tokenizer.from_str(serialised)
        self._truncating.no_padding()
        self._truncating.enable_truncation(
            settings.max_length, stride=0, strategy="longest_first",
            direction=settings.truncation_side,
        )  # fmt: skip
        self._model = Tokenizer.from_str(self._truncating.to_str())
        self._model.enable_padding(
            direction=settings.padding_side,
            pad_id=settings.pad_id,
            pad_type_id=settings.pad_type_id,
            pad_token=settings.pad_token,
        )

    @classmethod
    def of_transformers(cls, tokenizer, max_length: int) -> FastTokenizer:
        """The Rust tokenizer inside a transformers fast tokenizer (a SentenceTransformer's
        ``tokenizer``), with the settings that tokenizer applies per call."""
        settings = TokenizerSettings(
            input_names=tuple(
                n
                for n in ("input_ids", "attention_mask", "token_type_ids")
                if n in tokenizer.model_input_names
            ),
            max_length=int(max_length),
            pad_id=int(tokenizer.pad_token_id),
            pad_token=str(tokenizer.pad_token),
            pad_type_id=int(getattr(tokenizer, "pad_token_type_id", 0) or 0),
            padding_side=str(getattr(tokenizer, "padding_side", "right")),
            truncation_side=str(getattr(tokenizer, "truncation_side", "right")),
        )
        return cls(tokenizer.backend_tokenizer.to_str(), settings)

    def with_max_length(self, max_length: int) -> FastTokenizer:
        """The same tokenizer cutting at ``max_length`` (itself when that is its length)."""
        if max_length == self.settings.max_length:
            return self
        return FastTokenizer(self._free.to_str(), replace(self.settings, max_length=max_length))

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.settings.input_names

    def lengths(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text with the special tokens, at most ``max_length``."""
        return [len(e.ids) for e in self._truncating.encode_batch(list(texts))]

    def batch(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The model's int64 inputs for ``texts``, padded to the longest, cut at ``max_length``."""
        encodings = self._model.encode_batch(list(texts))
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        return {name: np.asarray(columns[name], dtype=np.int64) for name in self.input_names}

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) characters of each token of the whole text (no special tokens)."""
        return [tuple(span) for span in self._free.encode(text, add_special_tokens=False).offsets]

    def save(self, folder: Path) -> None:
        """Write the tokenizer and its settings into ``folder`` (the caller makes it atomic)."""
        (folder / TOKENIZER_FILE).write_text(self._free.to_str(), encoding="utf-8")
        (folder / SETTINGS_FILE).write_text(json.dumps(asdict(self.settings), indent=2))

    @classmethod
    def load(cls, folder: Path) -> FastTokenizer:
        settings = json.loads((folder / SETTINGS_FILE).read_text())
        settings["input_names"] = tuple(settings["input_names"])
        serialised = (folder / TOKENIZER_FILE).read_text(encoding="utf-8")
        return cls(serialised, TokenizerSettings(**settings))
