"""The policy of a version is the policy of the documents it was built from (issue 20):
recorded with the version, read again from that folder's file when it serves, never dropped."""

from __future__ import annotations

import os
import shutil

import pytest

from app.cli.main import main
from lifecycle.access import build_policy, current_policy, version_policy
from lifecycle.documents import document_file
from lifecycle.identity import User
from search.access import CLOSED, OPEN, PolicyError, names_are_case_sensitive, parse_policy
from search.settings import Settings
from tests.access.conftest import POLICY, build_home, write_docs

ANN = User("ann", frozenset({"hr"}), admin=False)
CARL = User("carl", frozenset(), admin=False)


def test_a_folder_with_its_own_policy_and_another_in_docsearch_access_is_refused(
    tmp_path, monkeypatch, capsys
):
    docs = write_docs(tmp_path / "docs")
    other = tmp_path / "policy.yaml"
    other.write_text("default: [everyone]\n")
    settings = Settings(home=tmp_path / "home", docs=docs, access=other)
    two = f"{docs / 'access.yaml'} and DOCSEARCH_ACCESS={other} are two access policies for {docs}"
    with pytest.raises(PolicyError, match="two access policies"):
        build_policy(settings, docs)
    status = current_policy(settings)  # serving: closed, never the open one
    assert status.policy == CLOSED and status.error.startswith(two)
    monkeypatch.setenv("DOCSEARCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOCSEARCH_ACCESS", str(other))
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    assert main(["build", "--docs", str(docs)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {two}") and err.count("\n") == 1


def test_docsearch_access_names_the_policy_of_a_folder_without_one(tmp_path):
    docs = write_docs(tmp_path / "docs", policy=None)
    kept = tmp_path / "kept" / "policy.yaml"  # outside the share, where authors cannot edit it
    kept.parent.mkdir()
    kept.write_text(POLICY)
    settings, store, version = build_home(docs, tmp_path / "home", access=kept)
    index = store.load(version)
    access = index.access
    assert (access.policy_hash, access.source["file"]) == (parse_policy(POLICY).hash, str(kept))
    assert not index.is_readable("hr/leave.md", CARL.principals())
    assert index.is_readable("hr/leave.md", ANN.principals())


def test_a_policy_written_after_the_build_applies_at_once(tmp_path):
    settings, store, version = build_home(
        write_docs(tmp_path / "docs", policy=None), tmp_path / "h"
    )
    index = store.load(version)
    assert version_policy(settings, index).policy == OPEN
    settings.access_policy.write_text(POLICY)
    assert version_policy(settings, index).hash == parse_policy(POLICY).hash


def test_a_version_served_away_from_its_folder_keeps_the_policy_it_records(tmp_path):
    settings, store, version = build_home(write_docs(tmp_path / "docs"), tmp_path / "home")
    shutil.move(tmp_path / "docs", tmp_path / "moved")  # as on a machine that fetched it
    elsewhere = Settings(home=tmp_path / "other-home", docs=tmp_path / "moved", model="hashing-128")
    index = store.load(version)
    status = version_policy(elsewhere, index)
    assert (status.hash, status.error) == (parse_policy(POLICY).hash, "")
    # its files come from the configured folder there, each checked against its hash
    assert document_file(index, CARL, "it/vpn.md", elsewhere.docs).read().startswith(b"VPN")


def test_a_policy_file_removed_beside_its_documents_never_opens_them(tmp_path):
    settings, store, version = build_home(write_docs(tmp_path / "docs"), tmp_path / "home")
    settings.access_policy.unlink()
    elsewhere = Settings(home=tmp_path / "fresh-home", docs=tmp_path / "docs")  # no last good
    status = version_policy(elsewhere, store.load(version))
    assert status.hash == parse_policy(POLICY).hash  # the policy the version records
    assert status.error.startswith(f"{settings.access_policy} is gone; the last good policy")


def test_case_is_decided_by_the_folders_file_system(tmp_path):
    docs = write_docs(tmp_path / "docs", {"hr/a.md": "a", "HR/upper.md": "b"})
    assert names_are_case_sensitive(docs)  # this file system holds hr/ and HR/ apart
    os.link(docs / "hr" / "a.md", docs / "hr" / "A.MD")  # two names, not a folding lookup
    assert names_are_case_sensitive(docs / "hr")
    status = build_policy(Settings(home=tmp_path / "home", docs=docs), docs)
    assert status.policy.case_sensitive is True and status.hash == parse_policy(POLICY).hash
