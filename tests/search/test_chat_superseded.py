"""A document that says it replaces another retrieved one: only the newer one is quoted."""

from __future__ import annotations

from search.chat import answer_from
from search.chat.superseded import replaced_documents
from search.chunking import Chunk
from search.config import IndexConfig
from search.index import SearchIndex
from search.ingest.model import Document

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


def _chunks(documents: dict[str, tuple[str, str]]) -> dict[str, list[Chunk]]:
    return {
        d: [Chunk(f"{d}#0", d, title, text, 0, 0, len(text))]
        for d, (title, text) in documents.items()
    }


def test_a_replaced_document_is_named_by_its_date_or_as_all_earlier_ones_on_its_subject():
    documents = _chunks(
        {
            "expenses.docx": ("Travel and expenses", NEW),
            "circular-2023.txt": ("Circular: reimbursement of travel and expenses", OLD),
            "parking.md": ("Parking permits", PARKING_NEW),
            "parking-faq-2023.txt": ("Parking FAQ", PARKING_OLD),
            "waste-2023.html": ("Waste calendar", OTHER_OLD),  # older, another subject
        }
    )
    assert replaced_documents(documents) == {"circular-2023.txt", "parking-faq-2023.txt"}


def test_two_dated_documents_on_one_subject_are_both_kept_when_neither_says_it_replaces():
    quiet_new = NEW.replace("Replaces the circular on travel and expenses of 1 March 2023.", "")
    documents = _chunks({"new.docx": ("Travel", quiet_new), "old.txt": ("Circular", OLD)})
    assert replaced_documents(documents) == set()
    # "replaces" naming another date leaves a document of this date alone
    other_date = NEW.replace("1 March 2023", "1 March 2021")
    documents = _chunks({"new.docx": ("Travel", other_date), "old.txt": ("Circular", OLD)})
    assert replaced_documents(documents) == set()


def test_the_chat_quotes_the_document_that_replaced_the_one_that_matches_best(hashing_encoder):
    documents = [
        Document("staff/expenses.docx", "Travel and expenses", NEW, {}),
        Document("staff/circular-2023.txt", "Circular: travel and expenses", OLD, {}),
    ]
    config = IndexConfig(model="hashing-128", chunk_tokens=64, chunk_overlap=8)
    index = SearchIndex.build(documents, config, hashing_encoder)
    question = "what do I receive per kilometre for a business trip with my own car?"
    results = index.search(question, k=5)
    assert {r.doc_id for r in results} == {d.id for d in documents}
    answer = answer_from(index, question, question, results, threshold=0.0)
    assert "EUR 0.23" in answer.text and "EUR 0.21" not in answer.text
    assert [p.doc_id for p in answer.sources] == ["staff/expenses.docx"]
    # a reader who may not open the newer document is answered from the one there is
    alone = [r for r in results if r.doc_id == "staff/circular-2023.txt"]
    assert "EUR 0.21" in answer_from(index, question, question, alone, threshold=0.0).text
