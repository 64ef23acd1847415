"""Pareto dominance and hypervolume on plain numpy arrays (every objective minimized).

Callers flip maximized objectives (e.g. ``-accuracy``) before calling. Points are rows of an
``(n, d)`` float array.

* :func:`nondominated` keeps the rows no other row dominates (``<=`` everywhere, ``<`` somewhere);
  exact rows repeated are kept once. Rows are sorted lexicographically first, so a row can only be
  dominated by an earlier one. In 1-D that leaves the first minimum; in 2-D one sweep keeps each row
  whose second value is below every earlier one (O(n log n), Kung, Luccio and Preparata, J. ACM 22(4),
  1975); with more objectives, block by block (:data:`_BLOCK` rows), the rows the front found so far
  weakly dominates are dropped in one vectorised comparison, then within the block the first remaining
  row is always non-dominated and drops every later row it weakly dominates (the scheme of Optuna's
  ``_is_pareto_front``): O(n x front size) comparisons in O(n / block + front) numpy calls.
* :func:`hypervolume` is the exact dominated volume up to a reference point, by slicing along the
  first objective and computing the remaining volume recursively (the HSO scheme of While et al.,
  "A faster algorithm for calculating hypervolume", IEEE TEVC 10(1), 2006). Fine for the few hundred
  points a co-design front has.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dominates", "hypervolume", "nondominated"]

_BLOCK = 256


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` is no worse than ``b`` everywhere and better somewhere (minimization)."""
    return bool(np.all(a <= b) and np.any(a < b))


def nondominated(points: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of ``points`` (duplicates kept once), in increasing order.

    Example:
        >>> nondominated(np.array([[1.0, 2.0], [2.0, 1.0], [2.0, 2.0]])).tolist()
        [0, 1]
    """
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2:
        raise ValueError(f"points: expected a 2-D array, got shape {pts.shape}")
    n, d = pts.shape
    if n == 0:
        return np.zeros(0, dtype=int)
    if d == 0:
        return np.zeros(1, dtype=int)
    order = np.lexsort(pts.T[::-1])
    ranked = pts[order]
    if d == 1:
        keep = order[:1]
    elif d == 2:
        best_before = np.minimum.accumulate(np.concatenate([[np.inf], ranked[:-1, 1]]))
        keep = order[ranked[:, 1] < best_before]
    else:
        keep = order[_sweep(ranked)]
    return np.sort(keep)


def _sweep(ranked: np.ndarray) -> np.ndarray:
    """Positions of the non-dominated rows of lexicographically sorted ``ranked``: block by block, drop the
    rows the front found so far weakly dominates, then sweep the block (see the module docstring)."""
    kept: list[np.ndarray] = []
    front = np.empty((0, ranked.shape[1]))
    for start in range(0, len(ranked), _BLOCK):
        block = ranked[start : start + _BLOCK]
        ids = np.arange(start, start + len(block))
        alive = ~_weakly_dominated_by(front, block)
        block, ids = block[alive], ids[alive]
        survivors = _sweep_block(block)
        kept.append(ids[survivors])
        front = np.vstack([front, block[survivors]])
    return np.concatenate(kept)


def _weakly_dominated_by(front: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Per row of ``block``: is some row of ``front`` ``<=`` it everywhere?"""
    out = np.zeros(len(block), dtype=bool)
    for start in range(0, len(front), 4 * _BLOCK):
        part = front[start : start + 4 * _BLOCK]
        covers = np.ones((len(part), len(block)), dtype=bool)
        for j in range(block.shape[1]):
            covers &= part[:, j, None] <= block[None, :, j]
        out |= covers.any(axis=0)
    return out


def _sweep_block(rows: np.ndarray) -> np.ndarray:
    """Non-dominated positions of sorted ``rows``: the first remaining row is kept, the rows it weakly
    dominates are dropped, until none remain."""
    idx, kept = np.arange(len(rows)), []
    while len(idx):
        kept.append(idx[0])
        rest = idx[1:]
        idx = rest[np.any(rows[rest] < rows[idx[0]], axis=1)]
    return np.asarray(kept, dtype=int)


def hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Volume dominated by ``points`` and bounded by ``reference`` (all objectives minimized).

    Rows not strictly better than the reference in every objective add nothing.

    Example:
        >>> hypervolume(np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([3.0, 3.0]))
        3.0
    """
    pts = np.asarray(points, dtype=float)
    ref = np.asarray(reference, dtype=float)
    if len(pts) == 0:
        return 0.0
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[nondominated(pts)]
    return float(_hv(pts, ref))


def _hv(pts: np.ndarray, ref: np.ndarray) -> float:
    if pts.shape[1] == 1:
        return float(ref[0] - pts[:, 0].min())
    if pts.shape[1] == 2:
        order = np.argsort(pts[:, 0])
        xs, ys = pts[order, 0], pts[order, 1]
        best_y = np.minimum.accumulate(ys)
        widths = np.diff(np.append(xs, ref[0]))
        return float(np.sum(widths * (ref[1] - best_y)))
    order = np.argsort(pts[:, 0])
    pts = pts[order]
    total = 0.0
    for i in range(len(pts)):
        upper = pts[i + 1, 0] if i + 1 < len(pts) else ref[0]
        width = upper - pts[i, 0]
        if width <= 0:
            continue
        slab = pts[: i + 1, 1:]
        slab = slab[nondominated(slab)]
        total += width * _hv(slab, ref[1:])
    return total
