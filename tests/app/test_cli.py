import json
from pathlib import Path

import pytest

from app.cli import main

BEIR_TINY = Path(__file__).parent.parent / "fixtures" / "beir_tiny"


def run_cli(capsys, *args) -> dict:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_eval_prints_metrics_and_reuses_the_index(home, capsys, monkeypatch):
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    first = run_cli(capsys, "eval", "--dataset", str(BEIR_TINY), "--json")
    assert first["method"] == "hybrid" and first["dataset"] == "beir_tiny"
    assert first["n_queries"] == 5 and not first["index_reused"]
    assert {"ndcg_at_10", "recall_at_100", "mrr_at_10", "seconds"} <= set(first)
    assert first["recall_at_100"] == 1.0  # 6 documents, all returned
    second = run_cli(capsys, "eval", "--dataset", str(BEIR_TINY), "--method", "bm25", "--json")
    assert second["index_reused"] and second["index_version"] == first["index_version"]
    assert second["mrr_at_10"] == 1.0  # every tiny query's answer is BM25's top hit


def test_measuring_another_model_never_replaces_the_version_that_serves(home, capsys, monkeypatch):
    from search.index import IndexStore
    from search.settings import Settings

    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    served = run_cli(capsys, "eval", "--dataset", str(BEIR_TINY), "--json")["index_version"]
    other = run_cli(capsys, "eval", "--dataset", str(BEIR_TINY), "--model", "hashing-64", "--json")
    assert other["index_version"] != served and not other["index_reused"]
    store = IndexStore(Settings.from_env().index_root("eval-beir_tiny"))
    assert store.current() == served  # the first build serves; the measurement did not switch it
    again = run_cli(capsys, "eval", "--dataset", str(BEIR_TINY), "--model", "hashing-64", "--json")
    assert again["index_reused"] and again["index_version"] == other["index_version"]
    # the learning loop's users are simulated on the version that serves
    clicks = run_cli(
        capsys, "simulate-feedback", "--dataset", str(BEIR_TINY), "--split", "test", "--json"
    )
    assert clicks["index_version"] == served


def test_build_then_search_with_filters(home, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    docs = tmp_path / "docs"
    (docs / "it").mkdir(parents=True)
    (docs / "it" / "vpn.md").write_text("# VPN\n\nError 809 means UDP port 51820 is blocked.")
    (docs / "hr.txt").write_text("Leave policy\n\nSixteen weeks of parental leave.")
    (docs / "broken.pdf").write_bytes(b"not a pdf at all")
    built = run_cli(capsys, "build", "--docs", str(docs), "--json")
    assert built["documents"] == 2 and built["chunks"] == 2
    assert [r["path"] for r in built["rejected"]] == ["broken.pdf"]
    hits = run_cli(capsys, "search", "error 809", "--json")
    assert hits["results"][0]["doc_id"] == "it/vpn.md"
    # the stand-in encoder has no relevance model: no floor, every match shown (the floor
    # with the real encoder: tests/search/test_relevance.py)
    assert hits["floor"] is None and hits["held_back"] == 0 and hits["good_match"]
    only_hr = run_cli(capsys, "search", "error 809", "--path-prefix", "hr", "--json")
    assert [r["doc_id"] for r in only_hr["results"]] == ["hr.txt"]


def test_missing_dataset_is_a_clear_error(home, capsys, tmp_path):
    assert main(["eval", "--dataset", str(tmp_path / "nope")]) == 2
    assert "the folder " + str(tmp_path / "nope") + " does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["eval", "--dataset", str(tmp_path / "empty")]) == 2
    assert "No qrels for split" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, says",
    [
        (["search", "x", "--k", "-5"], "argument --k: -5 is out of range; use 1 to 100"),
        (["search", "x", "--k", "0"], "argument --k: 0 is out of range"),
        (["search", "x", "--k", "101"], "argument --k: 101 is out of range"),
        (["search", "x", "--k", "ten"], "'ten' is not a whole number"),
        (["search", "x", "--after", "notadate"], "argument --after: 'notadate' is not a date"),
        (["search", "x", "--before", "2025-13-01"], "'2025-13-01' is not a date"),
        (["search", "x", "--format", "exe"], "argument --format: invalid choice: 'exe'"),
        (["search", "x", "--method", "magic"], "invalid choice: 'magic'"),
        (["search", "x", "--name", "../etc"], "'../etc' is not an index name"),
        (["search", ""], "argument query: the query is empty"),
        (["search", "   "], "the query is empty"),
        (["search", "a" * 1001], "the query has 1001 characters; use at most 1000"),
        (["build", "--docs", "/no/such/folder"], "the folder /no/such/folder does not exist"),
        (["build", "--docs", __file__], "is a file, not a folder"),
        (["build", "--name", "a/b"], "'a/b' is not an index name"),
        (["eval", "--dataset", "/no/such/folder"], "/no/such/folder does not exist"),
        (["lineage", "abc"], "argument query_id: 'abc' is not an id"),
        (["lineage", "-3"], "-3 is not an id"),
        (["simulate-feedback", "--dataset", ".", "--noise", "1.5"], "1.5 is not between 0 and 1"),
        (["simulate-feedback", "--dataset", ".", "--seed", "x"], "invalid int value: 'x'"),
        (["retrain", "--dataset", ".", "--epochs", "0"], "0 is out of range"),
        (["api", "--port", "70000"], "70000 is out of range"),
        (["gate", "--floor", "-1"], "-1.0 is negative"),
        (["nosuch"], "invalid choice: 'nosuch'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_nonsense_arguments_are_one_line_and_exit_code_2(home, capsys, argv, says):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert says in lines[0] and "Traceback" not in captured.err
    assert lines[0].startswith("docsearch") and "--help" in lines[0]


def test_the_cli_refuses_what_the_api_refuses():
    from app.api import limits
    from app.cli import arguments

    assert arguments.MAX_K == limits.MAX_K
    assert arguments.MAX_QUERY_CHARS == limits.MAX_QUERY_CHARS


def test_contradictory_dates_are_one_line_and_exit_code_2(home, capsys):
    assert main(["search", "x", "--after", "2026-01-01", "--before", "2025-01-01"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "error: --after 2026-01-01 is not before --before 2025-01-01: no document can match both"
    )


def test_a_bad_setting_is_one_line_and_exit_code_2(home, capsys, monkeypatch):
    monkeypatch.setenv("DOCSEARCH_APP_PORT", "eighty")
    assert main(["search", "x"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: bad setting: DOCSEARCH_APP_PORT: Input should be a valid integer, unable to parse "
        "string as an integer"
    )


def test_build_never_moves_current_past_the_gate(home, capsys, monkeypatch, tmp_path):
    """The first build serves (nothing did); a later one is built beside it and CURRENT stays
    where it was, so the CLI and the app answer from the same version until the gate moves it."""
    from search.index import IndexStore
    from search.index.store import CURRENT
    from search.settings import Settings

    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vpn.md").write_text("# VPN\n\nError 809 means UDP port 51820 is blocked.")
    first = run_cli(capsys, "build", "--docs", str(docs), "--json")
    store = IndexStore(Settings.from_env().index_root())
    assert first["activated"] and store.current() == first["version"] == first["serving"]
    (docs / "leave.txt").write_text("Leave policy\n\nSixteen weeks of parental leave.")
    assert main(["build", "--docs", str(docs), "--json"]) == 0
    out, err = capsys.readouterr()
    second = json.loads(out.strip().splitlines()[-1])
    assert second["version"] != first["version"] and second["documents"] == 2
    assert not second["activated"] and second["serving"] == first["version"]
    assert store.current() == first["version"]
    assert f"serving unchanged: CURRENT stays at {first['version']}" in err
    hits = run_cli(capsys, "search", "parental leave", "--json")
    assert "leave.txt" not in [r["doc_id"] for r in hits["results"]]  # still the first version
    # without CURRENT the newest version serves: a build pins it rather than replacing it
    (store.root / CURRENT).unlink()
    third = run_cli(capsys, "build", "--docs", str(docs), "--json")
    assert not third["activated"] and store.current() == second["version"] == third["serving"]


@pytest.mark.slow
def test_a_build_with_the_default_exported_encoder_is_served_by_the_app_and_api_loader(
    home, capsys, monkeypatch, tmp_path
):
    """``docsearch build`` with the product's default (an int8 encoder calibrated on the corpus,
    kept inside the version) must load where the app and the API load it: the plain model of
    the same name has another fingerprint and was refused (the API answered 500)."""
    from lifecycle.serving import LoadedIndexes, resolve_serving
    from search.settings import Settings

    monkeypatch.delenv("DOCSEARCH_MODEL", raising=False)
    monkeypatch.delenv("DOCSEARCH_ENCODER_BACKEND", raising=False)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vpn.md").write_text("# VPN\n\nError 809 means UDP port 51820 is blocked.")
    (docs / "leave.txt").write_text("Leave policy\n\nSixteen weeks of parental leave.")
    built = run_cli(capsys, "build", "--docs", str(docs), "--json")
    served = resolve_serving(Settings.from_env())
    assert served.version == built["version"]
    loaded = LoadedIndexes()
    index = loaded.index(served)
    assert index.search("vpn error 809", k=1)[0].doc_id == "vpn.md"
    assert loaded.index(served) is index  # loaded once


@pytest.mark.slow
def test_build_register_serves_only_what_the_gate_promotes(home, capsys, monkeypatch):
    """``docsearch build --register`` evaluates, registers and gates like ``index_job``:
    CURRENT moves with a promotion and stays where it was when the gate says no."""
    from search.index import IndexStore
    from search.settings import Settings

    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    monkeypatch.delenv("DOCSEARCH_EVAL_SCIFACT", raising=False)
    monkeypatch.setenv("DOCSEARCH_GATE_FLOOR", "0")
    first = run_cli(capsys, "build", "--register", "--json")
    store = IndexStore(Settings.from_env().index_root())
    assert first["gate"]["outcome"] == "promote" and first["gate"]["registered"] == "v1"
    assert store.current() == first["version"] == first["serving"] and first["activated"]
    monkeypatch.setenv("DOCSEARCH_GATE_FLOOR", "1")  # no build reaches a perfect nDCG@10
    assert main(["build", "--register", "--json"]) == 0
    out, err = capsys.readouterr()
    second = json.loads(out.strip().splitlines()[-1])
    assert second["gate"]["outcome"] == "reject" and second["gate"]["champion"] == "v1"
    assert store.current() == first["version"] == second["serving"]
    assert not second["activated"]
    assert f"serving unchanged: CURRENT stays at {first['version']}" in err
    assert "v2, the challenger" in err


def test_a_result_another_document_says_it_replaces_names_it(home, capsys, monkeypatch, tmp_path):
    from app.api.models import Result

    monkeypatch.setenv("DOCSEARCH_MODEL", "hashing-128")
    monkeypatch.setenv("DOCSEARCH_API_PORT", "1")  # nothing answers there: the search runs here
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "expenses.md").write_text(
        "# Travel and expenses\n\nEffective date: 1 January 2025. Replaces the circular on "
        "travel of 1 March 2023.\n\nYour own car: EUR 0.23 per kilometre."
    )
    (docs / "circular.txt").write_text(
        "Circular on travel\n\nDate: 1 March 2023.\n\nYour own car: EUR 0.21 per kilometre."
    )
    run_cli(capsys, "build", "--docs", str(docs), "--json")
    page = run_cli(capsys, "search", "own car kilometre", "--json")
    named = {r["doc_id"]: r["replaced_by"] for r in page["results"]}
    assert named == {
        "expenses.md": [],
        "circular.txt": [{"doc_id": "expenses.md", "title": "Travel and expenses"}],
    }
    assert main(["search", "own car kilometre"]) == 0
    assert "    replaced by Travel and expenses  [expenses.md]" in capsys.readouterr().out
    # the REST API's result carries the same
    from search.index.query import SearchResult
    from search.retrieval.snippets import Snippet

    newer = (("expenses.md", "Travel and expenses"),)
    result = SearchResult(
        "circular.txt",
        "Circular",
        0.5,
        1,
        None,
        None,
        "c#0",
        Snippet("x", ()),
        {},
        replaced_by=newer,
    )
    assert Result.of(result).model_dump()["replaced_by"] == [
        {"doc_id": "expenses.md", "title": "Travel and expenses"}
    ]
