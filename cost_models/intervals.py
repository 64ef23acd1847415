"""90 % prediction intervals from out-of-source residuals, for every cost model that has them.

A model fitted on some sources is wrong on a new source by more than its residuals on its own sources
say. So the intervals come from leave-source-out residuals: every calibration row predicted by models
fitted without its source (:mod:`cost_models.validation`, run by ``scripts/bench_cost_model.py
--write-intervals``). For each model, kind of row (``hls``: HLS estimate, ``synth``: after synthesis),
layer mix (``dense`` / ``conv`` / ``recurrent``) and target, the shipped file ``data/intervals.json`` holds the 5 % and
95 % quantiles of ``log((measured + 1) / (predicted + 1))``, every source weighing the same (each row
weighs 1 / its source's rows, so one source with hundreds of rows does not set the width for everyone).
A group with fewer than :data:`MIN_SOURCES` sources backs off to the nearest mix that shares its mechanism
(:data:`BACKOFF`: recurrent layers are priced as the Dense products of their gates,
``cost_models.analytical.recurrent`` after hls4ml's ``nnet_recurrent.h``), and only then to the quantiles
of its kind of row pooled over layer mixes. The pool is a last resort: its tails are set by whichever mix
misses most (on the shared calibration data, convolutions seen in one row of a source, off by 5-17x on
HLS LUT), which made every recurrent interval ~12x the estimate wide while the Dense mix, which covers the
recurrent rows held out, is ~1.7x. The file names the data and the command it was built from.

An estimate ``v`` gets the interval ``((v + 1) e^lo - 1, (v + 1) e^hi - 1)``.
"""

from __future__ import annotations

import functools
import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cost_models.cost import Target
from cost_models.ir import LayerGraph, LayerKind
from cost_models.kinds import RECURRENT_KINDS
from hw_templates.errors import CalibrationError

__all__ = [
    "BACKOFF",
    "DEFAULT_INTERVALS",
    "INTERVAL_TARGETS",
    "LEVEL",
    "IntervalTable",
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


def log_residual(measured: float, predicted: float) -> float:
    """``log((measured + 1) / (predicted + 1))``: how far off a prediction was, as a log ratio."""
    return math.log((measured + 1.0) / (max(predicted, 0.0) + 1.0))


@dataclass(frozen=True)
class IntervalTable:
    """Out-of-source residual quantiles: ``quantiles[model][kind][mix][target] = (lo, hi, rows)``."""

    quantiles: Mapping[str, Mapping[str, Mapping[str, Mapping[str, tuple[float, float, int]]]]]
    level: float = LEVEL
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def has(self, model: str) -> bool:
        return model in self.quantiles

    def bounds(self, model: str, kind: str, mix: str, target: str) -> tuple[float, float] | None:
        """The log-ratio quantiles for one prediction (its mix, else :data:`BACKOFF`, else the kind's pool);
        None when the table has nothing for it."""
        per_kind = self.quantiles.get(model, {}).get(kind, {})
        for group in (mix, BACKOFF.get(mix), POOLED):
            q = per_kind.get(group, {}).get(target)
            if q is not None:
                return q[0], q[1]
        return None

    def interval(self, model: str, kind: str, mix: str, target: str, value: float) -> tuple[float, float] | None:
        """The 90 % interval around ``value``; None without quantiles."""
        q = self.bounds(model, kind, mix, target)
        if q is None:
            return None
        base = max(value, 0.0) + 1.0
        return max(base * math.exp(q[0]) - 1.0, 0.0), max(base * math.exp(q[1]) - 1.0, 0.0)

    def to_dict(self) -> dict[str, Any]:
        rows = [[m, k, g, t, round(q[0], 4), round(q[1], 4), q[2]] for m, k, g, t, q in _flat(self.quantiles)]
        return {"format": FORMAT, "level": self.level, "provenance": dict(self.provenance), "quantiles": rows}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str = "intervals") -> IntervalTable:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise CalibrationError(f'{origin}: expected an interval table ("format": "{FORMAT}")')
        try:
            quantiles: dict = {}
            for model, kind, mix, target, lo, hi, rows in data["quantiles"]:
                per_mix = quantiles.setdefault(str(model), {}).setdefault(str(kind), {}).setdefault(str(mix), {})
                per_mix[str(target)] = (float(lo), float(hi), int(rows))
            return cls(quantiles, float(data["level"]), dict(data.get("provenance", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibrationError(f"{origin}: malformed interval table ({type(exc).__name__}: {exc})") from None


def _flat(quantiles: Mapping) -> list[tuple[str, str, str, str, tuple[float, float, int]]]:
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
def interval_factors(model: str, target: Target, mix: str) -> tuple[tuple[str, float, float], ...]:
    """``(metric, e^lo, e^hi)`` of the shipped table for one model, target and layer mix (cached: cost
    models call this on every estimate); empty without a shipped table or quantiles for the model."""
    table = load_intervals()
    if table is None or not table.has(model):
        return ()
    out = []
    for metric in INTERVAL_TARGETS:
        q = table.bounds(model, row_kind(target), mix, metric)
        if q is not None:
            out.append((metric, math.exp(q[0]), math.exp(q[1])))
    return tuple(out)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) - 0.5 * weights[order]
    return float(np.interp(q * weights.sum(), cumulative, values[order]))


def _quantiles(rows: Sequence[tuple[str, float]], level: float) -> tuple[float, float, int]:
    values = np.array([v for _, v in rows])
    counts: dict[str, int] = defaultdict(int)
    for source, _ in rows:
        counts[source] += 1
    weights = np.array([1.0 / counts[s] for s, _ in rows])
    tail = (1.0 - level) / 2
    return _weighted_quantile(values, weights, tail), _weighted_quantile(values, weights, 1 - tail), len(rows)


def fit_intervals(
    residuals: Sequence[tuple[str, str, str, str, str, float]],
    level: float = LEVEL,
    provenance: Mapping[str, Any] | None = None,
) -> IntervalTable:
    """Quantiles of out-of-source residuals.

    Args:
        residuals: ``(model, kind, mix, target, source, log_residual)`` per held-out row and target.
        level: central probability of the intervals.
        provenance: what the residuals come from (data files, sources, command, date).
    """
    groups: dict[tuple[str, str, str, str], list[tuple[str, float]]] = defaultdict(list)
    for model, kind, mix, target, source, value in residuals:
        groups[(model, kind, mix, target)].append((source, value))
        groups[(model, kind, POOLED, target)].append((source, value))
    out: dict[str, dict[str, dict[str, dict[str, tuple[float, float, int]]]]] = {}
    for (model, kind, mix, target), rows in sorted(groups.items()):
        if mix != POOLED and len({s for s, _ in rows}) < MIN_SOURCES:
            continue
        out.setdefault(model, {}).setdefault(kind, {}).setdefault(mix, {})[target] = _quantiles(rows, level)
    return IntervalTable(out, level, dict(provenance or {}))
