"""Legacy code pages read right: each file of the corpus decodes to the text that was written,
and after a real build (the folder loaded, chunked, embedded and indexed, then read back from
the store) every word with an accent or in another script finds its document as written."""

from __future__ import annotations

import pytest

from search.ingest.text import decode_text
from search.retrieval.sparse import TOKEN
from tests.search.ingest.codepages import CORPUS


@pytest.mark.parametrize(("name", "codec", "text"), CORPUS, ids=[name for name, _, _ in CORPUS])
def test_each_file_decodes_to_what_was_written(name, codec, text):
    assert decode_text(text.encode(codec)) == text


def test_the_reported_sentence_and_the_euro_of_iso_8859_15():
    sentence = "Le café coûte 3 € et la crème brûlée"  # was read as Windows-1257: "crčme"
    assert decode_text(sentence.encode("cp1252")) == sentence
    # A4 is "€" in ISO-8859-15 and "¤" in Windows-1252; BD is "œ" and "½"
    assert decode_text("Prix : 5 € par enfant.".encode("iso8859_15")) == "Prix : 5 € par enfant."
    heart = "Le cœur de la ville, une œuvre de ma sœur, réservée."  # was "c―ur" (ISO-8859-10)
    assert decode_text(heart.encode("iso8859_15")) == heart
    half = "Prix : ½ tarif pour les enfants de 3 ans, café compris."
    assert decode_text(half.encode("cp1252")) == half


def _words_beyond_ascii(text: str) -> set[str]:
    """The words the index makes of ``text`` (its token pattern) that are not plain ASCII."""
    return {w for w in TOKEN.findall(text) if not w.isascii()}


def test_every_accented_word_is_searchable_as_written_after_a_build(tmp_path):
    from search.config import IndexConfig
    from search.encoding import HashingEncoder
    from search.index import IndexStore, build_and_store
    from search.ingest import load_folder
    from search.settings import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, codec, text in CORPUS:
        (docs / name).write_bytes(text.encode(codec))
    report = load_folder(docs)
    assert report.rejected == []
    settings = Settings(home=tmp_path / "home", docs=docs, model="hashing-128")
    store = IndexStore(settings.index_root())
    config = IndexConfig(model="hashing-128", chunk_tokens=64, chunk_overlap=8)
    build_and_store(report.documents, config, HashingEncoder(128), settings, store)
    index = store.load(encoder=HashingEncoder(128))

    wanted = {(w, name) for name, _, text in CORPUS for w in _words_beyond_ascii(text)}
    assert len(wanted) > 150  # the corpus holds that many accented or non-Latin words
    queries = {f"{name}|{word}": word for word, name in wanted}
    run = index.run(queries, k=len(CORPUS), method="bm25")
    missed = sorted(q for q, found in run.items() if q.split("|")[0] not in found)
    assert missed == []
