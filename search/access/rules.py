"""One rule of an access policy: which documents its ``path`` covers, and how specific it is.

A ``path`` without a wildcard is a **prefix** in whole path segments: ``hr`` and ``hr/`` both
cover ``hr/leave.pdf`` and everything below ``hr/``, never ``hr-public/``; a full file path
covers that file. A ``path`` with ``*``, ``?`` or ``[...]`` is a **glob** over the document's
path: ``*`` and ``?`` stay inside one segment, ``**`` crosses segments, ``[abc]`` / ``[!abc]``
are character classes; like a prefix, a glob that matches a folder covers what is inside it
(``*/private`` covers ``sales/private/plan.pdf``).

Specificity decides between rules that cover the same document: a prefix counts its
characters, a glob its literal characters (a class counts as one, wildcards as none), so
``hr/payroll/`` (10) beats ``hr/`` (2) and ``hr/*.pdf`` (7) beats ``hr/`` but loses to
``hr/payroll/``. On a tie the rule written later in the file wins (as in ``.gitignore``).

A rule with a ``source`` covers documents of that connected source only, its ``path`` (none:
the whole source) taken inside the source; a rule without one covers the documents folder
only. So a source's documents follow the default unless a rule names the source.

Matching is case-sensitive unless the policy says otherwise (``case_sensitive: false``, or a
documents folder on a file system that does not tell ``HR`` from ``hr``): then both sides are
compared case-folded, so ``hr/`` covers ``HR/upper.txt``. Source names are compared exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WILDCARDS = frozenset("*?[")


def normalise_path(path: str) -> str:
    """A rule path as documents' paths are written: POSIX, relative, no trailing slash."""
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.strip("/")


def path_problem(path: str) -> str | None:
    """Why a rule path cannot be used (None when it can)."""
    if not normalise_path(path):
        return "an empty path; to change who reads documents no rule matches, edit `default:`"
    if ".." in normalise_path(path).split("/"):
        return f"{path!r} steps out with '..'; paths are relative to the documents folder"
    if any(c in WILDCARDS for c in path):
        try:
            _compile(normalise_path(path))
        except re.error:
            return f"{path!r} is not a valid glob (an unclosed '['?)"
    return None


@dataclass(frozen=True)
class Rule:
    """``allow`` may read the documents ``path`` covers; ``line`` is where it was written."""

    path: str  # normalised
    allow: frozenset[str]
    line: int = 0
    order: int = 0  # position in the file: the later of two equally specific rules wins
    source: str = ""  # a connected source's name: the rule covers its documents only

    @property
    def is_glob(self) -> bool:
        return any(c in WILDCARDS for c in self.path)

    @property
    def specificity(self) -> tuple[int, int]:
        literal = len(_literal_chars(self.path)) if self.is_glob else len(self.path)
        return literal, self.order

    def covers(self, document_path: str, source: str = "", case_sensitive: bool = True) -> bool:
        if source != self.source:
            return False
        if not self.path:  # a source's rule without a path: the whole source
            return True
        if self.is_glob:
            return _compile(self.path, case_sensitive).fullmatch(document_path) is not None
        mine = self.path if case_sensitive else self.path.casefold()
        path = document_path if case_sensitive else document_path.casefold()
        return path == mine or path.startswith(mine + "/")


def most_specific(
    rules: tuple[Rule, ...], document_path: str, source: str = "", case_sensitive: bool = True
) -> Rule | None:
    """The rule that decides for ``document_path`` (inside ``source``, when it is a connected
    source's document): the most specific that covers it."""
    best: Rule | None = None
    for rule in rules:
        if rule.covers(document_path, source, case_sensitive) and (
            best is None or rule.specificity > best.specificity
        ):
            best = rule
    return best


_PATTERNS: dict[tuple[str, bool], re.Pattern] = {}


def _compile(glob: str, case_sensitive: bool = True) -> re.Pattern:
    pattern = _PATTERNS.get((glob, case_sensitive))
    if pattern is None:
        # a glob that matches a folder covers what is inside it, as a prefix does
        flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
        pattern = re.compile(_translate(glob) + "(?:/.*)?", flags)
        _PATTERNS[(glob, case_sensitive)] = pattern
    return pattern


def _translate(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = glob.find("]", i + 2 if glob[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0:
                raise re.error(f"unclosed '[' in {glob!r}")
            body = glob[i + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace(r"\-", "-")
            out.append(f"[^/{body}]" if negate else f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _literal_chars(glob: str) -> str:
    """The characters of a glob that must appear as written (a class counts as one)."""
    literal = re.sub(r"\[!?\]?[^\]]*\]", "#", glob)
    return literal.replace("*", "").replace("?", "")
