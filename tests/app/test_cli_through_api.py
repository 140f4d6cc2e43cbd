"""The command line through a real REST API server: the caller's token decides what it reads,
and the page shows what the search service says, whichever way the command ran."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from app.cli import main
from tests.access.conftest import (  # noqa: F401 - fixtures
    CODEWORDS,
    DOCS,
    GROUPS,
    MAY_READ,
    access_home,
    built_corpus,
)

pytestmark = pytest.mark.slow  # a uvicorn server of the API


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def people(access_home, capsys, monkeypatch):  # noqa: F811
    """The access corpus as this process's home, everyone in GROUPS added through the command
    line (which keeps their tokens), "root" an admin: (settings, {name: token})."""
    settings, _, _ = access_home
    for name, value in {
        "DOCSEARCH_HOME": str(settings.home),
        "DOCSEARCH_DOCS": str(settings.docs),
        "DOCSEARCH_MODEL": "hashing-128",
        "DOCSEARCH_AUTH_SECRETS": str(settings.home / "no-secrets.toml"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("DOCSEARCH_ACCESS", "DOCSEARCH_API_TOKEN", "DOCSEARCH_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    tokens = {}
    for name, groups in [*GROUPS.items(), ("root", None)]:
        extra = ["--admin"] if groups is None else ["--groups", ",".join(groups)]
        assert main(["users", "add", name, *extra]) == 0
        tokens[name] = capsys.readouterr().out.strip().splitlines()[-1]
    return settings, tokens


@pytest.fixture
def api_server(people, monkeypatch):
    """A uvicorn server of the API on a free port, for the command line to find."""
    import uvicorn

    from app.api import create_app
    from search.settings import Settings

    port = free_port()
    monkeypatch.setenv("DOCSEARCH_API_PORT", str(port))
    config = uvicorn.Config(create_app(Settings.from_env()), port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield people
    server.should_exit = True
    thread.join(timeout=10)


def run(capsys, *args) -> tuple[int, dict | None, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and out.strip() else None), err


@pytest.mark.parametrize("person", ["ann", "carl"])
def test_as_user_goes_through_the_api_with_their_token_and_reads_what_they_may(
    api_server, capsys, person
):
    argv = [
        "search",
        "quarterly report codeword",
        "--as-user",
        person,
        "--k",
        str(len(DOCS)),
        "--weaker",
    ]
    code, page, _ = run(capsys, *argv, "--json")
    assert code == 0 and page["via"] == "api"
    assert {r["doc_id"] for r in page["results"]} == MAY_READ[person]
    assert main(argv) == 0  # the listing: no code word of a document they may not read
    out, err = capsys.readouterr()
    assert [w for d, w in CODEWORDS.items() if d not in MAY_READ[person] and w in out] == []
    assert "through the API at http://" in err


def test_the_environments_token_is_its_user_and_the_operator_reads_everything_here(
    api_server, capsys, monkeypatch
):
    settings, tokens = api_server
    argv = ["search", "quarterly report codeword", "--k", str(len(DOCS)), "--weaker", "--json"]
    _, page, _ = run(capsys, *argv)  # no token: the operator, here, every document
    assert page["via"] == "here" and {r["doc_id"] for r in page["results"]} == set(DOCS)
    monkeypatch.setenv("DOCSEARCH_API_TOKEN", tokens["fred"])
    _, page, _ = run(capsys, *argv)
    assert page["via"] == "api" and {r["doc_id"] for r in page["results"]} == MAY_READ["fred"]


def test_a_spelling_correction_is_shown_the_same_both_ways(api_server, capsys, monkeypatch):
    _, tokens = api_server
    argv = ["search", "quartrly reprot", "--as-user", "carl"]
    code, through, _ = run(capsys, *argv, "--json")
    assert code == 0 and through["via"] == "api"
    main(argv)
    listing = capsys.readouterr().out
    monkeypatch.setenv("DOCSEARCH_API_PORT", str(free_port()))  # nothing answers there
    _, here, _ = run(capsys, *argv, "--json")
    assert here["via"] == "here"
    said = ("did_you_mean", "corrected_query", "notice")
    assert {k: through[k] for k in said} == {k: here[k] for k in said}
    assert through["corrected_query"] == "quarterly report"  # both words unknown: corrected
    assert listing.startswith(
        'Showing results for "quarterly report". Search instead for "quartrly reprot".\n'
    )
    assert [r["doc_id"] for r in through["results"]] == [r["doc_id"] for r in here["results"]]


def test_ask_feedback_and_lineage_through_the_api(api_server, capsys, monkeypatch):
    from lifecycle.feedback import FeedbackStore

    settings, tokens = api_server
    code, turn, _ = run(capsys, "ask", "how long is parental leave?", "--as-user", "ann", "--json")
    assert code == 0 and turn["via"] == "api" and turn["answered"]
    assert {c["doc_id"] for c in turn["citations"]} <= MAY_READ["ann"]
    _, page, _ = run(capsys, "search", "parental leave", "--as-user", "ann", "--json")
    doc = page["results"][0]["doc_id"]
    assert main(["feedback", "click", str(page["query_id"]), doc, "--as-user", "ann"]) == 0
    assert main(["feedback", "answer", str(turn["answer_id"]), "up", "--as-user", "ann"]) == 0
    capsys.readouterr()
    store = FeedbackStore(settings.feedback_url)
    clicks = [(c["query_id"], c["doc_id"]) for c in store.rows("clicks")]
    votes = [(v["answer_id"], v["value"]) for v in store.rows("votes")]
    store.close()
    assert clicks == [(page["query_id"], doc)] and votes == [(turn["answer_id"], 1)]
    # carl may not click on ann's results: the API says so, one line, exit 2
    assert main(["feedback", "click", str(page["query_id"]), doc, "--as-user", "carl"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: no query {page['query_id']} of yours; use the query_id your search returned"
    )
    monkeypatch.setenv("DOCSEARCH_API_TOKEN", tokens["root"])  # lineage: admins only
    code, lineage, _ = run(capsys, "lineage", str(page["query_id"]), "--json")
    assert code == 0 and lineage["query"]["id"] == page["query_id"]
    monkeypatch.setenv("DOCSEARCH_API_TOKEN", tokens["ann"])
    assert main(["lineage", str(page["query_id"])]) == 2
    assert "ann is not an admin" in capsys.readouterr().err


def test_a_revoked_token_or_no_api_is_one_line(api_server, capsys, monkeypatch):
    settings, tokens = api_server
    from app.cli.saved_tokens import save_token

    save_token(settings, "ann", "ds_revoked-or-made-up")
    assert main(["search", "quarterly", "--as-user", "ann"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the API at http://127.0.0.1:") and "\n" not in err
    assert "`docsearch tokens issue ann` keeps a new one" in err
    monkeypatch.setenv("DOCSEARCH_API_TOKEN", tokens["ann"])
    monkeypatch.setenv("DOCSEARCH_API_PORT", str(free_port()))
    assert main(["search", "quarterly"]) == 1  # never the operator's everything instead
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: DOCSEARCH_API_TOKEN is set but no API answers at http://")


def test_a_conversation_continues_where_it_began(api_server, capsys, monkeypatch):
    first = ["ask", "how long is parental leave?", "--as-user", "ann", "--json"]
    _, through, _ = run(capsys, *first)
    port = free_port()
    with monkeypatch.context() as nothing_answers:
        nothing_answers.setenv("DOCSEARCH_API_PORT", str(port))
        _, here, _ = run(capsys, *first)
    assert (through["via"], here["via"]) == ("api", "here")
    for begun in (through, here):  # the API answers again; each goes on where it began
        follow = ["ask", "and who approves it?", "--conversation", begun["conversation_id"]]
        code, turn, _ = run(capsys, *follow, "--as-user", "ann", "--json")
        assert code == 0 and turn["via"] == begun["via"]
        assert turn["conversation_id"] == begun["conversation_id"]
        assert turn["searched_for"].startswith("and who approves it? ")  # refers back
