"""Building a lookup table from synthesis records: smoothing, cross-fitted residuals, provenance.

Steps (``build_table``):

1. Every record is estimated by the analytical model for its target; its correction per metric is
   ``log((measured + 1) / (analytical + 1))`` (:func:`._features.log_ratio`).
2. Records are grouped by discrete key at each back-off level (:data:`._table.LEVELS`). In each bucket
   the corrections are smoothed onto grid nodes with a Gaussian kernel (Nadaraya-Watson regression,
   with the bucket median mixed in at weight ``prior_weight``); nodes with too little kernel weight
   are left out, so the table has no support there (:mod:`._smoothing`; a table built for new sources
   also needs several sources near a node and shrinks its correction by their number).
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
from cost_models.lut._smoothing import fit_metric
from cost_models.lut._table import LEVELS, Bucket, LutTable, Quantiles, TableSettings
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
                buckets[(level, key)] = Bucket(
                    level, key, b.rows, b.groups, b.nodes, {}, b.smoothing, alias_of=same, sources=b.sources
                )
                residuals[(level, key)] = residuals[same]
                continue
            buckets[(level, key)], residuals[(level, key)] = _fit_bucket(
                level, key, [usable[i] for i in indices], settings
            )
    fallback = _fallback(usable, settings)
    prior = _envelope(_pooled(residuals, buckets, settings), _analytical_residuals(usable, settings))
    for index, b in buckets.items():
        shrunk = {m: _shrink(residuals[index][m], prior[b.key[0]][m], settings) for m in b.nodes}
        buckets[index] = Bucket(b.level, b.key, b.rows, b.groups, b.nodes, shrunk, b.smoothing, b.alias_of, b.sources)
    info = {**_provenance(usable), **dict(provenance or {})}
    return LutTable(settings, buckets, fallback, info)


def _fit_bucket(
    level: int, key: tuple[str, ...], rows: Sequence[Sample], settings: TableSettings
) -> tuple[Bucket, dict[str, list[float]]]:
    """Fit every metric of one bucket; residual quantiles are filled in later (they need the pool)."""
    fits = {m: fit_metric(rows, m, settings) for m in METRICS}
    fits = {m: fit for m, fit in fits.items() if fit[1]}
    nodes = {m: fit[1] for m, fit in fits.items()}
    smoothing = {m: fit[0] for m, fit in fits.items()}
    sources = len({r.source for r in rows})
    bucket = Bucket(level, key, len(rows), len({r.group for r in rows}), nodes, {}, smoothing, sources=sources)
    return bucket, {m: fit[2] for m, fit in fits.items()}


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
