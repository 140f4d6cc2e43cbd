"""Property-based fuzzing of every parser: random bytes and mutated valid files.

In-process, nothing but DocumentError may escape a parser, and what it returns is writable
text within the limits. Through the bounded workers, no input crosses a time or memory limit
or kills a worker. Example counts are modest so the suite stays fast; the deadlines are set
explicitly because a worker round trip on a loaded machine can take a second.
"""

from __future__ import annotations

import io
import json
import os
from datetime import timedelta
from pathlib import Path

import docx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from search.ingest import Document, DocumentError, ParseLimits, load_beir_corpus
from search.ingest.files import to_document
from search.ingest.formats import PARSERS
from search.ingest.workers import Task, WorkerPool

FORMATS = sorted(PARSERS)
SUFFIX = {
    "pdf": ".pdf",
    "docx": ".docx",
    "html": ".html",
    "markdown": ".md",
    "text": ".txt",
    "webpage": ".html",
}  # a crawled page has no suffix of its own: saved as .html
LIMITS = ParseLimits(timeout_seconds=20)
INFO = os.stat(__file__)  # any stat result will do for the metadata
# The limits' own words: a reason holding one of these means a limit was crossed.
CROSSED = ("ParseLimits.timeout_seconds", "ParseLimits.max_memory_bytes", "parser process died")


def _pdf() -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, invariant=1)
    pdf.setTitle("Fuzz seed")
    pdf.drawString(72, 800, "Annual leave is 25 days; café crème.")
    pdf.showPage()
    pdf.drawString(72, 800, "Second page.")
    pdf.save()
    return out.getvalue()


def _docx() -> bytes:
    document = docx.Document()
    document.add_heading("Expense Rules", level=1)
    document.add_paragraph("Receipts are required above 25 euros.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Meal", "35"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


SEEDS = {
    "pdf": _pdf(),
    "docx": _docx(),
    "html": b"<html><head><title>T</title></head><body><h1>Hi</h1><p>a <b>b</b><br>c</p>"
    b"<table><tr><td>x</td></tr></table><script>s</script></body></html>",
    "markdown": b"# Title\n\n**bold** _it_ [link](u) ![alt](i)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    b"```\ncode\n```\n> quote\n- item\n",
    "text": "Travel FAQ\n\nCafé receipts, naïve résumé.\n".encode(),
    # a crawled page: navigation and footer around the main text trafilatura keeps
    "webpage": b"<html><head><title>Travel</title></head><body><nav><a href='/'>Home</a></nav>"
    b"<article><h1>Travel policy</h1><p>Book flights through the travel desk at least two weeks "
    b"ahead. Economy class applies to flights under six hours.</p><p>Hotel costs are refunded "
    b"up to the city limit.</p></article><footer>Contact us</footer></body></html>",
}


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """`seed` after a few random flips, insertions, deletions, truncations and duplications."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(("flip", "insert", "delete", "truncate", "duplicate")))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[at:]
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
    return bytes(data)


# Random bytes are mostly refused as binary before a text parser runs; text, and text made of
# markup characters, reach cmark-gfm and libxml2 themselves.
MARKUP = "<>/![]()*_`~#|-:&;\"'= \n\tabcdivpt\u00e9\u6587"
random_bytes = st.one_of(
    st.binary(max_size=4096),
    st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.text(alphabet=MARKUP, max_size=4000).map(str.encode),
)


def inputs(fmt: str):
    return st.one_of(random_bytes, mutated(SEEDS[fmt]))


def parse_in_process(fmt: str, raw: bytes) -> Document | None:
    try:
        document, _ = to_document(raw, INFO, "fuzz" + SUFFIX[fmt], fmt, LIMITS)
    except DocumentError as exc:
        assert str(exc)  # a reason, never an empty message
        return None
    assert document.text and len(document.text) <= LIMITS.max_text_chars
    document.text.encode("utf-8")  # writable: no lone surrogates
    document.title.encode("utf-8")
    return document


def test_every_seed_parses():
    for fmt in FORMATS:
        assert parse_in_process(fmt, SEEDS[fmt]) is not None, fmt


@settings(max_examples=250, deadline=timedelta(seconds=10), database=None)
@given(fmt=st.sampled_from(FORMATS), raw=random_bytes)
def test_random_bytes_raise_only_document_error(fmt, raw):
    parse_in_process(fmt, raw)


@settings(max_examples=250, deadline=timedelta(seconds=10), database=None)
@given(data=st.data(), fmt=st.sampled_from(FORMATS))
def test_mutated_valid_files_raise_only_document_error(data, fmt):
    parse_in_process(fmt, data.draw(mutated(SEEDS[fmt])))


@pytest.fixture(scope="module")
def pool():
    with WorkerPool(LIMITS, size=1) as workers:
        yield workers


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(
    max_examples=60,
    deadline=timedelta(seconds=60),  # a worker replaced after a crash starts in about a second
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data(), fmt=st.sampled_from(FORMATS))
def test_no_input_crosses_a_limit_in_the_bounded_workers(pool, scratch, data, fmt):
    path = scratch / ("input" + SUFFIX[fmt])
    path.write_bytes(data.draw(inputs(fmt)))
    info = path.stat()
    task = Task(path.name, str(path), fmt, info.st_dev, info.st_ino)
    [(_, outcome, _)] = list(pool.run([task]))
    if not isinstance(outcome, Document):
        assert not any(words in outcome.reason for words in CROSSED), outcome.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
records = st.fixed_dictionaries(
    {"_id": json_values}, optional={"title": json_values, "text": json_values}
)


@settings(max_examples=200, deadline=timedelta(seconds=10), database=None)
@given(lines=st.lists(st.one_of(st.binary(max_size=200), records.map(json.dumps)), max_size=5))
def test_beir_lines_raise_only_document_error(scratch, lines):
    path = scratch / "corpus.jsonl"
    path.write_bytes(
        b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines)
    )
    try:
        documents = load_beir_corpus(path)
    except DocumentError:
        return
    for document in documents:
        json.dumps(document.__dict__, ensure_ascii=False).encode("utf-8")  # writable
