"""Building a lookup table from synthesis records: smoothing, cross-fitted residuals, provenance.

Steps (``build_table``):

1. Every record is estimated by the analytical model for its target; its correction per metric is
   ``log((measured + 1) / (analytical + 1))`` (:func:`._features.log_ratio`).
2. Records are grouped by discrete key at each back-off level (:data:`._table.LEVELS`). In each bucket
   the corrections are smoothed onto grid nodes with a Gaussian kernel (Nadaraya-Watson regression,
   with the bucket median mixed in at weight ``prior_weight``); nodes with too little kernel weight
   are left out, so the table has no support there.
3. Residuals for the intervals are *cross-fitted*: the bucket's architectures are split into
   ``folds`` folds, each fold is predicted by nodes fitted without it, and the quantiles of those
   out-of-fold residuals are kept (shrunk towards the pooled quantiles of the target when the bucket
   has few rows). In-sample residuals would understate the error of a new design.
4. The analytical model's own residual quantiles per target become the fallback intervals.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cost_models.analytical import AnalyticalConstants, AnalyticalModel
from cost_models.cost import Cost, Target
from cost_models.ir import GraphBuilder
from cost_models.lut._features import METRICS, DesignPoint, architecture_group, design_point, log_ratio
from cost_models.lut._table import LEVELS, Bucket, LutTable, Node, Quantiles, TableSettings, _interpolate
from cost_models.synth_data import SynthRecord
from hw_templates.config import HardwareConfig, IoType, Strategy
from hw_templates.errors import CalibrationError, CodesignError
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType

__all__ = ["Sample", "analytical_fingerprint", "build_table", "make_samples", "metric_value"]

logger = logging.getLogger(__name__)

#: A bucket's place in a table: ``(back-off level, key values)``.
BucketIndex = tuple[int, tuple[str, ...]]


@dataclass(frozen=True)
class Sample:
    """One calibration row, reduced to what the table needs (never written to a table file)."""

    point: DesignPoint
    analytical: Mapping[str, float]
    measured: Mapping[str, float]
    group: str
    source: str
    tool: str
    part: str
    file: str = ""


def metric_value(cost: Cost, metric: str) -> float:
    """The total of ``metric`` in ``cost``."""
    return float(getattr(cost, metric))


def make_samples(
    records: Iterable[SynthRecord], constants: AnalyticalConstants | None = None
) -> tuple[list[Sample], list[str]]:
    """Estimate every record with the analytical model (the shipped constants, or ``constants``); return
    the samples and one-line skip reasons.

    Records the analytical model rejects (e.g. an illegal reuse factor) are skipped.
    """
    models = {t: AnalyticalModel(t, constants) for t in Target}
    samples: list[Sample] = []
    skipped: list[str] = []
    for record in records:
        try:
            cost = models[record.target].estimate(record.graph, record.hw)
        except CodesignError as exc:
            skipped.append(f"{record.file}: {exc}")
            continue
        samples.append(
            Sample(
                point=design_point(record.graph, record.hw, cost, record.target),
                analytical={m: metric_value(cost, m) for m in METRICS},
                measured={m: float(record.measured[m]) for m in METRICS if m in record.measured},
                group=architecture_group(record.source, record.graph),
                source=record.source,
                tool=f"{record.tool} {record.tool_version}".strip(),
                part=record.hw.part.full_name,
                file=record.file,
            )
        )
    return samples, skipped


def build_table(
    samples: Sequence[Sample], settings: TableSettings | None = None, provenance: Mapping[str, object] | None = None
) -> LutTable:
    """Build a table from samples (see the module docstring).

    Raises:
        CalibrationError: no sample has a measured value.
    """
    settings = settings or TableSettings()
    usable = [s for s in samples if s.measured]
    if not usable:
        raise CalibrationError("calibration set: expected at least one usable synthesis result, got none")
    buckets: dict[BucketIndex, Bucket] = {}
    residuals: dict[BucketIndex, dict[str, list[float]]] = {}
    first_with: dict[frozenset[int], BucketIndex] = {}
    for level, fields in enumerate(LEVELS):
        members: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for index, sample in enumerate(usable):
            members[tuple(sample.point.key[f] for f in fields)].append(index)
        for key, indices in sorted(members.items()):
            same = first_with.setdefault(frozenset(indices), (level, key))
            if same != (level, key):  # a pooled key holding exactly the rows of a finer one: share its fit
                b = buckets[same]
                buckets[(level, key)] = Bucket(level, key, b.rows, b.groups, b.nodes, {}, b.smoothing, alias_of=same)
                residuals[(level, key)] = residuals[same]
                continue
            buckets[(level, key)], residuals[(level, key)] = _fit_bucket(
                level, key, [usable[i] for i in indices], settings
            )
    fallback = _fallback(usable, settings)
    prior = _envelope(_pooled(residuals, buckets, settings), _analytical_residuals(usable, settings))
    for index, b in buckets.items():
        shrunk = {m: _shrink(residuals[index][m], prior[b.key[0]][m], settings) for m in b.nodes}
        buckets[index] = Bucket(b.level, b.key, b.rows, b.groups, b.nodes, shrunk, b.smoothing, b.alias_of)
    info = {**_provenance(usable), **dict(provenance or {})}
    return LutTable(settings, buckets, fallback, info)


def _fit_bucket(
    level: int, key: tuple[str, ...], rows: Sequence[Sample], settings: TableSettings
) -> tuple[Bucket, dict[str, list[float]]]:
    """Fit every metric of one bucket; residual quantiles are filled in later (they need the pool)."""
    fits = {m: _fit_metric(rows, m, settings) for m in METRICS}
    fits = {m: fit for m, fit in fits.items() if fit[1]}
    nodes = {m: fit[1] for m, fit in fits.items()}
    smoothing = {m: fit[0] for m, fit in fits.items()}
    bucket = Bucket(level, key, len(rows), len({r.group for r in rows}), nodes, {}, smoothing)
    return bucket, {m: fit[2] for m, fit in fits.items()}


def _columns(
    rows: Sequence[Sample], metric: str, by_source: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    chosen = [r for r in rows if metric in r.measured]
    x = np.array([r.point.log2_mults for r in chosen])
    y = np.array([r.point.log2_bits for r in chosen])
    v = np.array([log_ratio(r.measured[metric], r.analytical[metric]) for r in chosen])
    return x, y, v, [r.source if by_source else r.group for r in chosen]


def _fit_metric(
    rows: Sequence[Sample], metric: str, settings: TableSettings
) -> tuple[str, dict[Node, tuple[float, float]], list[float]]:
    """Choose the smoothing of one metric by grouped cross-fitting; return it, its nodes and residuals.

    Candidates: no correction at all (``"identity"``, i.e. the analytical model), the kernel bandwidths
    of ``settings.bandwidths`` and the bucket median everywhere (``"median"``). A candidate replaces
    ``identity`` only when its median absolute out-of-fold residual is ``identity_margin`` smaller, so a
    bucket whose corrections do not transfer between sources (architectures, in ``architecture`` mode)
    keeps the analytical figure. A bucket of one source corrects nothing (``source`` mode); a bucket of
    one architecture applies its median correction (``architecture`` mode).
    """
    by_source = settings.cross_fit == "source"
    x, y, v, groups = _columns(rows, metric, by_source)
    if v.size == 0:
        return "identity", {}, []
    identity = _cross_fitted(x, y, v, groups, "identity", settings)
    if not identity:  # one group: nothing to cross-fit
        if by_source:  # no evidence that the correction transfers to another source
            return "identity", {}, []
        return "median", _smooth(x, y, v, "median", settings), []
    best = (float(np.median(np.abs(identity))) * (1.0 - settings.identity_margin), "identity", identity)
    for smoothing in (*(f"h={h:g}" for h in settings.bandwidths), "median"):
        residuals = _cross_fitted(x, y, v, groups, smoothing, settings)
        score = float(np.median(np.abs(residuals)))
        if score < best[0] - 1e-9:
            best = (score, smoothing, residuals)
    return best[1], _smooth(x, y, v, best[1], settings), best[2]


def _smooth(
    x: np.ndarray, y: np.ndarray, v: np.ndarray, smoothing: str, settings: TableSettings
) -> dict[Node, tuple[float, float]]:
    """Corrections on the grid nodes near the data (empty without data).

    Support (which nodes exist) always uses unit-bandwidth kernels; the values use ``smoothing``.
    """
    if v.size == 0:
        return {}
    step = settings.step
    reach = int(np.ceil(3 / step))  # beyond 3 log2 units a unit kernel cannot reach min_support
    i_range = np.arange(int(np.floor(x.min() / step)) - reach, int(np.ceil(x.max() / step)) + reach + 1)
    j_range = np.arange(int(np.floor(y.min() / step)) - reach, int(np.ceil(y.max() / step)) + reach + 1)
    ii, jj = (a.ravel() for a in np.meshgrid(i_range, j_range, indexing="ij"))
    sq = (ii[:, None] * step - x[None, :]) ** 2 + (jj[:, None] * step - y[None, :]) ** 2
    support = np.exp(-0.5 * sq).sum(axis=1)
    keep = support >= settings.min_support
    ii, jj, sq, support = ii[keep], jj[keep], sq[keep], support[keep]
    prior = float(np.median(v))
    if smoothing == "identity":
        values = np.zeros(len(ii))
    elif smoothing == "median":
        values = np.full(len(ii), prior)
    else:
        h = float(smoothing.removeprefix("h="))
        weights = np.exp(-0.5 * sq / (h * h))
        values = (weights @ v + settings.prior_weight * prior) / (weights.sum(axis=1) + settings.prior_weight)
    # Rounded to what the table file stores, so a loaded table predicts exactly as the built one.
    return {
        (int(i), int(j)): (round(float(val), 4), round(float(s), 3)) for i, j, val, s in zip(ii, jj, values, support)
    }


def _fold_of(group: str, folds: int) -> int:
    """Deterministic fold of an architecture group (stable across runs and platforms)."""
    return int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) % folds


def _cross_fitted(
    x: np.ndarray, y: np.ndarray, v: np.ndarray, groups: list[str], smoothing: str, settings: TableSettings
) -> list[float]:
    """Out-of-fold residuals (log units) of the rows whose fold-out table still has support for them."""
    distinct = sorted(set(groups))
    if len(distinct) < 2:
        return []
    if settings.cross_fit == "source":  # every source held out in turn
        folds = len(distinct)
        fold = np.array([distinct.index(g) for g in groups])
    else:
        folds = min(settings.folds, len(distinct))
        fold = np.array([_fold_of(g, folds) for g in groups])
    out: list[float] = []
    for f in range(folds):
        train, test = fold != f, fold == f
        if not train.any() or not test.any():
            continue
        nodes = _smooth(x[train], y[train], v[train], smoothing, settings)
        for xi, yi, vi in zip(x[test], y[test], v[test]):
            found = _interpolate(nodes, DesignPoint({}, float(xi), float(yi)), settings)
            if found is not None:
                out.append(float(vi - found[0]))
    return out


def _quantiles(values: Sequence[float], settings: TableSettings) -> Quantiles:
    tail = (1.0 - settings.interval_level) / 2
    if not values:
        return Quantiles(0.0, 0.0, 0)
    low, high = np.quantile(np.asarray(values), [tail, 1.0 - tail])
    return Quantiles(round(float(low), 4), round(float(high), 4), len(values))


def _pooled(
    residuals: Mapping[BucketIndex, Mapping[str, list[float]]],
    buckets: Mapping[BucketIndex, Bucket],
    settings: TableSettings,
) -> dict[str, dict[str, Quantiles]]:
    """Quantiles of all level-0 cross-fitted residuals, per target and metric."""
    values: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for index, per_metric in residuals.items():
        if index[0] == 0:
            for metric, res in per_metric.items():
                values[buckets[index].key[0]][metric].extend(res)
    return {t: {m: _quantiles(values[t][m], settings) for m in METRICS} for t in {b.key[0] for b in buckets.values()}}


def _envelope(
    a: Mapping[str, Mapping[str, Quantiles]], b: Mapping[str, Mapping[str, Quantiles]]
) -> dict[str, dict[str, Quantiles]]:
    """Per target and metric, the wider of two sets of quantiles: the prior a thin bucket is shrunk to
    is the pooled table residual or the analytical residual, whichever is wider (cautious)."""
    out: dict[str, dict[str, Quantiles]] = {}
    for target, per in a.items():
        out[target] = {}
        for metric, q in per.items():
            other = b.get(target, {}).get(metric, q)
            out[target][metric] = Quantiles(min(q.low, other.low), max(q.high, other.high), max(q.rows, other.rows))
    return out


def _shrink(values: Sequence[float], pooled: Quantiles, settings: TableSettings) -> Quantiles:
    own = _quantiles(values, settings)
    n, n0 = own.rows, settings.prior_rows if pooled.rows else 0.0
    if n + n0 == 0:
        return own
    low = (n * own.low + n0 * pooled.low) / (n + n0)
    high = (n * own.high + n0 * pooled.high) / (n + n0)
    return Quantiles(round(low, 4), round(high, 4), n)


def _analytical_residuals(samples: Sequence[Sample], settings: TableSettings) -> dict[str, dict[str, Quantiles]]:
    """The analytical model's residual quantiles per target, over all rows of that target."""
    out: dict[str, dict[str, Quantiles]] = {}
    for target in sorted({s.point.key["target"] for s in samples}):
        rows = [s for s in samples if s.point.key["target"] == target]
        out[target] = {
            m: _quantiles([log_ratio(r.measured[m], r.analytical[m]) for r in rows if m in r.measured], settings)
            for m in METRICS
        }
    return out


def _fallback(samples: Sequence[Sample], settings: TableSettings) -> dict[str, dict[str, Quantiles]]:
    """Interval quantiles of the analytical model where the table has no support, per target.

    A query without support is by definition unlike the calibration designs, so the interval must
    cover how wrong the analytical model is on a *new* family of designs, not on the familiar ones:
    it is the envelope (lowest low, highest high) of the residual quantiles of every source, whatever
    its target. (The analytical constants were fitted on the shared calibration data, so its residuals
    there are in-sample and would understate its error.)
    """
    per_source: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        per_source[sample.source].append(sample)
    envelope: dict[str, Quantiles] = {}
    for metric in METRICS:
        quantiles = [
            _quantiles(
                [log_ratio(r.measured[metric], r.analytical[metric]) for r in rows if metric in r.measured], settings
            )
            for rows in per_source.values()
        ]
        quantiles = [q for q in quantiles if q.rows]
        envelope[metric] = Quantiles(
            min((q.low for q in quantiles), default=0.0),
            max((q.high for q in quantiles), default=0.0),
            sum(q.rows for q in quantiles),
        )
    return {target: dict(envelope) for target in sorted({s.point.key["target"] for s in samples})}


def _provenance(samples: Sequence[Sample]) -> dict[str, object]:
    by_source: dict[str, int] = defaultdict(int)
    by_target: dict[str, int] = defaultdict(int)
    for s in samples:
        by_source[s.source] += 1
        by_target[s.point.key["target"]] += 1
    return {
        "sources": sorted(by_source),
        "tool_versions": sorted({s.tool for s in samples}),
        "parts": sorted({s.part for s in samples}),
        "rows": {"used": len(samples), "by_source": dict(sorted(by_source.items())), "by_target": dict(by_target)},
        "architectures": len({s.group for s in samples}),
        "analytical_fingerprint": analytical_fingerprint(),
    }


def analytical_fingerprint(constants: AnalyticalConstants | None = None) -> str:
    """A short hash of the analytical model's estimates (shipped constants, or ``constants``) of a few
    fixed probe designs.

    The table stores corrections *relative to* the analytical model, so a table is only valid for the
    analytical model it was built against; a refit of the analytical constants changes this hash.
    """
    values = []
    for target in Target:
        model = AnalyticalModel(target, constants)
        for graph, hw in _probes():
            cost = model.estimate(graph, hw)
            values.append([float(f"{metric_value(cost, m):.6g}") for m in METRICS])
    return hashlib.sha256(json.dumps(values).encode()).hexdigest()[:12]


def _probes() -> list[tuple]:
    mlp = GraphBuilder("probe_mlp", (16,), FixedType(16, 6))
    mlp.add("dense", units=64)
    mlp.add("activation", function="relu")
    mlp.add("dense", units=8)
    cnn = GraphBuilder("probe_cnn", (32, 4), FixedType(8, 3))
    cnn.add("conv1d", filters=8, kernel=(3,))
    cnn.add("activation", function="relu")
    part = resolve_part("xcu250")
    return [
        (mlp.build(), HardwareConfig(part, reuse_factor=4, strategy=Strategy.RESOURCE)),
        (mlp.build(), HardwareConfig(part)),
        (cnn.build(), HardwareConfig(part, io_type=IoType.STREAM)),
    ]
