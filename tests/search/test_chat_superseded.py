"""A document that says it replaces another retrieved one: only the newer one is quoted."""

from __future__ import annotations

from lifecycle.feedback.logged_search import served_results
from search.chat import answer_from
from search.chat.superseded import replacements
from search.config import IndexConfig
from search.index import SearchIndex
from search.ingest.model import Document
from search.retrieval import Filters

NEW = (
    "Travel and expenses\n\nFinance and HR. Version 3.0, effective date: 1 January 2025. "
    "Replaces the circular on travel and expenses of 1 March 2023.\n\n"
    "Business trips by own car are reimbursed at EUR 0.23 per kilometre."
)
OLD = (
    "Circular: reimbursement of travel and expenses\n\nFinance department. Date: 1 March 2023.\n\n"
    "If you use your own car for a business trip, you receive EUR 0.21 per kilometre."
)
PARKING_NEW = (
    "Parking permits\n\neffective date: 1 January 2025 · replaces all earlier parking "
    "information\n\nA permit costs EUR 78 per year."
)
PARKING_OLD = "Parking FAQ\n\nPublished 6 March 2023.\n\nA permit costs EUR 65 per year."
OTHER_OLD = "Waste calendar\n\nPublished 2 February 2023.\n\nGrey bins are emptied on Mondays."


def test_a_replaced_document_is_named_by_its_date_or_as_all_earlier_ones_on_its_subject():
    heads = {
        "expenses.docx": ("Travel and expenses", NEW),
        "circular-2023.txt": ("Circular: reimbursement of travel and expenses", OLD),
        "parking.md": ("Parking permits", PARKING_NEW),
        "parking-faq-2023.txt": ("Parking FAQ", PARKING_OLD),
        "waste-2023.html": ("Waste calendar", OTHER_OLD),  # older, another subject
    }
    assert replacements(heads) == {
        "circular-2023.txt": ("expenses.docx",),
        "parking-faq-2023.txt": ("parking.md",),
    }


def test_two_dated_documents_on_one_subject_are_both_kept_when_neither_says_it_replaces():
    quiet_new = NEW.replace("Replaces the circular on travel and expenses of 1 March 2023.", "")
    assert replacements({"new.docx": ("Travel", quiet_new), "old.txt": ("Circular", OLD)}) == {}
    # "replaces" naming another date leaves a document of this date alone
    other_date = NEW.replace("1 March 2023", "1 March 2021")
    assert replacements({"new.docx": ("Travel", other_date), "old.txt": ("Circular", OLD)}) == {}


def _index(hashing_encoder) -> SearchIndex:
    documents = [
        Document("staff/expenses.docx", "Travel and expenses", NEW, {}),
        Document("staff/circular-2023.txt", "Circular: travel and expenses", OLD, {}),
    ]
    config = IndexConfig(model="hashing-128", chunk_tokens=64, chunk_overlap=8)
    return SearchIndex.build(documents, config, hashing_encoder)


def test_the_chat_quotes_the_document_that_replaced_the_one_that_matches_best(hashing_encoder):
    index = _index(hashing_encoder)
    documents = list(index.documents)
    question = "what do I receive per kilometre for a business trip with my own car?"
    results = index.search(question, k=5)
    assert {r.doc_id for r in results} == set(documents)
    answer = answer_from(index, question, question, results, threshold=0.0)
    assert "EUR 0.23" in answer.text and "EUR 0.21" not in answer.text
    assert [p.doc_id for p in answer.sources] == ["staff/expenses.docx"]
    # a reader who may not open the newer document is answered from the one there is
    alone = [r for r in results if r.doc_id == "staff/circular-2023.txt"]
    assert "EUR 0.21" in answer_from(index, question, question, alone, threshold=0.0).text


def test_the_result_list_names_the_replacing_document_only_to_a_reader_who_may_open_it(
    hashing_encoder,
):
    readers = {"staff/expenses.docx": ["group:finance"], "staff/circular-2023.txt": ["everyone"]}
    index = _index(hashing_encoder).with_access(readers, "policy")
    question = "kilometre allowance own car"

    def shown(principals):
        found = served_results(
            index, question, weaker=True, filters=Filters.of(principals=principals)
        )
        return {r.doc_id: r.replaced_by for r in found.results.results}

    assert shown(["everyone", "group:finance"]) == {
        "staff/expenses.docx": (),
        "staff/circular-2023.txt": (("staff/expenses.docx", "Travel and expenses"),),
    }
    # a reader outside finance sees the circular alone, and nothing names the newer document
    assert shown(["everyone"]) == {"staff/circular-2023.txt": ()}
