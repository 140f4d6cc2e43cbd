import Stemmer

from search.retrieval import Filters, make_snippet

META = {"path": "hr/leave.pdf", "format": "pdf", "modified": "2026-03-05T10:00:00+00:00"}


def test_filters():
    assert Filters().is_empty()
    assert Filters.of(formats=["pdf"]).matches(META)
    assert not Filters.of(formats=["docx"]).matches(META)
    assert Filters.of(path_prefix="hr/").matches(META)
    assert not Filters.of(path_prefix="it/").matches(META)
    assert Filters.of(modified_after="2026-03-01", modified_before="2026-04-01").matches(META)
    assert not Filters.of(modified_after="2026-03-06").matches(META)
    assert not Filters.of(modified_before="2026-03-05").matches(META)
    assert not Filters.of(allow=lambda m: m["path"].startswith("it/")).matches(META)


def test_snippet_marks_stemmed_terms_and_escapes_html():
    stem = Stemmer.Stemmer("english").stemWord
    snip = make_snippet("Our leave policies <b>apply</b> to all.", {"polici", "leav"}, stem)
    assert snip.render() == "Our **leave** **policies** <b>apply</b> to all."
    assert (
        snip.html()
        == "Our <mark>leave</mark> <mark>policies</mark> &lt;b&gt;apply&lt;/b&gt; to all."
    )


def test_snippet_window_centres_on_matches():
    text = "filler " * 100 + "the vpn error 809 appears " + "filler " * 100
    snip = make_snippet(text, {"vpn", "809"}, lambda w: w, width=80)
    assert "vpn" in snip.text and snip.text.startswith("…") and snip.text.endswith("…")
    assert len(snip.highlights) == 2
