"""Extractive answers: whole sentences, negations and numbers intact, every part of a question
covered, and a plain "the documents do not say" when nothing answers."""

import pytest

from search.chat import (
    Passage,
    build_answer,
    collapse,
    extractive_answer,
    question_parts,
    refers_back,
    split_sentences,
)
from search.chat.answer import text_of
from search.chunking import Chunk

SECURITY = (
    "5. Reporting incidents\n"
    "Report any suspected security incident, lost device or phishing e-mail to\n"
    "security@northwind-robotics.example or in the #security Slack channel within 1 hour of "
    "noticing it. Do not\n"
    "try to investigate on your own and do not delete the suspicious e-mail. Outside office "
    "hours, call the on-call\n"
    "security number +31 30 555 0199.\n"
)
REVIEW = (
    "1. Liftbot L4 launch\n\n"
    "Tom presented the results of the pilot at Brink Cold Storage in Venlo.\n\n"
    "Decision: the Liftbot L4 launches commercially on 15 September 2025, announced at the "
    "LogiMAT follow-up event. Deliveries start in October.\n\n"
    "Decision: the Liftbot L4 costs EUR 68,000 per robot, with the Fleet OS licence at "
    "EUR 190 per robot per month.\n\n"
    "2. Shelfrunner S2 roadmap\n\n"
    "The wheel tread wear reported by three customers is caused by a softer compound.\n"
)


def _chunks(doc_id: str, text: str, cuts: list[int]) -> list[Chunk]:
    """Chunks of ``text`` starting at ``cuts`` and overlapping the next one by 20 characters,
    so chunk boundaries fall inside sentences."""
    bounds = [*cuts, len(text)]
    return [
        Chunk(
            f"{doc_id}#{i}",
            doc_id,
            "T",
            text[a : min(len(text), b + 20)],
            i,
            a,
            min(len(text), b + 20),
        )
        for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]


def _passage(number: int, chunk: Chunk) -> Passage:
    return Passage(number, chunk.doc_id, chunk.id, "T", chunk.doc_id, chunk.text)


def test_sentences_join_wrapped_lines_and_keep_abbreviations_numbers_and_list_items():
    found = [s.text for s in split_sentences(SECURITY)]
    assert "Do not try to investigate on your own and do not delete the suspicious e-mail." in found
    assert "Outside office hours, call the on-call security number +31 30 555 0199." in found
    tricky = (
        "Limits\nThe standard limit is EUR 3,000. Field engineers, e.g. in Tilburg, have 2.5 "
        "times that.\n- Cash withdrawals are blocked.\n- Cards arrive within 10 working days.\n"
    )
    assert [s.text for s in split_sentences(tricky)] == [
        "The standard limit is EUR 3,000.",
        "Field engineers, e.g. in Tilburg, have 2.5 times that.",
        "Cash withdrawals are blocked.",
        "Cards arrive within 10 working days.",
    ]
    for sentence in split_sentences(SECURITY + tricky):
        assert collapse((SECURITY + tricky)[sentence.start : sentence.end]) == sentence.text


def test_a_page_break_inside_a_sentence_does_not_split_it():
    text = (
        "If an update fails, the robot returns to the previous firmware; open a support ticket\n\n"
        "with the robot serial number.\n\nSite administrators can postpone updates."
    )
    assert [s.text for s in split_sentences(text)][0].endswith(
        "ticket with the robot serial number."
    )


def test_a_table_row_is_read_under_its_heading_and_the_table_s_header_row():
    from search.chat.sentences import with_headings

    text = (
        "Release channels\n\nChannel | Robots | Minimum soak time\n\n"
        "staging | the staging fleet of 12 robots | 48 hours\n\n"
        "canary | about 5% of customer robots | 72 hours\n\nSteps\n\nBuild the image first."
    )
    found = {s.text: heading for s, heading in with_headings(text)}
    header = "Release channels, Channel | Robots | Minimum soak time"
    assert found["canary | about 5% of customer robots | 72 hours"] == header
    assert found["staging | the staging fleet of 12 robots | 48 hours"] == header
    assert found["Build the image first."] == "Steps"  # the table ends with it


def test_negation_is_quoted_intact(hashing_encoder):
    chunks = _chunks("it/security.pdf", SECURITY, [0, 150])
    passages = [_passage(1, chunks[1])]  # the retrieved chunk starts inside a sentence
    answer = extractive_answer(
        "should I delete a suspicious phishing e-mail or investigate it on my own?",
        passages,
        hashing_encoder,
        {"it/security.pdf": chunks},
    )
    assert answer.answered
    assert "Do not try to investigate on your own and do not delete the suspicious e-mail. [1]" in (
        answer.text
    )
    # the citation shows a passage of the document holding the quoted sentence
    assert "Do not\ntry to investigate" in answer.cited()[0].text


def test_no_sentence_starts_or_stops_inside_a_sentence(hashing_encoder):
    chunks = _chunks("meetings/review.docx", REVIEW, [0, 120, 260])
    document = collapse(text_of(chunks))
    whole = {s.text for s in split_sentences(text_of(chunks))}
    for question in ("when does the Liftbot L4 launch?", "what does the Liftbot cost per robot?"):
        passages = [_passage(1, c) for c in chunks[1:2]]
        answer = extractive_answer(
            question, passages, hashing_encoder, {c.doc_id: chunks for c in chunks}
        )
        quoted = [q.strip() for q in answer.text.split(" [1]") if q.strip()]
        assert quoted and all(q in whole and q in document for q in quoted), answer.text


def test_every_part_of_a_two_part_question_is_answered(hashing_encoder):
    question = "when is the Liftbot L4 launching and how much does it cost?"
    assert question_parts(question) == [
        "when is the Liftbot L4 launching",
        "how much does it cost liftbot l4",
    ]
    chunks = _chunks("meetings/review.docx", REVIEW, [0])
    answer = extractive_answer(
        question, [_passage(1, chunks[0])], hashing_encoder, {"meetings/review.docx": chunks}
    )
    assert "15 September 2025" in answer.text and "EUR 68,000" in answer.text


def test_a_question_the_documents_do_not_answer_says_so(hashing_encoder):
    chunks = _chunks("meetings/review.docx", REVIEW, [0])
    answer = extractive_answer(
        "who won the world cup in 2022?",
        [_passage(1, chunks[0])],
        hashing_encoder,
        {"meetings/review.docx": chunks},
        threshold=0.6,
    )
    assert not answer.answered and answer.cited() == []
    assert answer.text == "The documents do not say who won the world cup in 2022."
    assert len(answer.sources) == 1  # the closest passages are still listed


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("and how much does it cost?", True),
        ("what about contractors?", True),
        ("for field engineers?", True),
        ("how long?", True),
        ("does that apply to interns?", True),
        ("minimum password length", False),
        ("when is the Liftbot L4 launching and how much does it cost?", False),
        ("is it allowed to work from Spain?", False),
        ("who won the world cup in 2022?", False),
        ("is there a bonus?", False),
    ],
)
def test_only_a_message_that_refers_back_is_a_follow_up(message, expected):
    assert refers_back(message) is expected


def test_the_language_model_is_not_asked_when_the_documents_do_not_answer(hashing_encoder):
    from search.chat import LLMConfig

    passage = Passage(1, "d", "d#0", "T", "t.md", "Bananas are yellow and curved fruit.")
    unreachable = LLMConfig("http://127.0.0.1:9/v1", "m", timeout=0.1)
    answer = build_answer("kubernetes ingress timeout?", [passage], None, unreachable)
    assert not answer.answered and answer.note == ""  # no call was made, so nothing failed


def test_a_long_document_is_read_around_its_retrieved_passage(hashing_encoder):
    filler = "".join(
        f"Paragraph {i} says nothing about robots at all here.\n\n" for i in range(400)
    )
    fact = "The Liftbot L4 costs EUR 68,000 per robot.\n\n"
    text = filler[:9000] + fact + filler[9000:] + "The Liftbot L4 costs nothing at all today.\n"
    cuts = list(range(0, len(text), 500))
    chunks = _chunks("long.txt", text, cuts)
    near = next(c for c in chunks if "68,000" in c.text)
    answer = extractive_answer(
        "what does the Liftbot L4 cost per robot?",
        [_passage(1, near)],
        hashing_encoder,
        {"long.txt": chunks},
        threshold=0.0,
    )
    assert "EUR 68,000" in answer.text and "nothing at all today" not in answer.text


def test_a_sentence_that_leans_on_the_one_before_is_quoted_with_it(hashing_encoder):
    text = (
        "# Rhine\n\nThe river flows north through Germany. It is here that the Rhine meets the "
        "Neckar and the Main.\n\nNear Basel the river turns. Boats carry coal on it."
    )
    chunks = _chunks("rhine.md", text, [0])
    answer = extractive_answer(
        "where does the Rhine meet the Neckar?",
        [_passage(1, chunks[0])],
        hashing_encoder,
        {"rhine.md": chunks},
        threshold=0.0,
    )
    assert answer.text.startswith(
        "The river flows north through Germany. [1] It is here that the Rhine meets the Neckar"
    )
    # the lead-in's span is part of the cited passage
    assert "flows north through Germany" in answer.cited()[0].text
    # a sentence opening a paragraph is quoted alone: its lead-in would be another topic
    text = "# Rivers\n\nThe canal was dug in 1820.\n\nThey meet the Moselle at Koblenz."
    chunks = _chunks("rivers.md", text, [0])
    alone = extractive_answer(
        "where do they meet the Moselle?",
        [_passage(1, chunks[0])],
        hashing_encoder,
        {"rivers.md": chunks},
        threshold=0.0,
        max_sentences=1,
    )
    assert alone.text == "They meet the Moselle at Koblenz. [1]"
