"""Spelling correction from the corpus's own vocabulary, and the search that forgives."""

from __future__ import annotations

import pytest

from evaluation.beir import load_labeled_set
from search.config import IndexConfig
from search.index import SearchIndex
from search.retrieval.spelling import SpellingCorrector, corrector_for, search_forgiving
from search.settings import SAMPLE_SET

TEXTS = [
    "Hotels in London are reimbursed up to EUR 220 per night.",
    "The money for hotels comes from the travel budget. Travel to London needs approval.",
    "Passwords must be at least 14 characters long.",
    "How much do I get for a hotel?",
]


@pytest.fixture(scope="module")
def corrector() -> SpellingCorrector:
    return SpellingCorrector.from_texts(
        TEXTS, known=lambda word: word in {"password"}, stopwords={"the", "in", "for", "do", "i"}
    )


def test_unknown_words_are_corrected_to_corpus_words(corrector):
    corrected, unknown = corrector.correct("how much mony do I get for hotl in londn")
    assert corrected == "how much money do I get for hotel in london"
    assert unknown == pytest.approx(3 / 6)  # of how, much, mony, get, hotl, londn


def test_known_words_stems_stopwords_numbers_and_short_words_stay(corrector):
    assert corrector.correct("password for London hotels 220") == (None, 0.0)
    assert corrector.suggest("password") is None  # known through the BM25 stem vocabulary
    assert corrector.suggest("EUR") is None and corrector.suggest("xq") is None
    assert corrector.suggest("Londn") == "London"  # the user's capitalisation is kept


def test_nothing_near_means_no_suggestion(corrector):
    assert corrector.suggest("kubernetes") is None
    assert corrector.correct("kubernetes") == (None, 1.0)


def test_the_correction_is_searched_when_most_words_are_unknown(corrector):
    searched = []

    def search(text: str) -> list[str]:
        searched.append(text)
        return ["hit"] if "hotel" in text else []

    found = search_forgiving(search, corrector, "hotl londn")
    assert (found.results, found.corrected_query, found.did_you_mean) == (
        ["hit"],
        "hotel london",
        "hotel london",
    )
    assert searched == ["hotel london"]


def test_a_query_mostly_known_keeps_its_results_and_gets_a_suggestion(corrector):
    found = search_forgiving(lambda text: [text], corrector, "travel budget approval londn")
    assert found.results == ["travel budget approval londn"]
    assert (found.did_you_mean, found.corrected_query) == ("travel budget approval london", None)


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

    def ranked(query: str) -> list[str]:
        found = search_forgiving(lambda text: index.search(text, k=10), corrector, query)
        return [r.doc_id for r in found.results]

    travel = ranked("how much mony do I get for hotl in londn")
    assert "hr/travel-policy.pdf" in travel[:3]
    assert ranked("paswords")[0] == "it/password-policy.md"
    assert ranked("how many days of parental leave do I get")[0] == "hr/leave-policy.pdf"


def test_only_admissible_words_are_suggested(corrector):
    assert corrector.suggest("londn", admissible=lambda word: word != "london") != "london"
    assert corrector.suggest("londn", admissible=lambda word: False) is None
    assert corrector.suggest("hotl", admissible=lambda word: word == "hotel") == "hotel"
