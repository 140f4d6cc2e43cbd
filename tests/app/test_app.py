"""Each page through Streamlit's AppTest, over a tiny prebuilt index."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lifecycle.feedback import FeedbackStore
from search.settings import Settings

APP = Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py"


def _store() -> FeedbackStore:
    return FeedbackStore(Settings.from_env().feedback_url)


def _run() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def _search(at: AppTest, query: str) -> AppTest:
    at.text_input(key="query").input(query)
    at.button[0].click().run()  # the form's submit button
    assert not at.exception, at.exception
    return at


def _results(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if 'class="ds-result"' in m.value]


def test_search_finds_the_document_and_logs_the_query(app_home):
    at = _search(_run(), "vpn error 809")
    results = _results(at)
    assert "VPN setup on Windows" in results[0]
    assert "it/vpn-setup.md" in results[0]
    assert "<mark>809</mark>" in results[0] and "BM25" in results[0] and "dense" in results[0]
    assert any("ms · index" in c.value for c in at.caption)
    # the sidebar names the version that answers and where it came from
    sidebar = " ".join(str(e.value) for e in at.sidebar.code) + " ".join(
        c.value for c in at.sidebar.caption
    )
    assert app_home["version"] in sidebar and "newest local index" in sidebar
    store = _store()
    (query,) = store.rows("queries")
    assert (query["query"], query["index_version"], query["source"]) == (
        "vpn error 809",
        app_home["version"],
        "search",
    )
    assert store.rows("shown")[0]["doc_id"] == "it/vpn-setup.md"


def test_votes_and_downloads_are_written(app_home):
    at = _search(_run(), "vpn error 809")
    at.feedback(key=next(f.key for f in at.feedback if f.key.endswith("-1"))).set_value(1).run()
    at.download_button[0].click().run()
    assert not at.exception
    at.feedback[1].set_value(0).run()
    store = _store()
    query_id = store.rows("queries")[0]["id"]
    votes = [(v["query_id"], v["doc_id"], v["value"]) for v in store.rows("votes")]
    second = store.rows("shown")[1]["doc_id"]
    assert votes == [(query_id, "it/vpn-setup.md", 1), (query_id, second, -1)]
    (click,) = store.rows("clicks")
    assert (click["doc_id"], click["rank"], click["kind"]) == ("it/vpn-setup.md", 1, "download")
    # the labels export sees the up-vote and the down-vote
    (qrels,) = store.export_labels().qrels.values()
    assert qrels == {"it/vpn-setup.md": 2, second: 0}


def test_filters_and_an_empty_result_say_what_to_try(app_home):
    at = _run()
    at.selectbox(key="folder").set_value("hr/")
    at = _search(at, "vpn error 809")
    assert all("it/vpn-setup.md" not in r for r in _results(at))
    at.multiselect(key="formats").set_value(["markdown"])
    at.selectbox(key="folder").set_value("finance/")
    at = _search(at, "receipts")
    assert _results(at) == []
    assert "No document matches these filters" in at.info[0].value
    assert at.warning[0].value == (
        "These filters contradict each other: format markdown alone matches 2, folder finance/ "
        "alone matches 1, but no document matches all of them."
    )
    assert _store().rows("queries")[-1]["n_results"] == 0


def test_document_text_is_escaped(app_home):
    at = _search(_run(), "release telemetry dashboards")
    top = _results(at)[0]
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in top
    assert "<script" not in top and "<img" not in top


def test_document_page_logs_an_open(app_home):
    at = _search(_run(), "parental leave")
    query_id = _store().rows("queries")[0]["id"]
    at.query_params.update(
        {"doc": "hr/parental-leave.md", "qid": str(query_id), "rank": "1", "passage": "0"}
    )
    at.switch_page("views/document.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Parental leave policy"
    (text,) = [m.value for m in at.markdown if 'class="ds-document"' in m.value]
    assert '<mark id="ds-passage">' in text and "sixteen weeks" in text
    (click,) = _store().rows("clicks")
    assert (click["doc_id"], click["kind"], click["rank"]) == ("hr/parental-leave.md", "open", 1)


def test_chat_cites_sources_and_understands_follow_ups(app_home):
    at = _run()
    at.switch_page("views/chat.py").run()
    at.chat_input[0].set_value("How many weeks of parental leave do employees get?").run()
    assert not at.exception, at.exception
    answer = next(m.value for m in at.markdown if 'class="ds-answer"' in m.value)
    assert "sixteen weeks" in answer
    assert 'href="document?doc=hr%2Fparental-leave.md' in answer and "kind=citation" in answer
    sources = next(m.value for m in at.markdown if 'class="ds-sources"' in m.value)
    assert "Parental leave policy" in sources

    at.chat_input[0].set_value("What about for contractors?").run()
    assert not at.exception, at.exception
    answers = [m.value for m in at.markdown if 'class="ds-answer"' in m.value]
    assert len(answers) == 2 and "Contractors" in answers[1]
    assert any("Searched for" in c.value and "parental" in c.value for c in at.caption)

    at.feedback[1].set_value(1).run()
    store = _store()
    rows = store.rows("answers")
    assert [r["question"] for r in rows] == [
        "How many weeks of parental leave do employees get?",
        "What about for contractors?",
    ]
    assert "parental" in rows[1]["rewritten_query"] and rows[1]["mode"] == "extractive"
    assert "hr/contractors.txt" in rows[1]["cited_doc_ids"]
    (vote,) = store.rows("votes")
    assert (vote["answer_id"], vote["value"]) == (rows[1]["id"], 1)
    assert {q["source"] for q in store.rows("queries")} == {"chat"}


@pytest.mark.parametrize("with_traffic", [False, True])
def test_monitoring_page(app_home, with_traffic):
    at = _run()
    if with_traffic:
        _search(at, "vpn error 809")
        at.feedback[0].set_value(1).run()
        _search(at, "receipts")
    at.switch_page("views/monitoring.py").run()
    assert not at.exception, at.exception
    if with_traffic:
        assert [m.label for m in at.metric][:1] == ["Queries"]
        assert at.metric[0].value == "2"
        assert at.metric[5].value == "100%"
    else:
        assert "No queries have been logged yet" in at.info[0].value
    assert any("No MLflow store yet" in c.value for c in at.caption)


def test_serves_the_mlflow_champion_and_follows_a_new_one(app_home, monkeypatch):
    import lifecycle.registry
    from app import runtime
    from lifecycle.registry import Champion
    from search.index import IndexStore

    store = IndexStore(Settings.from_env().index_root())
    old = app_home["version"]
    new = store.write(store.load(old), activate=False)  # a second version, not CURRENT
    champion = {"now": Champion("docsearch-index v2", store.path(new))}
    monkeypatch.setattr(lifecycle.registry, "resolve_champion", lambda settings: champion["now"])

    at = _search(_run(), "vpn error 809")
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "MLflow champion: docsearch-index v2" in sidebar
    assert _store().rows("queries")[-1]["index_version"] == new

    champion["now"] = Champion("docsearch-index v1", store.path(old))
    runtime._serving.clear()  # what the 30-second TTL does by itself
    at = _search(at, "vpn error 809")
    assert "docsearch-index v1" in " ".join(c.value for c in at.sidebar.caption)
    assert _store().rows("queries")[-1]["index_version"] == old


def test_registry_failure_falls_back_to_the_local_index(app_home, monkeypatch):
    import lifecycle.registry

    def broken(settings):
        raise ConnectionError("tracking server down")

    monkeypatch.setattr(lifecycle.registry, "resolve_champion", broken)
    at = _search(_run(), "vpn error 809")
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "newest local index" in sidebar and "could not be read" in sidebar
    assert "VPN setup on Windows" in _results(at)[0]
