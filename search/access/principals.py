"""Who a reader is, in the words an access policy uses: ``everyone``, ``user:NAME``, ``group:NAME``.

A document lists the principals that may read it; a person holds a set of principals (always
``everyone``, their own ``user:`` and one ``group:`` per group). They may read the document
when the two sets meet: the model Onyx and most enterprise search engines use for document
ACLs, and the one retrieval filters on (``Filters(principals=...)``).
"""

from __future__ import annotations

from collections.abc import Iterable

EVERYONE = "everyone"
USER = "user:"
GROUP = "group:"
KINDS = f"{EVERYONE}, {USER}NAME or {GROUP}NAME"


def user_principal(name: str) -> str:
    return f"{USER}{name}"


def group_principal(name: str) -> str:
    return f"{GROUP}{name}"


def principals_of(name: str, groups: Iterable[str] = ()) -> frozenset[str]:
    """Everything a signed-in person reads as: everyone, their user, each of their groups."""
    return frozenset({EVERYONE, user_principal(name), *(group_principal(g) for g in groups if g)})


def principal_problem(value: object) -> str | None:
    """Why ``value`` is not a principal (None when it is one)."""
    if not isinstance(value, str):
        return f"{value!r} is not a principal; write {KINDS}"
    if value == EVERYONE:
        return None
    for prefix in (USER, GROUP):
        if value.startswith(prefix):
            name = value[len(prefix) :]
            if not name or any(c.isspace() or not c.isprintable() for c in name):
                return f"{value!r} needs a name without spaces after {prefix!r}"
            return None
    return f"{value!r} is not a principal; write {KINDS}"
