"""How many finalists each track gets (organiser-set, or proportional with a minimum), and who they are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.scoring import Ranked


def proportional(entries: Mapping[str, int], total: int, minimum: int) -> dict[str, int]:
    """Shares of `total` by complete entries (largest remainder), each track at least `minimum` and never more
    than it has entries; when entries run short, fewer places are filled."""
    allocation = {t: min(minimum, n) for t, n in entries.items()}
    if sum(allocation.values()) > total:
        raise ValueError(f"the minimum per track needs {sum(allocation.values())} places, more than {total}")
    room = {t: n - allocation[t] for t, n in entries.items()}
    remaining = min(total - sum(allocation.values()), sum(room.values()))
    share = {t: remaining * r / (sum(room.values()) or 1) for t, r in room.items()}
    given = {t: min(room[t], int(share[t])) for t in entries}
    remaining -= sum(given.values())
    while remaining > 0:
        open_tracks = [t for t in entries if given[t] < room[t]]
        best = min(open_tracks, key=lambda t: (given[t] - share[t], t))
        given[best] += 1
        remaining -= 1
    return {t: allocation[t] + given[t] for t in entries}


def fixed(counts: Mapping[str, int], entries: Mapping[str, int], total: int) -> dict[str, int]:
    """Organiser-set counts, checked: every track known, the sum exactly the total."""
    unknown = set(counts) - set(entries)
    if unknown:
        raise ValueError(f"unknown tracks: {sorted(unknown)}")
    if sum(counts.values()) != total:
        raise ValueError(f"the counts add up to {sum(counts.values())}, not {total}")
    return {t: counts.get(t, 0) for t in entries}


def select(rankings: Mapping[str, Sequence[Ranked]], allocation: Mapping[str, int]) -> list[Ranked]:
    """The top of each track's ranking, as many as its allocation."""
    return [r for track, ranked in sorted(rankings.items()) for r in ranked[: allocation.get(track, 0)]]
