"""The search page's URL, pages and restored votes, through Streamlit's AppTest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lifecycle.feedback import FeedbackStore
from search.settings import Settings

APP = Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py"


def _store() -> FeedbackStore:
    return FeedbackStore(Settings.from_env().feedback_url)


def _run(params: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _url(at: AppTest) -> dict[str, str]:
    return {k: v if isinstance(v, str) else v[-1] for k, v in at.query_params.items()}


def _results(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if 'class="ds-result"' in m.value]


def _search(at: AppTest, query: str) -> AppTest:
    at.text_input(key="query").input(query)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_the_search_is_in_the_url_and_a_new_session_restores_it_with_the_votes(app_home):
    at = _search(_run(), "vpn error 809")
    at.feedback(key=next(f.key for f in at.feedback if f.key.endswith("-1"))).set_value(1).run()
    url = _url(at)
    (query,) = _store().rows("queries")
    assert url == {"q": "vpn error 809", "qid": str(query["id"])}
    assert any("Results 1–" in c.value and " of " in c.value for c in at.caption)

    again = _run(url)  # a reload, a bookmark or Back: a fresh session from the URL alone
    assert again.text_input(key="query").value == "vpn error 809"
    assert "VPN setup on Windows" in _results(again)[0]
    assert again.feedback(key=f"vote-{query['id']}-1").value == 1  # the vote as cast
    assert len(_store().rows("queries")) == 1  # the same logged page, not a new search
    again.feedback(key=f"vote-{query['id']}-1").set_value(1).run()  # the same vote again
    assert [v["value"] for v in _store().rows("votes")] == [1]


def test_someone_elses_query_id_in_a_link_searches_afresh(app_home):
    at = _run({"q": "parental leave", "qid": "999", "method": "bm25"})
    assert at.selectbox(key="method").value == "bm25"
    (query,) = _store().rows("queries")
    assert (query["query"], query["method"]) == ("parental leave", "bm25")
    assert _url(at)["qid"] == str(query["id"])


def test_more_results_pages_through_with_a_total(app_home, monkeypatch):
    monkeypatch.setattr("lifecycle.serving.PAGE_SIZE", 2)
    at = _search(_run(), "leave policy receipts release vpn")
    assert any("Results 1–2 of 5" in c.value for c in at.caption)
    first = [r.split("</div>")[0] for r in _results(at)]
    next(b for b in at.button if b.label == "More results").click().run()
    assert not at.exception, at.exception
    assert any("Results 3–4 of 5" in c.value for c in at.caption)
    assert _url(at)["page"] == "2"
    second = _results(at)
    assert "3. " in second[0] and not any(r.split("</div>")[0] in second[0] for r in first)
    shown = _store().rows("shown")
    assert max(s["rank"] for s in shown) == 4  # page 2 logged with its ranks counted from 1


def test_every_method_shows_the_same_match_scale(app_home):
    at = _run()
    at.selectbox(key="method").set_value("bm25")
    at = _search(at, "vpn error 809")
    assert all('class="ds-score"' in r and ">match 0." in r for r in _results(at))


def test_contradictory_dates_are_explained_and_not_searched(app_home):
    at = _run()
    at.date_input(key="after").set_value(date(2025, 6, 1))
    at.date_input(key="before").set_value(date(2024, 1, 1))
    at = _search(at, "receipts")
    assert "later than “Modified before”" in at.warning[0].value
    assert _results(at) == [] and _store().rows("queries") == []


def test_the_menu_back_to_search_shows_the_last_search(app_home):
    at = _search(_run(), "parental leave")
    at.switch_page("views/chat.py").run()
    at.switch_page("views/search.py").run()
    assert not at.exception, at.exception
    assert at.text_input(key="query").value == "parental leave"
    assert "Parental leave policy" in _results(at)[0]
    assert len(_store().rows("queries")) == 1
