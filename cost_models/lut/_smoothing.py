"""Smoothing one bucket's corrections onto the grid, and choosing the smoothing by cross-fitting.

A bucket's corrections ``log((measured + 1) / (analytical + 1))`` are smoothed onto grid nodes with a
Gaussian kernel (Nadaraya-Watson regression, the bucket median mixed in at ``prior_weight``); nodes
with too little kernel weight are left out, so the table has no support there. Which smoothing a
metric gets (none, a bandwidth, the bucket median) is chosen by grouped cross-fitting
(:func:`fit_metric`).

A table built for new sources (``cross_fit="source"``, the shipped one) is stricter, because a user's
design comes from a source the table has never seen and what one source's tool runs do (a script's
settings, a tool version's quirk) need not happen in another's:

* a node exists only where at least ``min_sources`` distinct sources have a row near it;
* its correction is shrunk towards none by ``sources / (sources + source_prior)``;
* a smoothing replaces "no correction" only if, with each held-out source weighing the same, its
  median absolute residual is ``identity_margin`` smaller *and* it helps more held-out sources than it
  hurts (a correction that the largest source likes and most others do not is not applied).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from cost_models.lut._features import DesignPoint, log_ratio
from cost_models.lut._table import Node, NodeValue, TableSettings, _interpolate

__all__ = ["Columns", "columns", "cross_fitted", "fit_metric", "smooth"]

#: One metric of a bucket's rows: coordinates, corrections, cross-fitting groups and sources.
Columns = tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]


def columns(rows: Sequence, metric: str, by_source: bool) -> Columns:
    """``(x, y, correction, group, source)`` of the rows that measured ``metric``; the group is the
    source in ``source`` mode, the architecture otherwise."""
    chosen = [r for r in rows if metric in r.measured]
    x = np.array([r.point.log2_mults for r in chosen])
    y = np.array([r.point.log2_bits for r in chosen])
    v = np.array([log_ratio(r.measured[metric], r.analytical[metric]) for r in chosen])
    sources = [r.source for r in chosen]
    return x, y, v, sources if by_source else [r.group for r in chosen], sources


def fit_metric(rows: Sequence, metric: str, settings: TableSettings) -> tuple[str, dict[Node, NodeValue], list[float]]:
    """Choose the smoothing of one metric by grouped cross-fitting; return it, its nodes and residuals.

    Candidates: no correction at all (``"identity"``, i.e. the analytical model), the kernel bandwidths
    of ``settings.bandwidths`` and the bucket median everywhere (``"median"``). A candidate replaces
    ``identity`` only when its median absolute out-of-fold residual is ``identity_margin`` smaller (and,
    in ``source`` mode, it helps more held-out sources than it hurts), so a bucket whose corrections do
    not transfer between sources (architectures, in ``architecture`` mode) keeps the analytical figure.
    A bucket of one source corrects nothing (``source`` mode); a bucket of one architecture applies its
    median correction (``architecture`` mode).
    """
    by_source = settings.cross_fit == "source"
    x, y, v, groups, sources = columns(rows, metric, by_source)
    if v.size == 0:
        return "identity", {}, []
    identity, labels = cross_fitted(x, y, v, groups, sources, "identity", settings)
    if not identity:  # one group, or no held-out row with support: nothing to cross-fit
        if by_source:  # no evidence that a correction transfers to another source
            return "identity", {}, []
        return "median", smooth(x, y, v, sources, "median", settings), []
    best = (_score(identity, labels, by_source) * (1.0 - settings.identity_margin), "identity", identity)
    for smoothing in (*(f"h={h:g}" for h in settings.bandwidths), "median"):
        residuals, _ = cross_fitted(x, y, v, groups, sources, smoothing, settings)
        if by_source and not _helps_most_sources(residuals, identity, labels):
            continue
        score = _score(residuals, labels, by_source)
        if score < best[0] - 1e-9:
            best = (score, smoothing, residuals)
    return best[1], smooth(x, y, v, sources, best[1], settings), best[2]


def _score(residuals: Sequence[float], labels: Sequence[str], by_source: bool) -> float:
    """Median absolute residual; with ``by_source`` every held-out source weighs the same."""
    err = np.abs(np.asarray(residuals))
    if not by_source:
        return float(np.median(err))
    counts = Counter(labels)
    weights = np.array([1.0 / counts[s] for s in labels])
    order = np.argsort(err)
    cumulative = np.cumsum(weights[order])
    return float(err[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def _helps_most_sources(candidate: Sequence[float], identity: Sequence[float], labels: Sequence[str]) -> bool:
    """More held-out sources have a smaller median absolute residual with the candidate than without."""
    with_it: dict[str, list[float]] = defaultdict(list)
    without: dict[str, list[float]] = defaultdict(list)
    for label, a, b in zip(labels, candidate, identity):
        with_it[label].append(abs(a))
        without[label].append(abs(b))
    better = sum(np.median(with_it[s]) < np.median(without[s]) - 1e-9 for s in with_it)
    worse = sum(np.median(with_it[s]) > np.median(without[s]) + 1e-9 for s in with_it)
    return better > worse


def smooth(
    x: np.ndarray, y: np.ndarray, v: np.ndarray, sources: Sequence[str], smoothing: str, settings: TableSettings
) -> dict[Node, NodeValue]:
    """Corrections on the grid nodes near the data (empty without data), with their support and the
    number of distinct sources near each.

    Support (which nodes exist) always uses unit-bandwidth kernels; the values use ``smoothing``. In
    ``source`` mode nodes with fewer than ``min_sources`` sources are left out and the corrections are
    shrunk by ``sources / (sources + source_prior)`` (see the module docstring).
    """
    if v.size == 0:
        return {}
    step = settings.step
    reach = int(np.ceil(3 / step))  # beyond 3 log2 units a unit kernel cannot reach min_support
    i_range = np.arange(int(np.floor(x.min() / step)) - reach, int(np.ceil(x.max() / step)) + reach + 1)
    j_range = np.arange(int(np.floor(y.min() / step)) - reach, int(np.ceil(y.max() / step)) + reach + 1)
    ii, jj = (a.ravel() for a in np.meshgrid(i_range, j_range, indexing="ij"))
    sq = (ii[:, None] * step - x[None, :]) ** 2 + (jj[:, None] * step - y[None, :]) ** 2
    kernel = np.exp(-0.5 * sq)
    support = kernel.sum(axis=1)
    names, member = np.unique(np.asarray(sources, dtype=object).astype(str), return_inverse=True)
    per_source = kernel @ (member[:, None] == np.arange(len(names))[None, :]).astype(float)
    near = (per_source >= settings.min_support).sum(axis=1)
    keep = support >= settings.min_support
    by_source = settings.cross_fit == "source"
    if by_source:
        keep &= near >= settings.min_sources
    ii, jj, sq, support, near = ii[keep], jj[keep], sq[keep], support[keep], near[keep]
    prior = float(np.median(v))
    if smoothing == "identity":
        values = np.zeros(len(ii))
    elif smoothing == "median":
        values = np.full(len(ii), prior)
    else:
        h = float(smoothing.removeprefix("h="))
        weights = np.exp(-0.5 * sq / (h * h))
        values = (weights @ v + settings.prior_weight * prior) / (weights.sum(axis=1) + settings.prior_weight)
    if by_source:
        values = values * near / (near + settings.source_prior)
    # Rounded to what the table file stores, so a loaded table predicts exactly as the built one.
    return {
        (int(i), int(j)): (round(float(val), 4), round(float(s), 3), int(n))
        for i, j, val, s, n in zip(ii, jj, values, support, near)
    }


def _fold_of(group: str, folds: int) -> int:
    """Deterministic fold of an architecture group (stable across runs and platforms)."""
    return int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) % folds


def cross_fitted(
    x: np.ndarray,
    y: np.ndarray,
    v: np.ndarray,
    groups: list[str],
    sources: list[str],
    smoothing: str,
    settings: TableSettings,
) -> tuple[list[float], list[str]]:
    """Out-of-fold residuals (log units) of the rows whose fold-out table still has support for them,
    and the group of each."""
    distinct = sorted(set(groups))
    if len(distinct) < 2:
        return [], []
    if settings.cross_fit == "source":  # every source held out in turn
        folds = len(distinct)
        fold = np.array([distinct.index(g) for g in groups])
    else:
        folds = min(settings.folds, len(distinct))
        fold = np.array([_fold_of(g, folds) for g in groups])
    out: list[float] = []
    labels: list[str] = []
    for f in range(folds):
        train, test = fold != f, fold == f
        if not train.any() or not test.any():
            continue
        nodes = smooth(x[train], y[train], v[train], [s for s, t in zip(sources, train) if t], smoothing, settings)
        for xi, yi, vi, gi in zip(x[test], y[test], v[test], np.asarray(groups, dtype=object)[test]):
            found = _interpolate(nodes, DesignPoint({}, float(xi), float(yi)), settings)
            if found is not None:
                out.append(float(vi - found[0]))
                labels.append(str(gi))
    return out, labels
