"""Team-draft interleaving (Radlinski, Kurup and Joachims, CIKM 2008) and its credit.

Two rankings of the same query become one list: in each round the side with fewer results
picked so far (a coin decides a tie) adds its best result not yet in the list. Each result
remembers the side that picked it; a click (or thumbs-up) on it is that side's credit, and per
query the side with more credit wins. Position bias hits both sides alike, since each side
gets every other slot in random order, so the winner says which ranking people prefer
(Chapelle et al., TOIS 2012, found team-draft agrees with offline metrics and needs far fewer
queries than comparing click rates of two separate buckets).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

CHAMPION_SIDE, CHALLENGER_SIDE = "champion", "challenger"
SIDES = (CHAMPION_SIDE, CHALLENGER_SIDE)

Item = TypeVar("Item")


@dataclass(frozen=True)
class Picked:
    """One result of an interleaved list and the side that contributed it."""

    item: object  # a SearchResult (or any ranked item)
    side: str


def coin_for(*parts: object) -> random.Random:
    """The coin of one query's interleaving, seeded from what identifies it (the session and
    the query text): paging through the results, or reloading them, draws the same list."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def team_draft(
    champion: Sequence[Item],
    challenger: Sequence[Item],
    k: int,
    key=lambda item: item,
    coin: random.Random | None = None,
) -> list[Picked]:
    """The first ``k`` results of the team-draft interleaving of two rankings; ``key`` gives an
    item's identity (a document id), so a document both rank appears once, for the side that
    picked it first."""
    coin = coin or random.Random()
    lists = {CHAMPION_SIDE: list(champion), CHALLENGER_SIDE: list(challenger)}
    next_at = dict.fromkeys(SIDES, 0)
    picked_by = dict.fromkeys(SIDES, 0)
    seen: set = set()
    out: list[Picked] = []

    def advance(side: str) -> Item | None:
        ranking = lists[side]
        while next_at[side] < len(ranking) and key(ranking[next_at[side]]) in seen:
            next_at[side] += 1
        return ranking[next_at[side]] if next_at[side] < len(ranking) else None

    while len(out) < k:
        heads = {side: advance(side) for side in SIDES}
        if all(head is None for head in heads.values()):
            break
        a, b = picked_by[CHAMPION_SIDE], picked_by[CHALLENGER_SIDE]
        side = CHAMPION_SIDE if a < b or (a == b and coin.random() < 0.5) else CHALLENGER_SIDE
        if heads[side] is None:  # one ranking is used up: the other fills the list
            side = CHALLENGER_SIDE if side == CHAMPION_SIDE else CHAMPION_SIDE
        item = heads[side]
        seen.add(key(item))
        picked_by[side] += 1
        out.append(Picked(item, side))
    return out


def credit(sides: Mapping[int, str], credited_ranks: Iterable[int]) -> dict[str, int]:
    """Credit per side of one interleaved query: ``sides`` is rank -> side as shown, and
    ``credited_ranks`` the ranks of results that earned credit (clicked or up-voted, and not
    voted down)."""
    out = dict.fromkeys(SIDES, 0)
    for rank in set(credited_ranks):
        if rank in sides:
            out[sides[rank]] += 1
    return out


def winner(credits: Mapping[str, int]) -> str | None:
    """The side with more credit, or None for a tie (no click, or as many each)."""
    a, b = credits.get(CHAMPION_SIDE, 0), credits.get(CHALLENGER_SIDE, 0)
    return None if a == b else (CHAMPION_SIDE if a > b else CHALLENGER_SIDE)
