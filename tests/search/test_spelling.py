"""Spelling correction from the corpus's own words and word pairs, and the search that forgives."""

from __future__ import annotations

import pytest

from evaluation.beir import load_labeled_set
from search.config import IndexConfig
from search.index import SearchIndex
from search.index.forgiving import forgiving_page
from search.retrieval.forgiving import CLEARLY_BETTER, corrector_for, search_forgiving
from search.retrieval.spelling import SpellingCorrector
from search.settings import SAMPLE_SET

TEXTS = [
    "Hotels in London are reimbursed up to EUR 220 per night.",
    "The money for hotels comes from the travel budget. Travel to London needs approval.",
    "Passwords must be at least 14 characters long.",
    "How much money do I get for a hotel? Many people ask.",
    "The pension plan pays into your pension fund. Load the pallet.",
    "Load limits: the lift can load 1,200 kg. Load, load, load.",
    "A person may join the pension plan.",
]
STOPWORDS = {"the", "in", "for", "do", "i", "how", "a", "to", "are", "up", "per", "from"}


@pytest.fixture(scope="module")
def corrector() -> SpellingCorrector:
    return SpellingCorrector.from_texts(
        TEXTS, known=lambda word: word in {"password"}, stopwords=STOPWORDS
    )


def test_unknown_words_are_corrected_to_corpus_words_in_context(corrector):
    # "mony" is one edit from both "money" and "many" (once each in TEXTS); the corpus writes
    # "much money", never "much many", so the pair decides
    assert corrector.corrections("how much mony do I get for hotl in londn")[0] == (
        "how much money do I get for hotel in london"
    )
    assert corrector.unknown_share("how much mony do I get for hotl in londn") == pytest.approx(
        3 / 5  # of much, mony, get, hotl, londn
    )


def test_common_words_are_no_typos_but_still_words_the_documents_lack():
    corrector = SpellingCorrector.from_texts(
        TEXTS, known=lambda word: word == "password", stopwords=STOPWORDS, common={"kayak"}
    )
    assert corrector.is_known("kayak") and corrector.suggest("kayak") is None  # left alone
    # what drift monitoring counts: "kayak" and "firmware" are in no document; "password" is in
    # the stem vocabulary (``known``), "hotels" is one of the corpus's own words
    assert corrector.unknown_share("kayak firmware hotels") == pytest.approx(1 / 3)
    assert corrector.unused_share("kayak firmware hotels") == pytest.approx(2 / 3)
    assert corrector.unused_share("password hotels") == 0.0


def test_a_short_word_gets_one_edit_so_no_nonsense_from_far_away(corrector):
    # "load" (20 times as common as "london" in a real corpus) is two edits from "londn": a
    # five-letter word gets one edit, so a reader who may not read "london" gets no correction
    assert corrector.candidates("londn", admissible=lambda w: w != "london") == []
    assert corrector.corrections("hotl in londn", admissible=lambda w: w != "london") == [
        "hotel in londn"
    ]
    # a transposition is one edit: "pensoin" is "pension", not "person" (two edits)
    assert corrector.corrections("pensoin plan")[0] == "pension plan"


def test_known_words_stems_stopwords_numbers_and_short_words_stay(corrector):
    assert corrector.corrections("password for London hotels 220") == []
    assert corrector.suggest("password") is None  # known through the BM25 stem vocabulary
    assert corrector.suggest("EUR") is None and corrector.suggest("xq") is None
    assert corrector.suggest("Londn") == "London"  # the user's capitalisation is kept
    assert corrector.corrections("person plan") == []  # a known word is never replaced


def test_nothing_near_means_no_correction(corrector):
    assert corrector.suggest("kubernetes") is None
    assert corrector.corrections("kubernetes") == []


def test_every_reader_allowed_the_same_words_gets_the_same_correction(corrector):
    # two readers whose documents hold the same words: one admissible function each
    first = corrector.corrections("mony", admissible=lambda w: w in {"money", "many"})
    second = corrector.corrections("mony", admissible=lambda w: w in {"many", "money"})
    assert first == second and first[0] == "money"  # "many" is a stopword: never a correction


def _pages(scores: dict[str, float]):
    """A search whose result list for a text is [text] with confidence scores[text]."""
    searched = []

    def search(text: str) -> list[str]:
        searched.append(text)
        return [text]

    return search, (lambda results: scores.get(results[0], 0.0)), searched


def test_a_correction_is_shown_instead_only_when_it_retrieves_clearly_better(corrector):
    search, confidence, searched = _pages({"hotl londn": 0.05, "hotel london": 0.6})
    found = search_forgiving(search, corrector, "hotl londn", confidence=confidence)
    assert (found.results, found.corrected_query, found.did_you_mean) == (
        ["hotel london"],
        "hotel london",
        "hotel london",
    )
    assert searched[0] == "hotl londn" and "hotel london" in searched


def test_a_correction_only_a_little_better_is_offered_not_imposed(corrector):
    little = CLEARLY_BETTER / 2
    search, confidence, _ = _pages({"hotl londn": 0.5, "hotel london": 0.5 + little})
    found = search_forgiving(search, corrector, "hotl londn", confidence=confidence)
    assert found.results == ["hotl londn"]
    assert (found.did_you_mean, found.corrected_query) == ("hotel london", None)


def test_a_correction_that_retrieves_worse_is_not_even_offered(corrector):
    search, confidence, _ = _pages({"hotl londn": 0.5, "hotel london": 0.2})
    found = search_forgiving(search, corrector, "hotl londn", confidence=confidence)
    assert (found.results, found.did_you_mean, found.corrected_query) == (
        ["hotl londn"],
        None,
        None,
    )


def test_without_a_corrector_yet_the_query_is_searched_as_it_is():
    found = search_forgiving(lambda text: [text], None, "hotl londn")
    assert (found.results, found.did_you_mean, found.corrected_query) == (
        ["hotl londn"],
        None,
        None,
    )


def test_a_correctly_spelled_query_is_searched_once(corrector):
    calls = []
    found = search_forgiving(lambda text: calls.append(text) or [text], corrector, "hotel money")
    assert calls == ["hotel money"] and found.did_you_mean is None


@pytest.mark.slow
def test_misspelled_questions_find_their_documents_on_the_sample(real_encoder):
    labeled = load_labeled_set(SAMPLE_SET, "test")
    index = SearchIndex.build(labeled.documents, IndexConfig(encoder_backend="torch"), real_encoder)
    corrector = corrector_for(index, wait=None)
    assert corrector is not None and corrector_for(index) is corrector  # built once per index

    def ranked(query: str):
        found = forgiving_page(index, query, k=10)
        return [r.doc_id for r in found.results.results], found

    travel, _ = ranked("how much mony do I get for hotl in londn")
    assert "hr/travel-policy.pdf" in travel[:3]
    passwords, found = ranked("paswords")
    assert passwords[0] == "it/password-policy.md"
    assert found.corrected_query == "passwords"
    assert ranked("how many days of parental leave do I get")[0][0] == "hr/leave-policy.pdf"


def test_only_admissible_words_are_suggested(corrector):
    assert corrector.suggest("londn", admissible=lambda word: word != "london") is None
    assert corrector.suggest("londn", admissible=lambda word: False) is None
    assert corrector.suggest("hotl", admissible=lambda word: word == "hotel") == "hotel"


def test_a_common_english_word_the_corpus_never_uses_is_no_typo():
    from search.retrieval.spelling import common_english

    english = common_english()
    corrector = SpellingCorrector.from_texts(
        ["Receive the tread plate.", "Banana"], known=english.__contains__, stopwords=STOPWORDS
    )
    # "recipe" and "bread" are words, not typos of "receive" and "tread"
    assert corrector.corrections("recipe for banana bread") == []
    assert "mony" not in english and "calender" not in english  # rare forms stay correctable
