"""Work units of geo projects: a raster with many instances is reviewed as several compact units.

A unit is a Raster row that shares its file, CRS, transform and size with the source raster and holds
a spatially compact subset of its instances, so leases, queues and predictions work per unit unchanged
and two annotators can review one large orthophoto at once. Unit rows are named `<raster>#uNNN`.
"""

from __future__ import annotations

import re

import numpy as np

UNIT_SUFFIX = re.compile(r"#u\d{3,}$")


def unit_name(raster_name: str, index: int) -> str:
    """The row name of unit `index` (0-based) of a raster."""
    return f"{raster_name}#u{index + 1:03d}"


def source_name(name: str) -> str:
    """The raster a row belongs to: its own name, or the source raster's name for a unit row."""
    return UNIT_SUFFIX.sub("", name)


def split_units(points: np.ndarray, max_items: int) -> list[np.ndarray]:
    """Split (n, 2) instance centroids (any planar units) into groups of at most `max_items`, each a
    compact block: halve along the longer extent at the median until every group fits (a k-d split).
    Returns sorted index arrays in k-d order."""
    if max_items < 1:
        raise ValueError(f"a work unit holds at least one instance (not {max_items})")
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    groups, pending = [], [np.arange(len(points))]
    while pending:
        group = pending.pop()
        if len(group) <= max_items:
            groups.append(group)
            continue
        extent = np.ptp(points[group], axis=0)
        axis = int(np.argmax(extent))
        order = group[np.argsort(points[group, axis], kind="stable")]
        half = len(order) // 2
        pending.extend([order[half:], order[:half]])  # popped first half first
    return [np.sort(g) for g in groups if len(g)]
