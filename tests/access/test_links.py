"""Access decided by what a document is, not by the name it was reached under (issue 24).

A folder whose policy gives hr/ to group:hr (``case_sensitive: false``) holds, beside the hr
files: a symbolic link to an hr file from it/, a link to a hidden hr file and a linked folder
into a hidden hr folder, a hard link from engineering/ to an hr file, ``HR/upper.txt``, and a
public file swapped for a link to hr after the build. The outsider reads none of the hr text
through search (every method, snippets), chat, the document, its file, similar documents,
spelling suggestions or the index's statistics; the hr user reads all of it; nobody reads
what is hidden."""

from __future__ import annotations

import json
import os

import pytest

from app.cli.main import main
from tests.access.conftest import as_cli_environment, build_home, write_docs
from tests.access.leakage import api_client, assert_no_leak, auth

POLICY = """\
default: [everyone]
case_sensitive: false
rules:
  - path: hr/
    allow: [group:hr]
"""
# each text says "company report" (a search for it reaches every document) and a code word
HR = {
    "hr/salaries-secret.txt": "Salary bands and tonar costs for the company report. zqxsecretalpha",
    "hr/hardlinked-secret.txt": "Bonus pool for the company report. zqxsecretbravo",
    "HR/upper.txt": "Severance terms for the company report. zqxsecretcharlie",
}
HIDDEN = {
    "hr/.hidden-secret.txt": "Hidden grievance for the company report. zqxsecretdelta",
    "hr/.private/plan.txt": "Private layoff plan for the company report. zqxsecretecho",
}
PUBLIC = {
    "it/vpn.txt": "VPN setup for the company report. wireguard",
    "it/swap-me.txt": "Printer guide for the company report. toner",
    "engineering/readme.txt": "Engineering handbook for the company report. deploy",
}
LINKS = {  # link -> target, relative to the link's folder
    "it/hr-link.txt": "../hr/salaries-secret.txt",
    "it/hidden-link.txt": "../hr/.hidden-secret.txt",
    "it/privdir": "../hr/.private",
}
HARD_LINK = ("hr/hardlinked-secret.txt", "engineering/aa-hardlink.txt")
SWAPPED = "it/swap-me.txt"  # public at the build; a link to an hr file afterwards
CODEWORDS = {doc: text.rsplit(" ", 1)[1] for doc, text in {**HR, **HIDDEN, **PUBLIC}.items()}
GROUPS = {"ann": ["hr"], "bob": []}
MAY_READ = {"ann": set(HR) | set(PUBLIC), "bob": set(PUBLIC)}


@pytest.fixture(scope="module")
def linked(tmp_path_factory):
    """The folder, built (hashing encoder) before the swap: (settings, load report)."""
    from lifecycle.builds import read_folder

    root = tmp_path_factory.mktemp("links")
    docs = write_docs(root / "docs", {**HR, **HIDDEN, **PUBLIC}, POLICY)
    for link, target in LINKS.items():
        os.symlink(target, docs / link)
    os.link(docs / HARD_LINK[0], docs / HARD_LINK[1])
    settings, _, _ = build_home(docs, root / "home")
    report = read_folder(settings, docs).report
    (docs / SWAPPED).unlink()
    os.symlink("../hr/salaries-secret.txt", docs / SWAPPED)
    return settings, report


@pytest.fixture(scope="module")
def client(linked):
    with api_client(linked[0], GROUPS) as (client, tokens):
        yield client, tokens


def test_each_file_is_read_once_under_its_real_path(linked):
    _, report = linked
    documents = {d.id: d for d in report.documents}
    assert sorted(documents) == sorted({**HR, **PUBLIC})
    # the hard link: one document, under the name hr's rule covers, its other name beside it
    assert documents[HARD_LINK[0]].metadata["aliases"] == [HARD_LINK[1]]
    reasons = {r.path: r.reason for r in report.rejected}
    assert reasons[HARD_LINK[1]].startswith(f"the same file as {HARD_LINK[0]} (a hard link)")
    assert reasons["it/hr-link.txt"].startswith(
        "symlink to hr/salaries-secret.txt, which is read under its own name"
    )
    assert reasons["it/hidden-link.txt"].startswith("symlink to hr/.hidden-secret.txt, a hidden")
    assert reasons["it/privdir"].startswith("symlink to hr/.private, a hidden name")


def test_the_outsider_reads_no_hr_text_and_the_hr_user_all_of_it(client):
    client, tokens = client
    assert_no_leak(
        client,
        tokens,
        MAY_READ,
        CODEWORDS,
        search="company report",
        question="what does the company report say about salary bands, bonus pool and severance?",
        changed=frozenset({SWAPPED}),
    )


@pytest.mark.parametrize("name", [*LINKS, "it/privdir/plan.txt", HARD_LINK[1]])
def test_no_link_is_a_name_a_document_can_be_reached_under(client, name):
    client, tokens = client
    for person in GROUPS:
        for route in ("", "/file", "/similar"):
            response = client.get(f"/v1/documents/{name}{route}", headers=auth(tokens[person]))
            assert response.status_code == 404, (person, name, route)


def test_a_file_swapped_for_a_link_after_the_build_is_409_never_the_new_content(client):
    client, tokens = client
    for person in GROUPS:
        response = client.get(f"/v1/documents/{SWAPPED}/file", headers=auth(tokens[person]))
        assert response.status_code == 409 and response.json()["detail"] == (
            f"the original file of {SWAPPED!r} changed since it was indexed (a link stands at "
            "its path); it is served again once the folder is re-indexed"
        )
        assert "zqxsecret" not in response.text
    # the indexed text still reads as it was indexed
    page = client.get(f"/v1/documents/{SWAPPED}", headers=auth(tokens["bob"])).json()
    assert "toner" in page["text"] and "zqxsecret" not in page["text"]


def test_spelling_suggests_only_words_of_what_the_caller_may_read(client):
    client, tokens = client

    def suggestion(person: str, query: str) -> tuple[str | None, str]:
        response = client.get("/v1/search", params={"q": query}, headers=auth(tokens[person]))
        return response.json()["did_you_mean"], response.text

    # one edit from an hr code word, from a word of a hard-linked file, from one of HR/
    for word, typo in (
        ("zqxsecretalpha", "zqxsecretalphx"),
        ("zqxsecretcharlie", "zqxsecretcharlei"),
    ):
        assert suggestion("ann", typo)[0] == word
        offered, text = suggestion("bob", typo)
        assert offered is None and word not in text
    # "tonar" is a word of hr's alone (and no English word, which would be known to anyone),
    # one edit from the public "toner": to the outsider it is as unknown as a word nobody
    # wrote (kept as known, it would say some document uses it)
    assert suggestion("ann", "tonar")[0] is None
    assert suggestion("bob", "tonar")[0] == suggestion("bob", "tonur")[0] == "toner"


def test_index_statistics_count_what_the_caller_may_read(client):
    client, tokens = client
    for person, readable in MAY_READ.items():
        info = client.get("/v1/index", headers=auth(tokens[person])).json()
        # every text is one chunk (a sentence under 64 tokens)
        assert (info["documents"], info["chunks"]) == (len(readable), len(readable)), person


def test_the_command_line_searches_as_each_person(linked, monkeypatch, capsys):
    settings, _ = linked
    as_cli_environment(settings, monkeypatch, GROUPS)
    for person, readable in MAY_READ.items():
        argv = ["search", "company report zqxsecretalpha", "--as-user", person, "--k", "50"]
        assert main([*argv, "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)["results"]  # (the query is echoed beside)
        assert {r["doc_id"] for r in rows} == readable
        found = json.dumps(rows)
        assert [w for d, w in CODEWORDS.items() if d not in readable and w in found] == []


def test_the_app_document_page_never_offers_the_swapped_in_content(linked, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.app.test_app import APP

    settings, _ = linked
    monkeypatch.setenv("DOCSEARCH_HOME", str(settings.home))
    monkeypatch.setenv("DOCSEARCH_DOCS", str(settings.home / "elsewhere"))  # not the folder
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    monkeypatch.setenv("DOCSEARCH_AUTH_SECRETS", str(settings.home / "no-secrets.toml"))
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        for doc_id in ("it/vpn.txt", SWAPPED, "hr/salaries-secret.txt"):
            at.query_params.update({"doc": doc_id})
            at.switch_page("views/document.py").run()
            assert not at.exception, at.exception
            page = " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.warning))
            assert "zqxsecret" not in page
            # the local user (no identity provider) reads what everyone reads: not hr/
            assert ("not in the index being served" in page) is doc_id.startswith("hr/")
            # the unchanged file can be downloaded; the swapped one only read as indexed
            assert len(at.get("download_button")) == (doc_id == "it/vpn.txt"), doc_id
            if doc_id == SWAPPED:
                assert "changed since it was indexed" in page and "toner" in page
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
