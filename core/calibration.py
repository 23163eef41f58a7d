"""The rule every self-check calibrates confidence by: the largest uncertainty under which enough passed."""

from __future__ import annotations

from collections.abc import Iterable


def largest_threshold(rows: Iterable[tuple[float, bool]], precision: float, min_count: int) -> float | None:
    """The largest uncertainty u such that of the (uncertainty, passed) rows at or under u, at least
    min_count exist and at least `precision` of them passed; None if no u qualifies (never confident)."""
    threshold, hits = None, 0
    for n, (uncertainty, passed) in enumerate(sorted(rows, key=lambda r: r[0]), start=1):
        hits += bool(passed)
        if n >= min_count and hits / n >= precision:
            threshold = uncertainty
    return threshold
