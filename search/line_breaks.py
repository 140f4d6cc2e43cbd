"""Which line breaks are wraps inside a sentence: the one place that decides it, for the
parsers (``unwrap``: wrapped lines joined again, words hyphenated at a line end made whole) and
for the chat's sentence splitter (``is_wrap``, ``is_list_item``, ``is_table_row``, which read
the breaks of a passage without changing its offsets).

A PDF's text layer (and hard-wrapped plain text) breaks lines where the page ran out of width,
not where the sentence ends: "Do not try" / "to investigate on your own" are one sentence, and a
sentence splitter that trusts the break drops the "Do not". `unwrap` joins a line to the next
when the break is a wrap, and keeps every other break:

- a blank line (a paragraph break) is always kept;
- a line that looks like table structure (a `|` cell separator, a tab, or columns aligned by runs
  of spaces) is never joined to anything;
- a next line that starts a list item (a bullet, `1.`, `a)`) is never joined onto;
- a line is a wrap when the next one starts in lower case (a sentence goes on), or when it is
  nearly as long as the longest lines around it (it ran into the margin) and does not end a
  sentence. A short line that ends without punctuation (a heading) keeps its break.

"inves-" / "tigate" becomes "investigate"; a hyphen the text also uses elsewhere in the same
word ("e-mail" written on one line somewhere) is kept ("e-" / "mail" becomes "e-mail").
"""

from __future__ import annotations

import re

# How full a line must be, relative to the longest nearby lines, to have run into the margin.
FULL_LINE = 0.75
# Lines shorter than this never count as running into the margin (headings, labels).
MIN_FULL_CHARS = 40
# A line that stops mid-sentence before a blank line must be this long to run on past it.
PAGE_BREAK_MIN_CHARS = 60
_WINDOW = 12  # lines either side that set "the longest nearby lines"

LIST_ITEM = re.compile(r"^\s*(?:[-*•▪◦●–·]\s|\(?\d{1,3}[.)]\s|\(?[a-zA-Z][.)]\s)")
_TABLE_ROW = re.compile(r"\||\t|\S {3,}\S")
_SENTENCE_END = re.compile(r"[.!?:;…)\]\"'”’]$")
_HYPHENATED = re.compile(r"([^\W\d_]+)-$")
_WORD_START = re.compile(r"^([^\W\d_]+)")
_HYPHENATED_WORD = re.compile(r"[^\W\d_]+-[^\W\d_]+")


def unwrap(text: str) -> str:
    """`text` with wrapped lines joined and line-end hyphenation undone (see the module doc)."""
    stripped = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lengths = [len(line) for line in stripped]
    hyphenated = {w.lower() for w in _HYPHENATED_WORD.findall(text)}
    out: list[str] = []
    current = ""
    for i, line in enumerate(stripped):
        if not line:  # a blank line: the paragraph ends
            if current:
                out.append(current)
                current = ""
            out.append("")
        elif current and is_wrap(current, line, nearby_width(lengths, i - 1)):
            current = _join(current, line, hyphenated)
        else:
            if current:
                out.append(current)
            current = line
    if current:
        out.append(current)
    return "\n".join(out)


def nearby_width(lengths: list[int], i: int) -> int:
    """The longest of the lines around line ``i`` (``lengths``: every line's length)."""
    return max(lengths[max(0, i - _WINDOW) : i + _WINDOW + 1], default=0)


def is_list_item(line: str) -> bool:
    """A bullet, ``1.`` or ``a)`` opens the line."""
    return bool(LIST_ITEM.match(line))


def is_table_row(line: str) -> bool:
    """A ``|`` cell separator, a tab, or columns aligned by runs of spaces."""
    return bool(_TABLE_ROW.search(line.strip()))


def is_wrap(line: str, following: str, width: int) -> bool:
    """Whether the break between `line` and `following` (both stripped) is a wrap inside one
    paragraph; ``width``: the longest lines around them (``nearby_width``)."""
    if not line or not following:
        return False
    if is_table_row(line) or is_table_row(following) or is_list_item(following):
        return False
    if following[0].islower():
        return True
    if _HYPHENATED.search(line) and following[0].isalpha():
        return True
    full = len(line) >= MIN_FULL_CHARS and len(line) >= FULL_LINE * width
    return full and not _SENTENCE_END.search(line)


def continues_after_break(line: str, following: str) -> bool:
    """Whether a sentence goes on across a blank line (a page break in a PDF): ``line`` is a
    long one that stops mid-sentence and ``following``, the next line with text, starts in
    lower case. ``unwrap`` never joins across a blank line (it sees one page at a time); a
    passage that spans pages is read with this."""
    line, following = line.strip(), following.strip()
    return (
        len(line) >= PAGE_BREAK_MIN_CHARS
        and not _SENTENCE_END.search(line)
        and following[:1].islower()
    )


def _join(line: str, following: str, hyphenated: set[str]) -> str:
    """`line` and `following` as one line; a word split by a line-end hyphen made whole."""
    head = _HYPHENATED.search(line)
    tail = _WORD_START.match(following)
    if head and tail and following[0].islower():
        if f"{head.group(1)}-{tail.group(1)}".lower() in hyphenated:
            return f"{line}{following}"  # the text spells it with the hyphen elsewhere
        return f"{line[:-1]}{following}"
    return f"{line} {following}"
