"""Whether the quoted sentences answer the question: evidence beyond one score, and the
learned rule that weighs it.

The extractive answer picks the sentences that match the question best; whether they answer
it is a separate question. A near miss ("how many vacation days?" matched with the on-call
handbook's overtime rate) can score high on meaning alone. The evidence (``EVIDENCE``), each
part between 0 and 1 or a plain score:

- ``score``: the best sentence's match (``extractive._scores``);
- ``similarity``: its cosine with the question;
- ``covered``: the IDF-weighted share of the question's terms the quoted sentences state (with
  their headings and their documents' titles);
- ``found``: the same share over everything the answer could quote from (the retrieved
  documents): a term no retrieved document uses means they are about something else;
- ``missing``: the heaviest single question term the quoted sentences lack, as a share;
- ``named``: the share of the question's names, codes and numbers (``specifics``: "S3", "2027",
  "Japan") that the quoted sentences, their headings or titles state;
- ``named_in_sentence``: the same share in the quoted sentences and their headings alone;
- ``named_anywhere``: the same share anywhere in what the answer could quote from (a question
  about the "Shelfrunner S3" answered from documents that never mention an S3);
- ``conflict``: 1 when the quoted sentences (with headings and titles) lack a code, version or
  year the question pins ("Shelfrunner S3", "Fleet OS 4.4", "in 2027") but state another of the
  same shape ("S2", "4.2", "2026"): they answer about a neighbouring thing;
- ``no_amount``: 1 when the question asks for an amount of money or a percentage ("what does
  the certificate cost?") and the quoted sentences state none ("apply for it at Justis");
- ``agree``: 1 when the best sentence comes from the best-ranked result (retrieval and the
  sentence scorer agree), else 0;
- ``typed``: 1 when the question asks for no particular kind of answer or the quoted sentences
  hold one of the kind it asks for (a number for "how many", an amount of money for "what does
  it cost", a percentage, a time for "when", a name or role for "who"), else 0;
- ``relevance``: the top result's calibrated relevance (0 to 1), when the search gave one;
- ``foreign``: the share of the question's words that are neither common English nor used by
  the documents (``foreign_share``).

``declines`` asks a logistic regression over some of them (``AnswerabilityModel``), fitted by
``evaluation/answerability_fit.py`` (``make fit-answerability``) on the dev halves of several
labeled question sets with unanswerable questions, and stored with the product
(``answerability.json``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from search.chat.questions import THOUSANDS, stems, words

EVIDENCE = (
    "score",
    "similarity",
    "covered",
    "found",
    "missing",
    "named",
    "named_in_sentence",
    "named_anywhere",
    "conflict",
    "no_amount",
    "agree",
    "typed",
    "relevance",
    "foreign",
)
MODEL_FILE = Path(__file__).with_name("answerability.json")
FOREIGN = 0.5  # a question with at least this share of ``foreign_share`` words is not English

_NUMBER = re.compile(r"\d")
_TIME_WORDS = (
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday week weeks month months year "
    "years day days daily weekly monthly yearly annually quarter morning evening night noon "
    "midnight before after within until by"
).split()
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "hundred thousand million first second third fourth fifth sixth half double twice dozen"
).split()
_ROLES = (
    "manager director officer head lead team chief owner cfo ceo cto coo hr it board committee "
    "department desk administrator admin engineer supervisor approver approves council mayor "
    "clerk service office staff"
).split()
_NUMBER_ASK = re.compile(
    r"\bhow (?:many|much|long|often|old|far|big|large|heavy|fast|high|tall|wide|soon)\b|"
    r"\b(?:what|which) (?:is |are |was )?(?:the )?(?:\w+ )?(?:price|cost|fee|rate|limit|number|"
    r"amount|percentage|share|size|capacity|weight|load|payload|speed|budget|threshold|"
    r"maximum|minimum|deadline|version)s?\b",
)
_PERCENT_ASK = re.compile(r"\b(?:percentage|percent|interest rate)\b|%")
_MONEY_ASK = re.compile(
    r"\b(?:cost|costs|price|prices|priced|fee|fees|tariff|tariffs|charge|charges|salary|wage|"
    r"allowance|budget|per diem|reimbursed|worth|pay for|money)\b"
)
_PERCENT = re.compile(r"%|\bper ?cent\b")
_MONEY = re.compile(  # an amount, or that there is none to pay
    r"\b(?:eur|euro|euros|usd|gbp|chf|sek|dkk|nok)\b|[€$£]|\bfree\b|\bcosts? nothing\b|"
    r"\bincluded\b|\bno (?:extra |additional )?(?:cost|charge|fee)s?\b"
)


def asked_kind(question: str) -> str:
    """What kind of answer ``question`` asks for: "percent", "money", "number", "time", "who"
    or "" (any). A percentage or an amount of money is a number of that unit ("what does
    the certificate cost?" is not answered by "apply at Justis")."""
    lowered = " ".join(question.lower().split())
    if _PERCENT_ASK.search(lowered):
        return "percent"
    if _NUMBER_ASK.search(lowered):
        return "money" if _MONEY_ASK.search(lowered) else "number"
    if re.search(r"\bwhat (?:does|do|did|will|would) .*\bcost\b", lowered):
        return "money"
    first = words(lowered)[:1]
    if first == ["when"] or re.search(r"\b(?:what|which) (?:date|day|time|year|month)\b", lowered):
        return "time"
    if first in (["who"], ["whom"]) or re.search(r"\bwho\b", lowered):
        return "who"
    return ""


def holds_kind(kind: str, text: str) -> bool:
    """Whether ``text`` states an answer of ``kind`` (``asked_kind``)."""
    if not kind:
        return True
    found = words(text)
    lowered = text.lower()
    if kind == "percent":
        return bool(_PERCENT.search(lowered))
    if kind == "money":  # an amount, or a share of one ("cut costs by 11%")
        return bool(_MONEY.search(lowered) or _PERCENT.search(lowered))
    if kind == "number":
        return bool(_NUMBER.search(text)) or any(w in _NUMBER_WORDS for w in found)
    if kind == "time":
        return bool(_NUMBER.search(text)) or any(w in _TIME_WORDS for w in found)
    named = re.search(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w-]+", text)  # a name past the start
    return bool(named) or any(w in _ROLES for w in found)


_TOKEN = re.compile(r"[\w][\w.,-]*[\w]|\w")


def specifics(question: str) -> list[str]:
    """What pins a question to one thing: names (capitalised past its first word), codes and
    numbers ("S3", "4.4", "2027", "NW-CD2-CT"), lower-cased."""
    tokens = _TOKEN.findall(question)
    return [
        t.lower()
        for i, t in enumerate(tokens)
        if any(c.isdigit() for c in t) or (i > 0 and t[:1].isupper() and t.lower() != "i")
    ]


def _named_share(question: str, quoted_contexts: Sequence[str]) -> float:
    """The share of the question's ``specifics`` the quoted sentences state (1 with none)."""
    wanted = specifics(question)
    if not wanted:
        return 1.0
    text = THOUSANDS.sub("", " ".join(quoted_contexts).lower())
    return sum(_states(text, THOUSANDS.sub("", t)) for t in wanted) / len(wanted)


def _states(text: str, token: str) -> bool:
    """Whether ``text`` states ``token``: a number or code exactly, a name as a word's start
    ("Friday" in "Fridays", "Liftbot" in "Liftbots")."""
    end = r"(?![\w-])" if any(c.isdigit() for c in token) else ""
    return bool(re.search(rf"(?<![\w.-]){re.escape(token)}{end}", text))


_CODE = re.compile(r"(?=.*\d)(?=.*[a-z])[a-z\d-]+|\d+(?:\.\d+)+|(?:19|20)\d\d")


def _shape(token: str) -> str:
    return re.sub(r"[a-z]+", "a", re.sub(r"\d+", "9", token))


def conflicts(question: str, quoted_contexts: Sequence[str]) -> bool:
    """Whether the quoted contexts lack a code, version or year ``question`` pins (``_CODE``:
    "s3", "4.4", "2027"; a plain quantity such as "30 euros" is a condition, not a pin) but
    state another of the same shape ("s2", "4.2", "2026")."""
    text = THOUSANDS.sub("", " ".join(quoted_contexts).lower())
    stated = {t for t in _TOKEN.findall(text) if _CODE.fullmatch(t)}
    for pin in (t for t in specifics(question) if _CODE.fullmatch(t)):
        if not _states(text, pin) and any(_shape(s) == _shape(pin) for s in stated - {pin}):
            return True
    return False


def foreign_share(question: str, known: set[str]) -> float:
    """The share of the question's words (numbers aside) that are neither common English nor
    ``known`` (the words of the documents it is answered from): about 0 for an English
    question, a few tenths with typos, most of them for a question in another language."""
    from search.retrieval.spelling import common_english

    english = common_english()
    asked = [w for w in words(question) if not w.isdigit()]
    if not asked:
        return 0.0
    return sum(w not in english and w not in known for w in asked) / len(asked)


@dataclass(frozen=True)
class Evidence:
    score: float
    similarity: float
    covered: float
    found: float
    missing: float
    named: float
    named_in_sentence: float
    named_anywhere: float
    conflict: float
    no_amount: float
    agree: float
    typed: float
    relevance: float
    foreign: float

    def as_dict(self) -> dict[str, float]:
        return {name: round(float(getattr(self, name)), 4) for name in EVIDENCE}


def weigh_terms(question: str, bags: Iterable[set[str]]) -> dict[str, float]:
    """Each question term's IDF over ``bags`` (the candidate sentences): a term absent from
    every one weighs the most."""
    bags = list(bags)
    asked = stems(question)
    return {t: math.log(1 + len(bags) / (1 + sum(t in bag for bag in bags))) for t in asked}


def share(weights: Mapping[str, float], present: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 1.0


def gather(
    question: str,
    quoted_contexts: Sequence[str],
    all_contexts: Sequence[str],
    best_score: float,
    best_similarity: float,
    relevance: float | None,
    quoted_sentences: Sequence[str] = (),
    best_from_top: bool = True,
    all_bags: Sequence[set[str]] | None = None,
) -> Evidence:
    """The evidence that the quoted sentences (``quoted_contexts``: each with its heading and
    title) answer ``question``, out of ``all_contexts`` the answer could quote (``all_bags``:
    their stems, when the caller has them already)."""
    bags = [stems(text) for text in all_contexts] if all_bags is None else all_bags
    weights = weigh_terms(question, bags)
    total = sum(weights.values()) or 1.0
    quoted = set().union(*(stems(text) for text in quoted_contexts)) if quoted_contexts else set()
    anywhere = set().union(*bags) if bags else set()
    anywhere_words = {w for text in all_contexts for w in words(text)}
    lacking = [w for t, w in weights.items() if t not in quoted]
    kind = asked_kind(question)
    typed = any(holds_kind(kind, text) for text in quoted_contexts)
    return Evidence(
        score=best_score,
        similarity=best_similarity,
        covered=share(weights, quoted),
        found=share(weights, anywhere),
        missing=max(lacking, default=0.0) / total,
        named=_named_share(question, quoted_contexts),
        named_in_sentence=_named_share(question, quoted_sentences),
        named_anywhere=_named_share(question, all_contexts),
        conflict=float(conflicts(question, quoted_contexts)),
        no_amount=float(kind in ("money", "percent") and not typed),
        agree=float(best_from_top),
        typed=float(typed),
        relevance=1.0 if relevance is None else relevance,
        foreign=foreign_share(question, anywhere_words),
    )


@dataclass(frozen=True)
class AnswerabilityModel:
    """P(the quoted sentences answer the question) = logistic(intercept + weights . evidence)."""

    weights: Mapping[str, float]  # over some of ``EVIDENCE``
    intercept: float
    cutoff: float  # answer when the probability is at least this

    def probability(self, evidence: Evidence) -> float:
        z = self.intercept + sum(w * getattr(evidence, n) for n, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def answers(self, evidence: Evidence) -> bool:
        return self.probability(evidence) >= self.cutoff

    def to_json(self) -> dict:
        return {"weights": dict(self.weights), "intercept": self.intercept, "cutoff": self.cutoff}

    @classmethod
    def from_json(cls, data: Mapping) -> AnswerabilityModel:
        unknown = set(data["weights"]) - set(EVIDENCE)
        if unknown:
            raise ValueError(f"answerability model weighs unknown evidence: {sorted(unknown)}")
        return cls(dict(data["weights"]), float(data["intercept"]), float(data["cutoff"]))


@lru_cache(maxsize=1)
def stored_model() -> AnswerabilityModel | None:
    """The fitted model stored with the product; None before one is fitted."""
    if not MODEL_FILE.is_file():
        return None
    return AnswerabilityModel.from_json(json.loads(MODEL_FILE.read_text()))


RULED_BY = ("foreign", "conflict", "no_amount")  # the evidence ``ruled`` reads


def ruled(evidence: Evidence) -> bool | None:
    """What the rules decide before the model: a question mostly in another language
    (``FOREIGN``) is never declined on this evidence (the English encoder's similarity says
    little about it; only retrieval, with no result above the relevance floor, declines it);
    one whose quoted sentences answer about a neighbouring model, version or year
    (``conflict``: "S2" for an "S3" question) always is, and so is one that asks for an
    amount or a percentage the quoted sentences do not state (``no_amount``). None: the model
    decides."""
    if evidence.foreign >= FOREIGN:
        return False
    if evidence.conflict or evidence.no_amount:
        return True
    return None


def declines(evidence: Evidence, model: AnswerabilityModel | None = None) -> bool:
    """Whether to say the documents do not say: as the rules decide (``ruled``), else when the
    model (the stored one by default) finds the quoted sentences unlikely to answer."""
    decided = ruled(evidence)
    if decided is not None:
        return decided
    model = model or stored_model()
    return model is not None and not model.answers(evidence)
