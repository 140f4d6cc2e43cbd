"""The evidence the chat weighs before it answers, and the model that weighs it."""

import pytest

from search.chat.evidence import (
    EVIDENCE,
    AnswerabilityModel,
    Evidence,
    asked_kind,
    conflicts,
    declines,
    foreign_share,
    gather,
    holds_kind,
    specifics,
    stored_model,
)


def _evidence(**given) -> Evidence:
    return Evidence(**(dict.fromkeys(EVIDENCE, 0.0) | given))


def test_what_pins_a_question_to_one_thing_are_its_names_codes_and_numbers():
    assert specifics("What is the maximum payload of the Shelfrunner S3?") == ["shelfrunner", "s3"]
    assert specifics("When will Fleet OS 4.4 be released?") == ["fleet", "os", "4.4"]
    assert specifics("how many days of leave do I get?") == []


def test_the_quoted_sentences_must_state_the_names_the_question_asks_about():
    question = "What is the maximum payload of the Shelfrunner S3?"
    other_model = ["Shelfrunner S2 specifications: Maximum payload 600 kg."]
    found = gather(question, other_model, other_model, 1.0, 0.7, 0.6, other_model)
    assert found.named == 0.5  # "Shelfrunner" yes, "S3" no
    plural = gather("can I deploy on a Friday?", ["No deploys on Fridays."], ["x"], 1, 1, 1)
    assert plural.named == 1.0  # a name is stated as a word's start
    money = gather("who approves above 25000 euro?", ["Above EUR 25,000: the CFO."], ["x"], 1, 1, 1)
    assert money.named == 1.0  # thousands separators aside


def test_coverage_weighs_a_question_term_no_candidate_uses_the_most():
    question = "how many vacation days per year?"
    quoted = ["Overtime is paid at 150% per day."]
    everything = quoted + ["The year ends in December.", "Days off are booked in the HR tool."]
    found = gather(question, quoted, everything, 0.9, 0.6, 0.4, quoted)
    assert 0 < found.covered < found.found < 1  # "vacation" is in no document at all
    assert found.missing >= 1 - found.found > 0  # and it is the heaviest term missed


def test_a_question_in_another_language_is_told_from_english_and_from_typos():
    known = {"liftbot", "vpn"}
    assert foreign_share("Wie viel kostet die Lizenz für einen Liftbot pro Monat?", known) > 0.5
    assert foreign_share("wat does vpn eror 13801 mean", known) < 0.5
    assert foreign_share("How long does a Liftbot take to charge?", known) == 0.0


def test_what_kind_of_answer_a_question_asks_for():
    assert asked_kind("How many vacation days do I get?") == "number"
    assert asked_kind("What is the list price of a Shelfrunner S2?") == "money"
    assert asked_kind("What does a certificate of good conduct cost?") == "money"
    assert asked_kind("What percentage of my salary is the pension contribution?") == "percent"
    assert asked_kind("How many approvals does a firmware change need?") == "number"
    assert asked_kind("When is the summer party?") == "time"
    assert asked_kind("Who approves purchases above EUR 25,000?") == "who"
    assert asked_kind("May I bring my dog?") == ""


def test_the_model_declines_weak_evidence_but_never_a_question_in_another_language():
    model = AnswerabilityModel({"score": 10.0}, -8.0, 0.5)  # answers from a score of 0.8
    assert declines(_evidence(score=0.5), model)
    assert not declines(_evidence(score=0.9), model)
    assert not declines(_evidence(score=0.5, foreign=0.7), model)
    # an answer about a neighbouring model, version or year is declined whatever it scores
    assert declines(_evidence(score=0.9, conflict=1.0), model)
    assert declines(_evidence(score=0.9, no_amount=1.0), model)  # "cost?" with no amount


def test_a_question_for_an_amount_needs_an_amount_in_the_quoted_sentences():
    question = "How much does a certificate of good conduct cost?"
    elsewhere = ["A certificate of good conduct is applied for online at Justis."]
    assert gather(question, elsewhere, elsewhere, 1, 1, 1).no_amount == 1.0
    priced = ["Certificates: a certificate of good conduct costs EUR 41.35."]
    assert gather(question, priced, priced, 1, 1, 1).no_amount == 0.0
    count = ["Full-time employees receive twenty-five days."]  # not an amount of money
    assert gather("How many days of leave?", count, count, 1, 1, 1).no_amount == 0.0


def test_the_stored_model_weighs_known_evidence_and_a_bad_file_is_refused():
    stored = stored_model()
    assert stored is not None and set(stored.weights) <= set(EVIDENCE)
    assert 0 < stored.cutoff < 1
    with pytest.raises(ValueError, match="unknown evidence"):
        AnswerabilityModel.from_json({"weights": {"vibes": 1.0}, "intercept": 0, "cutoff": 0.5})


def test_an_amount_a_share_or_a_count_is_what_answers_a_question_of_that_kind():
    assert not holds_kind("money", "A certificate is applied for online at Justis.")
    assert holds_kind("money", "A certificate costs EUR 41.35.")
    assert holds_kind("money", "Pilot sites cut their energy costs by 11%.")
    assert holds_kind("money", "Replacing a lost badge costs nothing.")  # none to pay is an answer
    assert holds_kind("money", "Parking is included in the staff contract.")
    assert not holds_kind("percent", "Employer's share of the ABP pension contribution.")
    assert holds_kind("percent", "You pay 4% of your pensionable salary.")
    assert holds_kind("number", "A firmware change needs two approvals.")


def test_sentences_about_a_neighbouring_model_version_or_year_conflict_with_the_question():
    s2 = ["Shelfrunner S2 datasheet: Maximum payload 600 kg."]
    assert conflicts("What is the maximum payload of the Shelfrunner S3?", s2)
    assert not conflicts("What is the maximum payload of the Shelfrunner S2?", s2)
    assert conflicts("When will Fleet OS 4.4 be released?", ["Fleet OS 4.2 ships on 8 April."])
    assert conflicts("What does a permit cost in 2027?", ["Rates 2026: a permit costs EUR 78."])
    assert not conflicts("What does a permit cost?", ["Rates 2026: a permit costs EUR 78."])
    # a quantity in the question is a condition, not a thing of its own
    assert not conflicts("May I keep a gift worth 30 euros?", ["Gifts up to EUR 50 are fine."])
    found = gather(
        "When will Fleet OS 4.4 be released?", ["Fleet OS 4.2: 8 April."], ["x"], 1, 1, 1
    )
    assert found.conflict == 1.0
