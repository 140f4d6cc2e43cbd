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
    only_hr = run_cli(capsys, "search", "error 809", "--path-prefix", "hr", "--json")
    assert [r["doc_id"] for r in only_hr["results"]] == ["hr.txt"]


def test_missing_dataset_is_a_clear_error(home, capsys, tmp_path):
    assert main(["eval", "--dataset", str(tmp_path / "nope")]) == 2
    assert "nope is not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["eval", "--dataset", str(tmp_path / "empty")]) == 2
    assert "No qrels for split" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, says",
    [
        (["search", "x", "--k", "-5"], "-5 is out of range"),
        (["search", "x", "--k", "0"], "0 is out of range"),
        (["search", "x", "--k", "ten"], "'ten' is not a whole number"),
        (["search", "x", "--after", "notadate"], "'notadate' is not a date"),
        (["search", "x", "--format", "exe"], "invalid choice: 'exe'"),
        (["build", "--docs", "/no/such/folder"], "/no/such/folder is not a folder"),
        (["simulate-feedback", "--dataset", ".", "--noise", "1.5"], "1.5 is not between 0 and 1"),
    ],
)
def test_nonsense_arguments_are_one_line_and_exit_code_2(home, capsys, argv, says):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_a_bad_setting_is_one_line_and_exit_code_2(home, capsys, monkeypatch):
    monkeypatch.setenv("DOCSEARCH_APP_PORT", "eighty")
    assert main(["search", "x"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: bad setting: DOCSEARCH_APP_PORT: Input should be a valid integer, unable to parse "
        "string as an integer"
    )
