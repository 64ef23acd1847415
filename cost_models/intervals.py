"""90 % prediction intervals from out-of-source residuals, for every cost model that has them.

A model fitted on some sources is wrong on a new source by more than its residuals on its own sources
say. So the intervals come from leave-source-out residuals: every calibration row predicted by models
fitted without its source (:mod:`cost_models.validation`, run by ``scripts/bench_cost_model.py
--write-intervals``). For each model, kind of row (``hls``: HLS estimate, ``synth``: after synthesis),
layer mix (``dense`` / ``conv`` / ``recurrent``) and target, the shipped file ``data/intervals.json`` holds
quantiles of ``r = log((measured + c) / (predicted + c))``, with:

* **Sources weighted equally**: each row weighs 1 / its source's rows, so one source with hundreds of rows
  does not set the width for everyone, and a few wild rows of a source move the tails by their share only.
* **Wild sources winsorised**: a source whose median residual lies more than :data:`WINSOR_MADS` robust
  deviations (1.4826 x the median absolute deviation of the sources' medians) from the median source is
  shifted to that bound before the quantiles are taken. On the shared calibration data two or three
  sources 10-90x off (AXI-wrapped tops, hls4ml Resource designs at reuse factors of 10^4-10^5) otherwise
  set the whole latency tail: a held-out source then had its latency interval 21x its estimate wide
  (median) and still fell outside it as often (it is a new source; its miss is its own).
* **An offset per group** ``c`` from :data:`OFFSETS`: residuals of counts that are often 0 or a few
  (DSP, BRAM18, latency of small designs) are additive where the estimate is small and multiplicative where
  it is large; ``c`` is the one of :data:`OFFSETS` that gives the narrowest intervals (median width over
  the group's rows, sources weighted equally) at the same quantiles. It is chosen on the residuals only,
  so it is refitted, like the quantiles, whenever they are (held out too in ``interval_coverage``).
* **Quantiles at a tail chosen by nested leave-one-out**, per model and kind of row: of :data:`TAILS`, the
  one whose intervals, fitted on the residuals at hand without one fold (or source) at a time, hold that
  fold's rows closest to :data:`COVERAGE_BAND` (80-95 %, sources weighted equally first, then pooled:
  :func:`choose_tails`). Quantiles over the sources at hand cover a new source less often than they cover
  those sources, so the nominal 5 / 95 % is too narrow (held out, 71-79 % of the rows with sources weighted
  equally); how much too narrow depends on how many sources there are and how wild they are, so it is
  measured instead of fixed. Validation chooses it again on each fold's training residuals, so the coverage
  it reports is of intervals fitted without the fold's residuals (``validation.interval_coverage``).

A group with fewer than :data:`MIN_SOURCES` sources backs off to the nearest mix that shares its mechanism
(:data:`BACKOFF`: recurrent layers are priced as the Dense products of their gates,
``cost_models.analytical.recurrent`` after hls4ml's ``nnet_recurrent.h``), and only then to the quantiles
of its kind of row pooled over layer mixes. Finer groups (io type, strategy, reuse-factor regime) were
measured and not kept: with 3-8 sources per group, a group that lost its held-out source backed off or
set its tails on two or three sources, and coverage of held-out sources fell (HLS BRAM18 75 -> 63 %).
The file names the data and the command it was built from.

An estimate ``v`` gets the interval ``((v + c) e^lo - c, (v + c) e^hi - c)``, clipped at 0.
"""

from __future__ import annotations

import functools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from cost_models.cost import Target
from cost_models.ir import LayerGraph, LayerKind
from cost_models.kinds import RECURRENT_KINDS
from hw_templates.errors import CalibrationError

__all__ = [
    "BACKOFF",
    "COVERAGE_BAND",
    "DEFAULT_INTERVALS",
    "INTERVAL_TARGETS",
    "LEVEL",
    "MIN_SOURCES",
    "OFFSETS",
    "TAIL",
    "TAILS",
    "WINSOR_MADS",
    "IntervalTable",
    "Quantiles",
    "choose_tails",
    "fit_intervals",
    "interval_factors",
    "layer_mix",
    "load_intervals",
    "log_residual",
    "row_kind",
]

#: The shipped table, written by ``scripts/bench_cost_model.py --write-intervals``.
DEFAULT_INTERVALS = Path(__file__).resolve().parent / "data" / "intervals.json"
FORMAT = "codesign-intervals"
#: Central probability of the intervals.
LEVEL = 0.9
#: Targets with intervals (``Cost`` attribute names).
INTERVAL_TARGETS = ("lut", "ff", "dsp", "bram18", "latency_cycles")
#: A (kind, mix) group needs residuals from this many sources; else the kind's pooled quantiles are used.
MIN_SOURCES = 4
#: Lower quantile of the residuals (the upper one is ``1 - TAIL``) where no tail is chosen (:func:`choose_tails`),
#: and the tail the offsets are chosen at.
TAIL = 0.03
#: A source's median residual is kept within this many robust deviations of the median source's.
WINSOR_MADS = 3.0
#: Floor of the robust deviation (log units): sources that agree to within 5 % are not squeezed further.
MIN_SPREAD = 0.05
#: Candidate lower tails of :func:`choose_tails` (the upper quantile is ``1 - tail``).
TAILS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12)
#: Share of a held-out source's rows its intervals should hold (issue 11): :func:`choose_tails` aims at it.
COVERAGE_BAND = (0.80, 0.95)
#: Candidate offsets ``c`` of ``log((measured + c) / (predicted + c))`` (units of the target).
OFFSETS = (1.0, 4.0, 16.0, 64.0)
POOLED = "all"
#: Where a layer mix with too few sources borrows its quantiles before the pool: the mix whose
#: mechanism prices it (LSTM/GRU gates are Dense matrix-vector products, ``analytical/recurrent.py``).
BACKOFF = {"recurrent": "dense"}


def row_kind(target: Target) -> str:
    """``hls`` for HLS-estimate (csynth) predictions, ``synth`` for post-synthesis ones."""
    return "hls" if target is Target.HLS else "synth"


def layer_mix(graph: LayerGraph) -> str:
    """``recurrent`` when the network has an LSTM/GRU, else ``conv`` when it has a convolution, else
    ``dense``. Recurrent rows come from one source (N-TORC), fewer than :data:`MIN_SOURCES`, so their
    intervals are those of the Dense mix (:data:`BACKOFF`), not those of the convolutions or the pool."""
    kinds = {x.kind for x in graph.weight_layers()}
    if kinds & RECURRENT_KINDS:
        return "recurrent"
    return "conv" if kinds - {LayerKind.DENSE} else "dense"


def log_residual(measured: float, predicted: float, offset: float = 1.0) -> float:
    """``log((measured + offset) / (predicted + offset))``: how far off a prediction was, as a log ratio."""
    return math.log((measured + offset) / (max(predicted, 0.0) + offset))


class Quantiles(NamedTuple):
    """The residual quantiles of one group: an estimate ``v`` gets ``((v + offset) e^lo - offset, ...)``."""

    lo: float
    hi: float
    rows: int
    offset: float = 1.0

    def interval(self, value: float) -> tuple[float, float]:
        """The interval around ``value``, clipped at 0."""
        base = max(value, 0.0) + self.offset
        return max(base * math.exp(self.lo) - self.offset, 0.0), max(base * math.exp(self.hi) - self.offset, 0.0)


@dataclass(frozen=True)
class IntervalTable:
    """Out-of-source residual quantiles: ``quantiles[model][kind][mix][target]`` is a :class:`Quantiles`."""

    quantiles: Mapping[str, Mapping[str, Mapping[str, Mapping[str, Quantiles]]]]
    level: float = LEVEL
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def has(self, model: str) -> bool:
        return model in self.quantiles

    def bounds(self, model: str, kind: str, mix: str, target: str) -> Quantiles | None:
        """The quantiles for one prediction (its mix, else :data:`BACKOFF`, else the kind's pool); None when
        the table has nothing for it."""
        per_kind = self.quantiles.get(model, {}).get(kind, {})
        for group in (mix, BACKOFF.get(mix), POOLED):
            q = per_kind.get(group, {}).get(target)
            if q is not None:
                return q
        return None

    def interval(self, model: str, kind: str, mix: str, target: str, value: float) -> tuple[float, float] | None:
        """The 90 % interval around ``value``; None without quantiles."""
        q = self.bounds(model, kind, mix, target)
        return None if q is None else q.interval(value)

    def to_dict(self) -> dict[str, Any]:
        # quantiles at full precision: rounded log bounds move an interval by (v + c) x the rounding, which
        # at an offset of 64 is visible on small estimates (a bound of 0.5 read back as 0.501)
        rows = [[m, k, g, t, q.lo, q.hi, q.rows, q.offset] for m, k, g, t, q in _flat(self.quantiles)]
        return {"format": FORMAT, "level": self.level, "provenance": dict(self.provenance), "quantiles": rows}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str = "intervals") -> IntervalTable:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise CalibrationError(f'{origin}: expected an interval table ("format": "{FORMAT}")')
        try:
            quantiles: dict = {}
            for model, kind, mix, target, lo, hi, rows, *offset in data["quantiles"]:
                per_mix = quantiles.setdefault(str(model), {}).setdefault(str(kind), {}).setdefault(str(mix), {})
                # tables written before offsets were chosen used 1 throughout
                c = float(offset[0]) if len(offset) == 1 else 1.0
                if len(offset) > 1 or not c > 0:
                    raise ValueError(f"expected one positive offset after the row count, got {offset}")
                per_mix[str(target)] = Quantiles(float(lo), float(hi), int(rows), c)
            return cls(quantiles, float(data["level"]), dict(data.get("provenance", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"{origin}: malformed interval table ({type(exc).__name__}: {exc})") from None


def _flat(quantiles: Mapping) -> list[tuple[str, str, str, str, Quantiles]]:
    return [
        (m, k, g, t, q)
        for m, kinds in quantiles.items()
        for k, groups in kinds.items()
        for g, per in groups.items()
        for t, q in per.items()
    ]


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> IntervalTable:
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CalibrationError(f"interval table {path!r}: cannot be read ({exc})") from None
    return IntervalTable.from_dict(data, origin=f"interval table {path!r}")


def load_intervals(path: str | Path | None = None) -> IntervalTable | None:
    """The shipped table (or ``path``), cached while the file is unchanged; None when the default file
    is absent (a checkout that never built one: estimates then carry no intervals)."""
    file = Path(path) if path is not None else DEFAULT_INTERVALS
    if not file.is_file():
        if path is not None:
            raise CalibrationError(f"interval table {str(file)!r}: file not found")
        return None
    return _load(str(file), file.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def interval_factors(model: str, target: Target, mix: str) -> tuple[tuple[str, float, float, float], ...]:
    """``(metric, offset, e^lo, e^hi)`` of the shipped table for one model, target and layer mix (cached:
    cost models call this on every estimate); empty without a shipped table or quantiles for the model."""
    table = load_intervals()
    if table is None or not table.has(model):
        return ()
    out = []
    for metric in INTERVAL_TARGETS:
        q = table.bounds(model, row_kind(target), mix, metric)
        if q is not None:
            out.append((metric, q.offset, math.exp(q.lo), math.exp(q.hi)))
    return tuple(out)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order]) - 0.5 * weights[order]
    return float(np.interp(q * weights.sum(), cumulative, values[order]))


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def _winsorised(values: np.ndarray, index: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``values`` with each source's rows (``index``: the row's source number, ``counts``: rows per source)
    shifted so that its median lies within :data:`WINSOR_MADS` robust deviations of the median source's
    (see the module docstring)."""
    if len(counts) < 3:  # no robust spread from two sources
        return values
    ordered = values[np.lexsort((values, index))]  # by source, then value: each source's rows in a run
    starts = np.cumsum(counts) - counts
    medians = 0.5 * (ordered[starts + (counts - 1) // 2] + ordered[starts + counts // 2])
    centre = float(np.median(medians))
    spread = max(1.4826 * float(np.median(np.abs(medians - centre))), MIN_SPREAD)
    bound = WINSOR_MADS * spread
    shift = np.clip(medians, centre - bound, centre + bound) - medians
    return values + shift[index]


class _Group(NamedTuple):
    """One group's residuals ready for quantiles: winsorised at its offset, with their source weights."""

    values: np.ndarray
    weights: np.ndarray
    offset: float

    def at(self, tail: float) -> Quantiles:
        """The group's quantiles at ``tail`` / ``1 - tail``, widened to reach 0 where the residuals lie on one
        side of it: the estimate is always inside its interval."""
        lo = _weighted_quantile(self.values, self.weights, tail)
        hi = _weighted_quantile(self.values, self.weights, 1 - tail)
        return Quantiles(min(lo, 0.0), max(hi, 0.0), len(self.values), self.offset)


def _group(sources: np.ndarray, measured: np.ndarray, predicted: np.ndarray) -> _Group:
    """Winsorised, source-weighted residuals of one group at the offset of :data:`OFFSETS` that gives the
    narrowest intervals at :data:`TAIL` (median of ``(high - low) / predicted`` over its rows predicted
    above 0, sources weighted equally; ties go to the smaller offset). The offset does not depend on the
    tail finally taken, so a smaller tail always gives a wider interval."""
    _, index, counts = np.unique(sources, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[index]
    positive = predicted > 1e-6  # widths relative to estimates of (nearly) 0 are not defined

    residuals = {c: _winsorised(np.log((measured + c) / (predicted + c)), index, counts) for c in OFFSETS}

    def width(c: float) -> float:
        values = residuals[c]
        spread = math.exp(_weighted_quantile(values, weights, 1 - TAIL)) - math.exp(
            _weighted_quantile(values, weights, TAIL)
        )
        if not positive.any():
            return spread
        return _weighted_median((predicted[positive] + c) * spread / predicted[positive], weights[positive])

    widths = [width(c) for c in OFFSETS]
    c = next(c for c, w in zip(OFFSETS, widths) if w <= min(widths) * (1 + 1e-9))
    return _Group(residuals[c], weights, c)


Row = tuple[str, str, str, str, str, float, float]


def _groups(residuals: Sequence[Row]) -> dict[tuple[str, str, str, str], _Group]:
    """Per (model, kind, mix, target) with at least :data:`MIN_SOURCES` sources, and per (model, kind,
    :data:`POOLED`, target), the group's prepared residuals."""
    rows: dict[tuple[str, str, str, str], list[tuple[str, float, float]]] = defaultdict(list)
    for model, kind, mix, target, source, measured, predicted in residuals:
        row = (source, float(measured), max(float(predicted), 0.0))
        rows[(model, kind, mix, target)].append(row)
        rows[(model, kind, POOLED, target)].append(row)
    out = {}
    for key, group in sorted(rows.items()):
        sources = np.array([s for s, _, _ in group])
        if key[2] != POOLED and len(set(sources.tolist())) < MIN_SOURCES:
            continue
        measured, predicted = (np.array([r[i] for r in group]) for i in (1, 2))
        out[key] = _group(sources, measured, predicted)
    return out


def fit_intervals(
    residuals: Sequence[Row],
    level: float = LEVEL,
    provenance: Mapping[str, Any] | None = None,
    tail: float | Mapping[tuple[str, str], float] = TAIL,
) -> IntervalTable:
    """Quantiles of out-of-source residuals (the method: module docstring).

    Args:
        residuals: ``(model, kind, mix, target, source, measured, predicted)`` per held-out row and target.
        level: the central probability the intervals stand for (recorded in the table).
        provenance: what the residuals come from (data files, sources, command, date).
        tail: lower quantile taken (the upper one is ``1 - tail``), or one per ``(model, kind)``
            (:func:`choose_tails`; :data:`TAIL` for a kind the mapping has not).

    Example:
        >>> rows = [("m", "hls", "dense", "lut", f"s{i}", 100.0 + i, 100.0) for i in range(8)]
        >>> fit_intervals(rows, tail=choose_tails(rows)).interval("m", "hls", "dense", "lut", 100.0)  # doctest: +SKIP
    """
    out: dict[str, dict[str, dict[str, dict[str, Quantiles]]]] = {}
    for (model, kind, mix, target), group in _groups(residuals).items():
        at = tail if isinstance(tail, float | int) else tail.get((model, kind), TAIL)
        out.setdefault(model, {}).setdefault(kind, {}).setdefault(mix, {})[target] = group.at(float(at))
    return IntervalTable(out, level, dict(provenance or {}))


def _coverage_loss(pooled: float, weighted: float) -> tuple[float, float]:
    """How far held-out coverage lies outside :data:`COVERAGE_BAND` with sources weighted equally (what
    source-weighted quantiles can move), then pooled over rows (a source with most of the rows is inside
    or outside as a whole, so pooled coverage mostly follows that one source)."""
    low, high = COVERAGE_BAND
    return max(low - weighted, weighted - high, 0.0), max(low - pooled, pooled - high, 0.0)


def choose_tails(
    residuals: Sequence[Row], units: Mapping[str, Any] | None = None, candidates: Sequence[float] = TAILS
) -> dict[tuple[str, str], float]:
    """Per ``(model, kind)``, the tail of ``candidates`` whose intervals, fitted on ``residuals`` without
    one unit of sources at a time (``units``: source -> unit, e.g. its validation fold; default: each
    source alone), hold that unit's rows (every target) closest to :data:`COVERAGE_BAND`
    (:func:`_coverage_loss`; ties go to the larger tail, the narrower interval).

    One tail per kind of row, not per target: with 8-25 sources, a tail chosen per target followed the
    few sources that set it (held out, post-synthesis latency coverage fell 92 -> 71 %, sources weighted).
    Only the residuals given are used, so called on some folds' rows the choice knows nothing of the
    others (``validation.interval_coverage`` is nested). A kind with one unit keeps :data:`TAIL`.

    Example:
        >>> rows = [("m", "hls", "dense", "lut", f"s{i}", 100.0 + i, 100.0) for i in range(8)]
        >>> choose_tails(rows)[("m", "hls")] in TAILS
        True
    """
    unit = (lambda source: units[source]) if units is not None else (lambda source: source)
    per_kind: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in residuals:
        per_kind[(row[0], row[1])].append(row)
    out = {}
    for key, rows in sorted(per_kind.items()):
        held_units = sorted({unit(row[4]) for row in rows}, key=str)
        if len(held_units) < 2:
            continue
        inside: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(len(candidates)))
        counts: Counter[str] = Counter()
        for held in held_units:
            groups = _groups([row for row in rows if unit(row[4]) != held])
            at = {g: [group.at(tail) for tail in candidates] for g, group in groups.items()}
            for model, kind, mix, target, source, measured, predicted in (r for r in rows if unit(r[4]) == held):
                g = next(
                    (model, kind, m, target) for m in (mix, BACKOFF.get(mix), POOLED) if (model, kind, m, target) in at
                )
                inside[source] += [lo <= measured <= hi for lo, hi in (q.interval(predicted) for q in at[g])]
                counts[source] += 1
        pooled = sum(inside.values()) / sum(counts.values())
        weighted = sum(inside[s] / counts[s] for s in counts) / len(counts)
        losses = [(*_coverage_loss(p, w), -tail) for p, w, tail in zip(pooled, weighted, candidates)]
        out[key] = candidates[losses.index(min(losses))]
    return out
