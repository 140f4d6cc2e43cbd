"""A corpus with access rules at several depths, the people who read it, and its index.

Every document mentions "quarterly report" (so a search for it reaches every document) and
its own code word (so a leak is easy to spot in any output).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lifecycle.identity import User

DOCS = {
    "handbook.md": "Company handbook. The quarterly report schedule is public. codeword alpaca",
    "it/vpn.md": "VPN setup. Error 809 blocks the quarterly report upload. codeword bison",
    "it/secret-keys.md": "Root keys for the quarterly report server. codeword cobra",
    "hr/leave.md": "Parental leave is sixteen weeks; see the quarterly report. codeword dingo",
    "hr/payroll/salaries.md": "Salaries of every employee for the quarterly report. codeword eland",
    "finance/budget.md": "The budget for the quarterly report is EUR 2 million. codeword ferret",
    "finance/board/minutes.md": "Board minutes: the quarterly report shows losses. codeword gecko",
    "sales/board/plan.md": "Sales board plan for the quarterly report. codeword heron",
}

POLICY = """\
default: [everyone]
rules:
  - path: hr/
    allow: [group:hr]
  - path: hr/payroll
    allow: [user:paula]
  - path: finance
    allow: [group:finance, group:board]
  - path: "**/board"
    allow: [group:board]
  - path: "it/secret-*.md"
    allow: []
"""

# "finance" (7 characters) is more specific than "**/board" (literal "/board", 6): it decides
# finance/board/minutes.md (finance, board); "**/board" decides sales/board/plan.md (board)
PUBLIC = {"handbook.md", "it/vpn.md"}
MAY_READ = {
    "ann": PUBLIC | {"hr/leave.md"},  # group hr; hr/payroll is paula's alone
    "paula": PUBLIC | {"hr/payroll/salaries.md"},  # user:paula, no group
    "fred": PUBLIC | {"finance/budget.md", "finance/board/minutes.md"},  # group finance
    "bea": PUBLIC
    | {"finance/budget.md", "finance/board/minutes.md", "sales/board/plan.md"},  # group board
    "carl": PUBLIC,  # no group
}
GROUPS = {"ann": ["hr"], "paula": [], "fred": ["finance"], "bea": ["board"], "carl": []}
CODEWORDS = {doc: text.rsplit(" ", 1)[1] for doc, text in DOCS.items()}


PEOPLE = {name: User(name, frozenset(groups), admin=False) for name, groups in GROUPS.items()}


def write_docs(folder: Path, policy: str | None = POLICY) -> Path:
    for rel, text in DOCS.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if policy is not None:
        (folder / "access.yaml").write_text(policy)
    return folder


@pytest.fixture(scope="session")
def built_corpus(tmp_path_factory):
    """The corpus and a built (policy-less) version of it, once per test session."""
    from search.config import IndexConfig
    from search.encoding import HashingEncoder
    from search.index import IndexStore, build_and_store
    from search.ingest import load_folder
    from search.settings import Settings

    root = tmp_path_factory.mktemp("access")
    docs = write_docs(root / "docs")
    settings = Settings(home=root / "home", docs=docs, model="hashing-128")
    report = load_folder(docs)
    assert sorted(d.id for d in report.documents) == sorted(DOCS)  # access.yaml is not one
    config = IndexConfig(model="hashing-128", chunk_tokens=64, chunk_overlap=8)
    store = IndexStore(settings.index_root())
    return root, build_and_store(report.documents, config, HashingEncoder(128), settings, store)


@pytest.fixture
def access_home(built_corpus, tmp_path):
    """A copy of the built corpus for one test: (settings, index store, version)."""
    from search.index import IndexStore
    from search.settings import Settings

    root, built = built_corpus
    shutil.copytree(root / "docs", tmp_path / "docs")
    shutil.copytree(root / "home", tmp_path / "home")
    settings = Settings(home=tmp_path / "home", docs=tmp_path / "docs", model="hashing-128")
    return settings, IndexStore(settings.index_root()), built.version
