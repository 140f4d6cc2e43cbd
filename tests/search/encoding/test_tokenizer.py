"""The tokenizer kept with an export gives exactly what transformers' fast tokenizer gives."""

from __future__ import annotations

import numpy as np
import pytest

from search.encoding.batching import token_lengths
from search.encoding.tokenizer import FastTokenizer

pytestmark = pytest.mark.slow  # the real packaged MiniLM's tokenizer

TEXTS = [
    "Aspirin lowers the risk of a second heart attack.",
    "short",
    "",
    "  spaces   around  ",
    "Ünïcödé: café, crème brûlée — “quotes”, ½, 日本語, 🙂",
    "word " * 400,  # longer than the model's 256 tokens: cut
    "a\nline\tbreak",
    "DON'T SHOUT!!! e-mail x@y.z 3.14 1,240",
]


@pytest.fixture(scope="module")
def pair(real_encoder):
    model = real_encoder.model
    return model.tokenizer, FastTokenizer.of_transformers(model.tokenizer, model.max_seq_length)


def test_batches_lengths_and_spans_are_those_of_transformers(pair, tmp_path):
    hf, fast = pair
    fast.save(tmp_path)
    for tokenizer in (fast, FastTokenizer.load(tmp_path)):  # as built, and as read back
        expected = hf(TEXTS, padding=True, truncation=True, max_length=256, return_tensors="np")
        batch = tokenizer.batch(TEXTS)
        assert list(batch) == ["input_ids", "attention_mask", "token_type_ids"]
        for name, array in batch.items():
            assert array.dtype == np.int64 and np.array_equal(array, expected[name]), name
        assert batch["input_ids"].shape == (8, 256)  # the 400 words cut at 256 tokens
        assert tokenizer.lengths(TEXTS) == token_lengths(hf, TEXTS, 256)
        for text in TEXTS:
            offsets = hf(text, add_special_tokens=False, return_offsets_mapping=True)
            assert tokenizer.spans(text) == [tuple(s) for s in offsets["offset_mapping"]]


def test_another_max_length_cuts_there(pair):
    hf, fast = pair
    short = fast.with_max_length(16)
    assert fast.with_max_length(256) is fast
    assert short.lengths(["word " * 400]) == [16]
    assert np.array_equal(
        short.batch(TEXTS)["input_ids"],
        hf(TEXTS, padding=True, truncation=True, max_length=16, return_tensors="np")["input_ids"],
    )
