"""What a message asks: its content terms, whether it refers back to the conversation, and
its parts when it asks several things at once.

A message is a follow-up only when it points back: it opens like one ("and ...", "what
about ..."), uses a pronoun for something said before ("how much does it cost?"), or is an
ellipsis ("for contractors?", "how long?"). Anything else is a new question and is searched as
typed, so an old topic never leaks into it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

_WORD = re.compile(r"\w+")
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    get got had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours many much tell please know need needs may might must shall""".split()
)
# Negations are kept as terms: "not" changes what a sentence says.
_PRONOUNS = frozenset("it its they them their theirs he him his she her hers".split())
_DEMONSTRATIVES = frozenset("this these those".split())
_DUMMY_IT = re.compile(
    r"\bit\s+(?:is|'s)?\s*(?:allowed|possible|ok|okay|true|necessary|required|mandatory|"
    r"permitted|fine|forbidden)\b|\bis\s+it\s+(?:allowed|possible|ok|okay|true|necessary|"
    r"required|mandatory|permitted|fine|forbidden)\b"
)
_THAT_BACK = re.compile(
    r"\bthat(?:\s*\?|\s*$|\s+(?:is|was|does|do|cost|costs|mean|means|apply|"
    r"applies|include|includes|take|takes|work|works)\b)"
)
_OPENERS = ("and ", "and?", "what about", "how about", "what if", "same for", "also ", "but ")
_PREPOSITIONS = ("for ", "in ", "on ", "at ", "with ", "during ", "after ", "before ", "to ")
_WH = frozenset("what when where who whom which why how".split())
_PART_BREAK = re.compile(
    r"\?\s+|[,;]?\s+(?:and|but|also)\s+(?=(?:how|what|when|where|who|which|why|is|are|do|does|"
    r"did|can|could|should|will|would)\b)",
    re.IGNORECASE,
)


THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def words(text: str) -> list[str]:
    """Lower-cased words; a number written with thousands separators is one word ("25,000"
    and "25000" meet)."""
    return _WORD.findall(THOUSANDS.sub("", text.lower()))


def content_terms(text: str) -> list[str]:
    """Lower-cased words that carry meaning, in order, without repeats."""
    return list(dict.fromkeys(w for w in words(text) if w not in STOPWORDS))


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> set[str]:
    """The stems of ``text``'s content terms ("costs" and "cost" meet)."""
    return set(_stemmer().stemWords(content_terms(text)))


def refers_back(message: str) -> bool:
    """Whether ``message`` only makes sense with the conversation before it."""
    lowered = " ".join(message.lower().split())
    found = words(lowered)
    if not found:
        return False
    if lowered.startswith(_OPENERS) or lowered.startswith(_PREPOSITIONS):
        return True
    pointing = [i for i, w in enumerate(found) if w in _PRONOUNS or w in _DEMONSTRATIVES]
    if _THAT_BACK.search(lowered):
        pointing.append(found.index("that"))
    if _DUMMY_IT.search(lowered) and found.count("it") == 1:
        pointing = [i for i in pointing if found[i] != "it"]
    if pointing and not _named_before(found, min(pointing)):
        return True
    # an ellipsis: "how long?", "when?", "why not?"
    return found[0] in _WH and len(content_terms(lowered)) <= 1


def _named_before(found: list[str], position: int) -> bool:
    """Whether the message names what its pronoun points to before it: "when is the Liftbot
    L4 launching and how much does it cost?" needs no earlier turn."""
    return len([w for w in found[:position] if w not in STOPWORDS]) >= 2


def rewrite_question(question: str, history: Sequence[str], max_terms: int = 6) -> str:
    """The text to search for ``question``: as typed, unless it refers back to the previous
    turn, whose (already rewritten) question lends its content terms."""
    if not history or not refers_back(question):
        return question
    own = set(content_terms(question))
    extra = [t for t in _referents(question, history[-1]) if t not in own][:max_terms]
    return f"{question} {' '.join(extra)}" if extra else question


def _is_name(word: str) -> bool:
    """Capitalised ("Liftbot") or letters with digits ("L4", "S2"); not a plain number."""
    return word[:1].isupper() or (any(c.isdigit() for c in word) and not word.isdigit())


def _referents(question: str, previous: str) -> list[str]:
    """What a follow-up borrows from the previous question: for a pronoun ("how heavy is its
    battery?", "and what is its maximum load?") the names in it ("Liftbot L4", see
    ``_is_name``), when it has any, never what was asked about them (its price); for an
    ellipsis ("what about in US cities?") its content terms, less those the ellipsis replaces
    (``_replaced``: "in London" gives way to "in US cities")."""
    terms = content_terms(previous)
    names = {w.lower() for w in _WORD.findall(previous) if _is_name(w)}
    named = [t for t in terms if t in names]
    pointing = any(w in _PRONOUNS or w in _DEMONSTRATIVES for w in words(question))
    if named and pointing:
        return named
    lowered = question.lower().lstrip()
    if lowered.startswith(_OPENERS) or lowered.startswith(_PREPOSITIONS):
        replaced = _replaced(question, previous)
        return [t for t in terms if t not in replaced]
    return named or terms


_DETERMINERS = frozenset("a an the my our your his her their this that these those".split())
_PHRASE = re.compile(r"[\w-]+|[^\w\s]")


def _replaced(ellipsis: str, previous: str) -> set[str]:
    """The previous question's terms an ellipsis puts something else in place of: the words
    of its phrase with the same preposition ("how long must firmware soak on staging?" - "and
    on canary?": "staging"), and its codes with the same letters ("error E101" - "and E102?":
    "e101"; "Q1" - "and Q3?")."""
    asked = [t.lower() for t in _PHRASE.findall(ellipsis)]
    before = [t.lower() for t in _PHRASE.findall(previous)]
    out = set()
    for preposition in {t for t in asked if f"{t} " in _PREPOSITIONS}:
        for i, token in enumerate(before):
            if token == preposition:
                out.update(_phrase_after(before, i + 1))
    codes = [t for t in asked if _code_shape(t)]
    out.update(t for t in before if _code_shape(t) and _code_shape(t) in map(_code_shape, codes))
    return out - set(asked)


def _phrase_after(tokens: list[str], start: int) -> list[str]:
    """The content words from ``start`` up to the next function word or punctuation, past
    any leading determiner ("for a P1 ticket" -> "p1", "ticket")."""
    while start < len(tokens) and tokens[start] in _DETERMINERS:
        start += 1
    out = []
    for token in tokens[start:]:
        if token in STOPWORDS or not _WORD.fullmatch(token):
            break
        out.append(token)
    return out


def _code_shape(token: str) -> str:
    """A code's letters and where its digits go ("e101" -> "e9", "q1" -> "q9"); "" for a word
    or a plain number."""
    if not (any(c.isdigit() for c in token) and any(c.isalpha() for c in token)):
        return ""
    return re.sub(r"\d+", "9", token)


def question_parts(question: str) -> list[str]:
    """The questions a message asks: "when is X launching and how much does it cost?" is two.
    A later part that refers back ("it") borrows the content terms of the first."""
    pieces = [p.strip(" ,;?") for p in _PART_BREAK.split(question)]
    pieces = [p for p in pieces if content_terms(p)]
    if len(pieces) <= 1:
        return [question]
    first = pieces[0]
    out = [first]
    for piece in pieces[1:]:
        out.append(rewrite_question(piece, [first]) if refers_back(piece) else piece)
    return out
