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


CONFIG = {"model": "hashing-128", "chunk_tokens": 64, "chunk_overlap": 8}  # small and fast


def write_docs(folder: Path, docs: dict[str, str] = DOCS, policy: str | None = POLICY) -> Path:
    for rel, text in docs.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    if policy is not None:
        (folder / "access.yaml").write_text(policy)
    return folder


def build_home(docs: Path, home: Path, **settings_fields):
    """``docs`` built into ``home`` as ``docsearch build`` does (its own policy enforced and
    recorded, the hashing encoder): (settings, index store, version)."""
    from lifecycle.builds import build_version, read_folder
    from search.config import IndexConfig
    from search.index import IndexStore
    from search.settings import Settings

    settings = Settings(home=home, docs=docs, model="hashing-128", **settings_fields)
    read = read_folder(settings, docs)
    store = IndexStore(settings.index_root())
    built = build_version(settings, read, store, IndexConfig(**CONFIG), activate=True)
    return settings, store, built.version


@pytest.fixture(scope="session")
def built_corpus(tmp_path_factory):
    """The corpus and a version of it built under its policy, once per test session. Its
    documents folder is shared: a test that edits it or its policy builds its own
    (``own_access_home``)."""
    root = tmp_path_factory.mktemp("access")
    settings, store, version = build_home(write_docs(root / "docs"), root / "home")
    index = store.load(version)
    assert sorted(index.documents) == sorted(DOCS)  # access.yaml is not one
    return root, settings, version


@pytest.fixture
def access_home(built_corpus, tmp_path):
    """A copy of the built home for one test, over the shared documents folder:
    (settings, index store, version)."""
    from search.index import IndexStore
    from search.settings import Settings

    root, shared, version = built_corpus
    shutil.copytree(root / "home", tmp_path / "home")
    # a new Settings, not a copy: the stores' URLs derive from the home
    settings = Settings(home=tmp_path / "home", docs=shared.docs, model="hashing-128")
    return settings, IndexStore(settings.index_root()), version


@pytest.fixture
def own_access_home(tmp_path):
    """The corpus built afresh in this test's folder, free to edit: (settings, store, version)."""
    return build_home(write_docs(tmp_path / "docs"), tmp_path / "home")


def as_cli_environment(settings, monkeypatch, groups: dict[str, list[str]] = GROUPS):
    """``settings`` as the command line's environment, each person of ``groups`` a user."""
    from lifecycle.identity import Identities

    identities = Identities(settings.feedback_url)
    for name, their_groups in groups.items():
        if identities.user(name) is None:
            identities.add_user(name, their_groups)
    identities.close()
    monkeypatch.setenv("DOCSEARCH_HOME", str(settings.home))
    monkeypatch.setenv("DOCSEARCH_DOCS", str(settings.docs))
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    monkeypatch.delenv("DOCSEARCH_ACCESS", raising=False)
    return settings


@pytest.fixture
def cli_home(access_home, monkeypatch):
    """The shared corpus's home as the command line's environment."""
    return as_cli_environment(access_home[0], monkeypatch)
