"""Public test collections kept in the repository (``data/collections/<name>/``) as their
original files, compressed, and written out in BEIR layout under ``DOCSEARCH_HOME/collections``
when first asked for: nothing is downloaded, and no ``corpus.jsonl`` sits in git.

Each collection is a parser of its own format (SMART's ``.I``/``.W`` records, TREC's ``<DOC>``
files, LISA's numbered records) into ``(corpus, queries, qrels)``; where each file came from and
under which terms is in ``data/collections/README.md``. None has a train/test split of its own,
so ``evaluation.splits`` deals each one's queries into a part to tune on and a part to report.
"""

from __future__ import annotations

import json
import lzma
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from search.settings import Settings

SOURCES = Path(__file__).resolve().parent.parent / "data" / "collections"
Corpus = dict[str, tuple[str, str]]  # doc id -> (title, text)
Parsed = tuple[Corpus, dict[str, str], dict[str, dict[str, int]]]


def _read(path: Path) -> str:
    """A source file's text (``.xz`` decompressed); the classic collections are ASCII."""
    raw = lzma.open(path).read() if path.suffix == ".xz" else path.read_bytes()
    return raw.decode("latin-1").replace("\r\n", "\n")


def _smart_records(text: str) -> Iterator[tuple[str, str]]:
    """(id, the text of its ``.W`` field) of each ``.I`` record of a SMART file."""
    for block in re.split(r"^\.I\s+", text, flags=re.M)[1:]:
        number, _, rest = block.partition("\n")
        body = rest.split(".W", 1)[-1]
        yield number.strip(), " ".join(body.split())


def _medline(folder: Path) -> Parsed:
    """MEDLARS: 1,033 medical abstracts, 30 queries; the first sentence is the title."""
    corpus = {}
    for doc_id, text in _smart_records(_read(folder / "MED.ALL.xz")):
        title, _, body = text.partition(" . ")
        corpus[doc_id] = (title, body) if body else ("", text)
    queries = dict(_smart_records(_read(folder / "MED.QRY")))
    qrels: dict[str, dict[str, int]] = {}
    for line in _read(folder / "MED.REL").splitlines():
        if line.strip():
            qid, doc_id, *_ = line.split()
            qrels.setdefault(qid, {})[doc_id] = 1
    return corpus, queries, qrels


def _vaswani(folder: Path) -> Parsed:
    """NPL (Vaswani): 11,429 physics and engineering abstracts, 93 queries, TREC format."""
    text = _read(folder / "doc-text.trec.xz")
    corpus = {
        m.group(1).strip(): ("", " ".join(m.group(2).split()))
        for m in re.finditer(r"<DOCNO>(.*?)</DOCNO>(.*?)</DOC>", text, flags=re.S)
    }
    queries = {
        m.group(1).strip(): " ".join(m.group(2).split()).lower()  # typed in capitals
        for m in re.finditer(
            r"<num>(.*?)</num>\s*<title>(.*?)</title>", _read(folder / "query-text.trec"), re.S
        )
    }
    qrels: dict[str, dict[str, int]] = {}
    for line in _read(folder / "qrels").splitlines():
        if line.strip():
            qid, _, doc_id, grade = line.split()
            if int(grade) > 0:
                qrels.setdefault(qid, {})[doc_id] = int(grade)
    return corpus, queries, qrels


def _lisa(folder: Path) -> Parsed:
    """LISA: 6,004 library and information science abstracts, 35 queries; a record's first
    paragraph is its title."""
    corpus = {}
    for record in re.split(r"^\*{10,}\s*$", _read(folder / "LISA.xz"), flags=re.M):
        found = re.match(r"\s*Document\s+(\d+)\s*\n(.*)", record, flags=re.S)
        if found:
            title, _, body = found.group(2).strip().partition("\n\n")
            corpus[found.group(1)] = (" ".join(title.split()), " ".join(body.split()))
    queries = {}
    for block in _read(folder / "LISA.QUE").split("#"):
        number, _, text = block.strip().partition("\n")
        if number.strip().isdigit() and text.strip():
            queries[number.strip()] = " ".join(text.split()).lower()  # typed in capitals
    qrels: dict[str, dict[str, int]] = {}
    # the distributed LISA.REL is damaged after query 21 (its list breaks off into another
    # query's, 22 and 23 are missing): a list whose length is not the count it states is left out
    for block in re.split(r"^Query\s+", _read(folder / "LISA.REL"), flags=re.M)[1:]:
        found = re.match(r"(\d+)\s*\n\s*(\d+)\s+Relevant Refs:\s*([\d\s]*?)\s*-1\s*$", block)
        if found and len(found.group(3).split()) == int(found.group(2)):
            qrels[found.group(1)] = {doc_id: 1 for doc_id in found.group(3).split()}
    return corpus, queries, qrels


PARSERS: dict[str, Callable[[Path], Parsed]] = {
    "medline": _medline,
    "vaswani": _vaswani,
    "lisa": _lisa,
}
COLLECTIONS = tuple(PARSERS)


def collection_root(name: str, settings: Settings) -> Path:
    """Where collection ``name`` is (or will be) in BEIR layout."""
    return settings.home / "collections" / name


def beir_collection(name: str, settings: Settings) -> Path:
    """Collection ``name`` in BEIR layout (``corpus.jsonl``, ``queries.jsonl``,
    ``qrels/test.tsv``: every judged query; ``evaluation.splits`` deals the parts), written
    from the repository's original files on first use and reused after."""
    if name not in PARSERS:
        raise ValueError(f"no public collection {name!r}; known: {', '.join(COLLECTIONS)}")
    root = collection_root(name, settings)
    done = root / "qrels" / "test.tsv"
    if done.is_file():
        return root
    corpus, queries, qrels = PARSERS[name](SOURCES / name)
    judged = {q: {d: g for d, g in docs.items() if d in corpus} for q, docs in qrels.items()}
    judged = {q: docs for q, docs in judged.items() if docs and q in queries}
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    with open(root / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for doc_id, (title, text) in corpus.items():
            fh.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with open(root / "queries.jsonl", "w", encoding="utf-8") as fh:
        for qid, text in queries.items():
            fh.write(json.dumps({"_id": qid, "text": text}) + "\n")
    partial = done.with_suffix(".partial")  # the qrels last: their presence says "complete"
    with open(partial, "w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in judged.items():
            fh.writelines(f"{qid}\t{doc_id}\t{grade}\n" for doc_id, grade in docs.items())
    partial.replace(done)
    return root
