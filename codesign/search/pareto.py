"""Pareto dominance and hypervolume on plain numpy arrays (every objective minimized).

Callers flip maximized objectives (e.g. ``-accuracy``) before calling. Points are rows of an
``(n, d)`` float array.

* :func:`nondominated` keeps the rows no other row dominates (``<=`` everywhere, ``<`` somewhere).
  Rows are sorted by their sum first: a row can only be dominated by rows of smaller or equal sum, so
  each block of rows is checked against the front found so far and against itself only. Exact rows
  repeated are kept once.
* :func:`hypervolume` is the exact dominated volume up to a reference point, by slicing along the
  first objective and computing the remaining volume recursively (the HSO scheme of While et al.,
  "A faster algorithm for calculating hypervolume", IEEE TEVC 10(1), 2006). Fine for the few hundred
  points a co-design front has.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dominates", "hypervolume", "nondominated"]

_BLOCK = 1024


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
    if len(pts) == 0:
        return np.zeros(0, dtype=int)
    order = np.lexsort(pts.T[::-1])
    order = order[np.argsort(pts[order].sum(axis=1), kind="stable")]
    kept: list[int] = []
    front = np.empty((0, pts.shape[1]))
    for start in range(0, len(order), _BLOCK):
        block_idx = order[start : start + _BLOCK]
        block = pts[block_idx]
        alive = ~_dominated_or_equal_by(front, block)
        block_idx, block = block_idx[alive], block[alive]
        # Within the block (sorted by sum), a row is only dominated/duplicated by an earlier row.
        le = np.all(block[:, None, :] <= block[None, :, :], axis=2)
        eq = np.all(block[:, None, :] == block[None, :, :], axis=2)
        earlier = np.tril(np.ones((len(block), len(block)), dtype=bool), k=-1).T
        lt_some = ~eq
        beaten = np.any(le & lt_some & ~np.eye(len(block), dtype=bool), axis=0)
        duplicate = np.any(eq & earlier, axis=0)
        keep = ~(beaten | duplicate)
        kept.extend(block_idx[keep].tolist())
        front = np.vstack([front, block[keep]])
    return np.sort(np.asarray(kept, dtype=int))


def _dominated_or_equal_by(front: np.ndarray, block: np.ndarray) -> np.ndarray:
    if len(front) == 0:
        return np.zeros(len(block), dtype=bool)
    out = np.zeros(len(block), dtype=bool)
    for start in range(0, len(front), _BLOCK):
        part = front[start : start + _BLOCK]
        out |= np.any(np.all(part[:, None, :] <= block[None, :, :], axis=2), axis=0)
    return out


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
