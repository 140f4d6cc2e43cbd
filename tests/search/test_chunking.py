from search.chunking import chunk_document, sentence_starts
from search.encoding import HashingEncoder
from search.ingest import Document


def doc(text: str) -> Document:
    return Document(id="a/b.txt", title="T", text=text, metadata={"path": "a/b.txt"})


def test_sentence_starts():
    assert sentence_starts("One two. Three four! Five") == [0, 9, 21]


def test_short_document_is_one_chunk():
    chunks = chunk_document(doc("Alpha beta. Gamma delta."), HashingEncoder(), max_tokens=16)
    assert len(chunks) == 1
    assert chunks[0].text == "Alpha beta. Gamma delta."
    assert (chunks[0].id, chunks[0].start, chunks[0].end) == ("a/b.txt#0", 0, 24)


def test_chunks_respect_budget_sentences_and_overlap():
    # 10 sentences of 4 tokens each = 40 tokens; budget 12 -> 3 sentences per chunk
    text = " ".join(f"w{i}a w{i}b w{i}c w{i}d." for i in range(10))
    enc = HashingEncoder()
    chunks = chunk_document(doc(text), enc, max_tokens=12, overlap=4)
    for c in chunks:
        assert len(enc.token_spans(c.text)) <= 12
        assert c.text == text[c.start : c.end]
        assert c.text.endswith(".")  # ends on a sentence boundary
    # the overlap repeats the last sentence of the previous chunk
    assert chunks[1].text.startswith("w2a")
    assert chunks[-1].text.endswith("w9d.")
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_long_sentence_is_split_between_tokens():
    text = " ".join(f"t{i}" for i in range(30))  # one 30-token sentence
    chunks = chunk_document(doc(text), HashingEncoder(), max_tokens=10, overlap=2)
    assert chunks[0].text == " ".join(f"t{i}" for i in range(10))
    assert chunks[1].text.startswith("t8 ")  # 2 tokens of overlap
    assert chunks[-1].text.endswith("t29")


def test_empty_document_has_no_chunks():
    untitled = Document(id="e", title=" ", text="   ", metadata={})
    assert chunk_document(untitled, HashingEncoder()) == []


def test_title_only_document_is_one_chunk_of_its_title():
    (chunk,) = chunk_document(doc("   "), HashingEncoder())
    assert (chunk.id, chunk.text, chunk.title, chunk.start, chunk.end) == (
        "a/b.txt#0",
        "T",
        "T",
        0,
        1,
    )
    assert chunk.embedding_text(with_title=True) == "T"  # the title once, not twice
