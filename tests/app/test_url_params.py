"""Every URL parameter of every page checked: a mangled link gets a sentence saying what was
ignored, never an exception box (which showed the server's paths), through Streamlit's AppTest;
the parsers themselves with hand-made values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app.document_params import DocumentParams
from app.search_params import SearchParams
from app.url_values import iso_date, shown, text, whole
from lifecycle.feedback import FeedbackStore
from search.settings import Settings

APP = Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py"
NINES = "9" * 4301  # one digit past what int() converts: ValueError, once a traceback


def _open(params: dict[str, str], page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _said(at: AppTest) -> str:
    """Everything the page told the reader in info, warning and error boxes, as read (the
    Markdown escapes of ``app.render.md`` taken out)."""
    boxes = " | ".join(b.value for b in [*at.info, *at.warning, *at.error])
    return re.sub(r"\\(.)", r"\1", boxes)


def test_the_parsers_take_anything_and_say_what_they_ignored():
    assert whole("42", "page number", 1, 100) == (42, "")
    assert whole("", "page number", 1, 100) == (None, "")
    for junk in (NINES, "²", "٣", "-2", "1e9", "0", "101", " 4 2 "):
        value, note = whole(junk, "page number", 1, 100)
        assert value is None and note.startswith("The link's page number “")
    assert shown(NINES) == "“999999999999999999999999…” (4,301 characters)"
    assert iso_date("2025-02-30", "date")[0] == "" and "YYYY-MM-DD" in iso_date("x", "date")[1]
    assert text("a\x00b", "document", 10) == ("", "The link's document “a\x00b” holds control "
                                              "characters; it was ignored.")  # fmt: skip
    assert text("x" * 11, "query", 10)[1] == (
        "The link's query has 11 characters, over the 10 allowed; it was ignored."
    )
    link, notes = DocumentParams.parse({"doc": "it/a.md", "passage": NINES, "kind": "exe"})
    assert link == DocumentParams(doc="it/a.md") and len(notes) == 2
    params, notes = SearchParams.parse({"q": "x", "formats": "pdf,exe"}, formats={"pdf"})
    assert params.formats == ("pdf",) and notes == [
        "The link's format “exe” is not one the documents have; it was ignored."
    ]


def test_a_4301_digit_passage_opens_the_document_with_a_sentence(app_home):
    at = _open({"doc": "it/vpn-setup.md", "passage": NINES}, "views/document.py")
    assert at.title[0].value == "VPN setup on Windows"
    assert "The link's passage number “999999999999999999999999…” (4,301 characters)" in _said(at)
    (text_box,) = [m.value for m in at.markdown if 'class="ds-document"' in m.value]
    assert "Error 809" in text_box and "ds-passage" not in text_box  # from its start


def test_every_document_page_parameter_is_checked(app_home):
    at = _open(
        {"doc": "it/vpn-setup.md", "passage": "77", "qid": "²", "kind": "<script>"},
        "views/document.py",
    )
    said = _said(at)
    assert "The link's passage 77 is not in this document" in said
    assert "The link's query id “²” is not a query's id" in said
    assert "The link's link kind “<script>” is not one of open, citation" in said
    at = _open({"doc": "x" * 3000}, "views/document.py")
    assert "document has 3,000 characters, over the 2,048 allowed" in _said(at)
    assert "This link names no document" in _said(at)
    at = _open({"doc": "hr/../it/vpn-setup.md\x00"}, "views/document.py")
    assert "holds control characters" in _said(at)


def test_every_search_page_parameter_is_checked(app_home):
    at = _open(
        {
            "q": "v" * 100_000,
            "page": NINES,
            "qid": NINES,
            "method": "drop table",
            "after": "2025-13-01",
            "before": "yesterday",
            "formats": "markdown,exe",
            "folder": "f" * 1001,
        }
    )
    said = _said(at)
    for part in (
        "The link's query has 100,000 characters, over the 1,000 allowed",
        "The link's page number “999999999999999999999999…” (4,301 characters)",
        "The link's query id “999999999999999999999999…” (4,301 characters)",
        "The link's search method “drop table” is not one of hybrid, bm25, dense",
        "The link's “Modified after” date “2025-13-01” is not a date",
        "The link's “Modified before” date “yesterday” is not a date",
        "The link's format “exe” is not one the documents have",
        "The link's folder has 1,001 characters",
    ):
        assert part in said, part
    assert at.text_input(key="query").value == ""  # nothing searched for the refused query
    assert FeedbackStore(Settings.from_env().feedback_url).rows("queries") == []


@pytest.mark.parametrize("qid", [NINES, "99999999999999999999", "٣"])
def test_a_mangled_query_id_is_not_a_lookup_error(app_home, qid):
    at = _open({"q": "vpn error 809", "qid": qid})
    assert "is not a query's id" in _said(at)
    assert any("VPN setup on Windows" in m.value for m in at.markdown)
