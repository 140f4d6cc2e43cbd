"""The monitoring page's figures, computed by hand over a few rows: one definition each, the
same in the tiles (``overall``) and the per-version table, over a chosen time range."""

from __future__ import annotations

import pandas as pd
import pytest

from lifecycle import monitoring

NOW = pd.Timestamp("2026-03-10 12:00", tz="UTC")


def _frames() -> dict[str, pd.DataFrame]:
    day = pd.Timedelta(days=1)
    queries = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "query": ["VPN error", "vpn  error", "holiday pay", "xyzzy", "old question"],
            "index_version": ["A", "A", "B", "B", "A"],
            "source": ["search", "search", "search", "chat", "search"],
            "n_results": [10, 10, 10, 0, 10],
            "latency_ms": [10.0, 30.0, 20.0, 40.0, 50.0],
            "created_at": [NOW - day / 4] * 4 + [NOW - 20 * day],
        }
    )
    clicks = pd.DataFrame({"query_id": [1], "doc_id": ["d"]})
    votes = pd.DataFrame(
        {  # query 1: up, then changed to down; query 3: up; answer 7: up; answer 8: withdrawn
            "id": [1, 2, 3, 4, 5, 6],
            "query_id": [1, 1, 3, None, None, None],
            "answer_id": [None, None, None, 7, 8, 8],
            "doc_id": ["d", "d", "e", None, None, None],
            "value": [1, -1, 1, 1, 1, 0],
        }
    )
    answers = pd.DataFrame(
        {
            "id": [7, 8],
            "query_id": [4, 4],
            "index_version": ["B", "B"],
            "created_at": [NOW - day / 4] * 2,
        }
    )
    return {"queries": queries, "clicks": clicks, "votes": votes, "answers": answers}


def test_the_tile_and_the_table_share_one_definition_chat_answers_included():
    frames = monitoring.within(_frames(), 7, now=NOW)  # query 5 is 20 days old: left out
    table = monitoring.per_version(frames).set_index("index_version")
    # A: queries 1, 2; the vote in force on query 1 is the down-vote; 1 of 2 clicked
    assert table.loc["A", "queries"] == 2 and table.loc["A", "vote_ratio"] == 0.0
    assert table.loc["A", "ctr"] == 0.5 and table.loc["A", "p50_ms"] == 20.0
    # B: query 3's up-vote and answer 7's up-vote (answer 8's was withdrawn)
    assert (table.loc["B", "up_votes"], table.loc["B", "votes"]) == (2, 2)
    assert table.loc["B", "zero_result_rate"] == 0.5
    total = monitoring.overall(frames)
    assert total["queries"] == 4 and total["vote_ratio"] == pytest.approx(2 / 3)
    assert total["zero_result_rate"] == 0.25 and total["ctr"] == 0.25
    everything = monitoring.overall(monitoring.within(_frames(), None))
    assert everything["queries"] == 5 and everything["p95_ms"] == pytest.approx(48.0)


def test_query_lists():
    lists = monitoring.query_lists(_frames())
    top = lists["top"].to_dict("records")
    assert top[0] == {"query": "vpn error", "asked": 2}  # case and spaces folded
    assert list(lists["zero_results"]["query"]) == ["xyzzy"]
    # "vpn error" was clicked once, so neither of its asks is listed
    assert list(lists["not_clicked"]["query"]) == ["holiday pay", "old question"]
    empty = monitoring.query_lists({**_frames(), "queries": _frames()["queries"].iloc[:0]})
    assert all(frame.empty for frame in empty.values())


def test_versions_by_their_registry_number():
    numbers = {"20260301T000000Z": "v1", "20260305T000000Z": "v2"}
    assert monitoring.version_label("20260305T000000Z", numbers) == "v2"
    assert monitoring.version_label("20260309T000000Z", numbers) == (
        "20260309T000000Z (not registered)"
    )
    assert monitoring.version_label(monitoring.ALL, numbers) == monitoring.ALL
    assert set(monitoring.DEFINITIONS) == set(monitoring.COLUMNS) - {"index_version"}


@pytest.mark.slow
def test_version_numbers_come_from_the_registry(tmp_path):
    from lifecycle.registry import INDEX_VERSION_TAG, Registry
    from search.settings import Settings

    settings = Settings(home=tmp_path, docs=tmp_path)
    assert monitoring.version_numbers(settings) == {}  # no MLflow store yet
    registry = Registry.from_settings(settings)
    registry.client.create_registered_model(registry.model_name)
    for folder in ("F1", "F2"):
        registry.client.create_model_version(
            registry.model_name, str(tmp_path / folder), tags={INDEX_VERSION_TAG: folder}
        )
    assert monitoring.version_numbers(settings) == {"F1": "v1", "F2": "v2"}
