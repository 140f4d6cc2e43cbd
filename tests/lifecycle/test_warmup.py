"""Warm before ready: every sentence a chat answer may quote is embedded before the first
question, once per home (the embedding cache keeps them for every process of it)."""

from __future__ import annotations

from search.chat import SENTENCE_VECTORS, answer_from
from search.chat.extractive import embedded_texts
from search.chat.vectors import SentenceVectors
from search.encoding import EmbeddingCache


def test_warming_embeds_every_quotable_sentence_once_per_home(index, tmp_path, monkeypatch):
    from lifecycle.warmup import warm

    cache = EmbeddingCache(tmp_path / "embeddings.sqlite")
    monkeypatch.setattr(SENTENCE_VECTORS, "disk", cache)
    monkeypatch.setattr(SENTENCE_VECTORS, "_items", type(SENTENCE_VECTORS._items)())
    encoder = index.encoder
    texts = {
        t
        for d in index.doc_ids
        for t in embedded_texts(index.documents[d]["title"], index.chunks_of(d))
    }
    before = encoder.calls
    warmed = warm(index)
    assert warmed.sentences == len(texts) > 0  # each sentence alone and under its heading
    assert set(warmed.seconds) == {"spelling", "sentences", "replacements", "answer"}
    # every text once, then the probe answer: its search's query and its question (HashingEncoder
    # counts queries too)
    assert encoder.calls - before == len(texts) + 2

    # a chat turn now encodes its question and nothing else
    before = encoder.calls
    found = index.search("what is the vitamin d study about", k=5)
    answer_from(index, "what is the vitamin d study about", "vitamin d", found)
    assert encoder.calls - before == 2  # the query searched and the question: no sentence

    # another process of the same home: memory empty, the vectors read from disk
    fresh = SentenceVectors()
    fresh.keep_on_disk(cache)
    before = encoder.calls
    assert fresh.warm(encoder, sorted(texts)) == len(texts)
    assert encoder.calls == before
    cache.close()
