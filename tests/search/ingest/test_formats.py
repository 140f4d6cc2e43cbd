"""HTML and Markdown to text."""

from __future__ import annotations

from search.ingest import ParseLimits
from search.ingest.formats.html import parse_html
from search.ingest.formats.markdown import parse_markdown

LIMITS = ParseLimits()


def html(markup: str | bytes) -> tuple[str, str]:
    raw = markup.encode() if isinstance(markup, str) else markup
    return parse_html(raw, "page", LIMITS)


def test_html_text_keeps_blocks_and_drops_noise():
    title, text = html(
        "<html><head><title>Staff  Handbook</title><style>p{}</style></head><body>"
        "<nav>NAV</nav><script>var x = 'SCRIPT';</script><!-- a comment -->"
        "<h1>Welcome</h1><p>Open at <b>08:00</b>\n  daily.</p><p>Lunch.<br>Coffee.</p>"
        "<table><tr><td>a</td><td>b</td></tr></table><footer>FOOT</footer></body></html>"
    )
    assert title == "Staff Handbook"
    assert text.split() == "Welcome Open at 08:00 daily. Lunch. Coffee. a | b".split()
    assert "Lunch.\nCoffee." in text
    for noise in ("NAV", "SCRIPT", "comment", "FOOT", "p{}"):
        assert noise not in text


def test_a_table_row_is_a_paragraph_of_cells_as_in_a_word_document():
    _, text = parse_markdown(
        b"| Channel | Soak |\n|---|---|\n| staging | 48 hours |\n| canary | 72 hours |\n",
        "page",
        LIMITS,
    )
    rows = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    assert rows == ["Channel | Soak", "staging | 48 hours", "canary | 72 hours"]


def test_html_title_falls_back_to_the_first_h1():
    assert html("<h1>First <i>one</i></h1><h1>Second</h1><p>x</p>")[0] == "First one"


def test_html_nesting_has_no_depth_limit():
    # A tree-building parser stops at 256 levels and loses the rest; the event parser does not.
    title, text = html("<div>" * 100_000 + "deepest" + "</div>" * 100_000 + "<p>after</p>")
    assert text.split() == ["deepest", "after"]


def test_html_declared_charset_is_honoured():
    raw = "<meta charset='iso-8859-2'><p>Łódź</p>".encode("iso-8859-2")
    assert html(raw)[1].strip() == "Łódź"
    xml = '<?xml version="1.0" encoding="windows-1252"?><p>“quoted”</p>'.encode("cp1252")
    assert html(xml)[1].strip() == "“quoted”"


def test_markdown_to_text():
    source = (
        "---\ntitle: front matter\n---\n"
        "Weekly **Sync** Notes\n===\n\n"
        "See the [wiki](https://wiki.example) and ![a diagram](d.png).\n\n"
        "| Item | Limit |\n|---|---|\n| Meal | 35 |\n\n"
        "<div>raw <em>html</em></div>\n\n<script>alert(1)</script>\n\n"
        "- keep snake_case_names\n- run `make release`\n"
    )
    title, text = parse_markdown(source.encode(), "notes", LIMITS)
    assert title == "Weekly Sync Notes"  # a setext heading is a heading too
    for expected in ("See the wiki and a diagram.", "Item | Limit", "Meal | 35", "raw html",
                     "keep snake_case_names", "run make release"):  # fmt: skip
        assert expected in " ".join(text.split()), expected
    for markup in ("front matter", "https://", "**", "|---", "`", "alert", "==="):
        assert markup not in text


def test_markdown_pathological_emphasis_is_plain_text():
    # 48 KB that took the old regular expressions 44 s: unclosed "__" are literal underscores.
    title, text = parse_markdown(("__a " * 12_000 + "\n\nend").encode(), "u", LIMITS)
    assert title == ""
    assert text.split()[:2] == ["__a", "__a"] and text.split()[-1] == "end"
