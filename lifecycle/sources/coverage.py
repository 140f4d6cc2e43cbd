"""Which connected sources the access policy's rules name, and which they miss.

A source's documents follow the policy's default unless a rule names the source
(``source: NAME``), so a misspelt name in a rule leaves that source's documents to the default:
to everyone, where the default is everyone. Nothing here changes who reads what; it is what
``docsearch access check`` and ``docsearch sources add`` tell an administrator, so a typo is
seen when it is made.
"""

from __future__ import annotations

from collections.abc import Iterable

from search.access import Policy


def unknown_sources(policy: Policy, connected: Iterable[str]) -> list[str]:
    """One line per rule that names a source nobody connected (a typo, or one removed)."""
    names = set(connected)
    return [
        f"rule at line {rule.line} of {policy.source} names source {rule.source!r}, which is "
        f"not connected (`docsearch sources list`); its rule covers nothing"
        for rule in policy.rules
        if rule.source and rule.source not in names
    ]


def uncovered_sources(policy: Policy, connected: Iterable[str]) -> list[str]:
    """One line per connected source that no rule names: its documents follow the default."""
    named = {rule.source for rule in policy.rules if rule.source}
    readers = ", ".join(sorted(policy.default)) or "nobody"
    return [
        f"source {name!r}: no rule names it, so its documents follow the default ({readers}); "
        f"add a rule with `source: {name}` to restrict them"
        for name in sorted(set(connected) - named)
    ]
