"""Access rules that name a connected source: a path inside it, the whole of it, and the
default for a source no rule names; the documents folder's rules never reach a source's
documents. Searching, reading and downloading (the copy in the mirror) follow them."""

from __future__ import annotations

import hashlib
import json

import pytest

from lifecycle.access import enforce
from lifecycle.documents import document_file, read_document, restricted
from lifecycle.identity import User
from lifecycle.readers import NotFound
from search.access import PolicyError, parse_policy
from search.config import IndexConfig
from search.encoding import HashingEncoder
from search.index import SearchIndex
from search.sources import Mirror, SourceSpec, load_corpus, open_connector, sync

POLICY = """\
default: [everyone]
rules:
  - path: hr/                     # the documents folder's hr/ only
    allow: [group:hr]
  - source: hr-share              # the whole source
    allow: [group:hr]
  - source: hr-share              # deeper inside it: more specific
    path: payroll/
    allow: [user:paula]
  - source: wiki
    path: "**/drafts"
    allow: []
"""


def readers(policy, doc_id: str, source: str = "") -> list[str]:
    metadata = {"path": doc_id}
    if source:
        metadata |= {"source": source, "source_path": doc_id.split("/", 1)[1]}
    return sorted(policy.readers(doc_id, metadata))


def test_rules_that_name_a_source_decide_for_its_documents_alone():
    policy = parse_policy(POLICY)
    assert readers(policy, "hr/leave.md") == ["group:hr"]  # the folder's rule
    assert readers(policy, "hr-share/leave.md", "hr-share") == ["group:hr"]
    assert readers(policy, "hr-share/payroll/2025.xlsx.md", "hr-share") == ["user:paula"]
    assert readers(policy, "wiki/team/drafts/plan.md", "wiki") == []
    assert readers(policy, "wiki/team/plan.md", "wiki") == ["everyone"]
    # a source no rule names follows the default, even where a folder rule's path matches
    assert readers(policy, "s3-docs/hr/leave.md", "s3-docs") == ["everyone"]


def test_a_policy_without_source_rules_keeps_its_hash():
    text = "default: [everyone]\nrules:\n  - path: hr/\n    allow: [group:hr]\n"
    canonical = {"default": ["everyone"], "rules": [{"allow": ["group:hr"], "path": "hr"}]}
    dumped = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    # what versions built before sources recorded: their policy hash is still the same
    assert parse_policy(text).hash == hashlib.sha256(dumped.encode()).hexdigest()[:16]
    assert parse_policy(POLICY).hash != parse_policy(POLICY.replace("hr-share", "hr-shar")).hash


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  - source: wiki\n    path: a/\n    allow: []\n  - source: wiki\n    path: a\n"
         "    allow: [everyone]\n", "line 7: 'a' of source 'wiki' already has a rule on line 4"),
        ("  - source: wiki\n", "line 3: a rule needs `allow:`"),
        ("  - source: [wiki]\n    allow: []\n", "line 3: `source` must be text"),
        ("  - source: a/b\n    allow: []\n", "line 3: `source` names a connected source"),
        ("  - allow: []\n", "line 3: a rule needs `path:`"),
    ],
)  # fmt: skip
def test_malformed_source_rules_are_refused_with_their_line(text, message):
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_policy("default: [everyone]\nrules:\n" + text)
    # the same paths in two sources, or in a source and the folder, are two rules, not one
    parse_policy(
        "default: []\nrules:\n  - source: a\n    path: x\n    allow: []\n"
        "  - source: b\n    path: x\n    allow: []\n  - path: x\n    allow: []\n"
    )


def test_search_read_and_download_follow_the_source_rules(tmp_path):
    share = tmp_path / "share"
    (share / "payroll").mkdir(parents=True)
    (share / "payroll" / "salaries.md").write_text("# Salaries\n\nEvery salary: codeword eland.")
    (share / "leave.md").write_text("# Leave\n\nParental leave, codeword dingo.")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "handbook.md").write_text("# Handbook\n\nThe handbook, codeword alpaca.")
    sources = tmp_path / "sources"
    with Mirror(sources / "hr-share") as mirror:
        sync("hr-share", open_connector(SourceSpec("hr-share", share.as_uri()), {}), mirror)
    corpus = load_corpus(docs, sources).documents
    index = SearchIndex.build(corpus, IndexConfig(model="hashing-128"), HashingEncoder(128))
    index = enforce(index, parse_policy(POLICY))
    people = {
        "ann": User("ann", frozenset({"hr"}), admin=False),
        "paula": User("paula", frozenset(), admin=False),
        "carl": User("carl", frozenset(), admin=False),
    }
    found = {
        name: {r.doc_id for r in index.search("codeword", k=10, filters=restricted(None, who))}
        for name, who in people.items()
    }
    assert found == {
        "ann": {"handbook.md", "hr-share/leave.md"},
        "paula": {"handbook.md", "hr-share/payroll/salaries.md"},
        "carl": {"handbook.md"},
    }
    salaries = "hr-share/payroll/salaries.md"
    assert "eland" in read_document(index, people["paula"], salaries).text
    original = document_file(index, people["paula"], salaries, docs, sources)
    assert (original.root, original.rel) == (sources / "hr-share" / "files", "payroll/salaries.md")
    assert "codeword eland" in original.read().decode()  # the mirror's copy, hash-checked
    for name in ("ann", "carl"):  # answered as if it did not exist
        with pytest.raises(NotFound):
            document_file(index, people[name], salaries, docs, sources)
    with pytest.raises(NotFound):  # without the mirror's folder there is no file to give
        document_file(index, people["paula"], salaries, docs)
