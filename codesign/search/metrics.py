"""The metric table: every figure a design is judged on, defined once (:data:`METRIC_TABLE`).

Each :class:`Metric` has a name, a unit and a plot label, a direction, how it combines across layers,
the raw totals it reads and one vectorised function that serves a single design (``float`` totals) and
a whole batch (``numpy`` arrays) alike. Objectives, budgets, the inner hardware search (its per-layer
pruning and its caps), the fronts, ``designs.csv`` and the report all read this table; the constraint
violation is :func:`violation`, here only.

Raw totals (what a cost model estimates per design, ``RAW_KEYS``): ``lut, ff, dsp, bram18, uram``
(resources), ``latency_cycles`` (critical path) and ``ii_cycles`` (initiation interval: the slowest
stage). How layers combine (``Metric.combine``):

* ``sum``: a fixed non-negative combination of the resources (a count, ``lut_dsp``, ``power_w``);
  per-layer options are compared on the combination itself;
* ``path``: latency, added along the critical path of the graph;
* ``max``: the interval, the slowest layer's;
* ``derived``: a monotone function of other metrics (``util_max``, ``energy_nj_per_inference``); the
  per-layer pruning watches what it is derived from (:attr:`Metric.via`).

Power and energy are first-order figures (``cost_models.analytical.power``: static power by device
size plus dynamic power per resource at AMD XPE's default toggle rate, UG440): rough, for comparing
candidates. Energy per inference is power x the initiation interval: an hls4ml design accepts a new
input every II cycles, so at full throughput each inference costs ``power x II`` (for a design that is
not pipelined, II = latency and this is power x latency).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from cost_models.analytical.constants import DEFAULT_CONSTANTS
from cost_models.analytical.power import power_w as _power_w
from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import FpgaPart

__all__ = [
    "CSV_METRICS",
    "METRIC_TABLE",
    "RAW_KEYS",
    "RESOURCE_FIELDS",
    "Metric",
    "check_metric",
    "excess",
    "get_metric",
    "metric_label",
    "needs",
    "value",
    "values",
    "violation",
]

#: Resources a part limits, in report order (the cost record's names).
RESOURCE_FIELDS = ("lut", "ff", "dsp", "bram18", "uram")
#: Every raw total a design carries.
RAW_KEYS = (*RESOURCE_FIELDS, "latency_cycles", "ii_cycles")

Totals = Mapping[str, Any]  # raw totals: floats for one design, equal-length arrays for a batch


@dataclass(frozen=True)
class Metric:
    """One metric of the table (see the module docstring).

    Attributes:
        name: the key used in configs, CSV columns and the study.
        label / unit: axis label and unit (``""`` for a pure number or fraction).
        maximize: True for accuracy; every cost metric is minimized.
        combine: ``sum``, ``path``, ``max``, ``derived`` or ``none`` (accuracy: not a cost).
        needs: raw totals the function reads (a user's cost figures must give them).
        fn: ``fn(totals, part, clock_ns)`` -> the value (scalar or array, like the totals).
        weights: for ``sum`` metrics, ``weights(part, clock_ns)`` -> (per-resource coefficients, constant).
        via: for ``derived`` metrics, the metrics it is a monotone function of.
        percent: a budget may be given as a percentage of the part's resource of this name.
        help: one line for docs and the report.
    """

    name: str
    label: str
    unit: str
    maximize: bool
    combine: str
    needs: tuple[str, ...]
    fn: Callable[[Totals, FpgaPart, float], Any]
    help: str
    weights: Callable[[FpgaPart, float], tuple[dict[str, float], float]] | None = None
    via: tuple[str, ...] = ()
    percent: bool = False
    budget: bool = True

    @property
    def axis(self) -> str:
        """Axis label with the unit, e.g. ``latency (ns)``."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


def _raw(key: str) -> Callable[[Totals, FpgaPart, float], Any]:
    return lambda t, part, clock: _get(t, key)


def _get(totals: Totals, key: str) -> Any:
    got = totals.get(key, math.nan)
    return got if isinstance(got, np.ndarray) else float(got)


def _share(used: Any, available: float) -> Any:
    """Fraction of a part's resource used (``inf`` where the part has none but some is used)."""
    if available:
        return used / available
    return np.where(np.asarray(used) > 0, np.inf, 0.0) if isinstance(used, np.ndarray) else (math.inf if used else 0.0)


def _util_max(totals: Totals, part: FpgaPart, clock: float) -> Any:
    """The largest share of the part among the resources the totals give (a NaN figure is left out)."""
    shares = [_share(_get(totals, r), getattr(part, r)) for r in RESOURCE_FIELDS if r in totals]
    if not shares:
        return math.nan
    if any(isinstance(s, np.ndarray) for s in shares):
        return np.fmax.reduce(np.stack(np.broadcast_arrays(*shares)), axis=0)
    known = [s for s in shares if s == s]
    return max(known) if known else math.nan


def _power_weights(part: FpgaPart, clock: float) -> tuple[dict[str, float], float]:
    """Linear form of ``cost_models.analytical.power.power_w`` (at the analytical model's default constants)."""
    static = _power_w({}, part, clock, DEFAULT_CONSTANTS)
    unit = {r: _power_w({r: 1.0}, part, clock, DEFAULT_CONSTANTS) - static for r in DEFAULT_CONSTANTS.power_uw_per_mhz}
    return unit, static


def _linear(weights: Callable[[FpgaPart, float], tuple[dict[str, float], float]]) -> Callable[..., Any]:
    def fn(totals: Totals, part: FpgaPart, clock: float) -> Any:
        coef, const = weights(part, clock)
        return const + sum(c * _get(totals, r) for r, c in coef.items())

    return fn


def _resource(name: str, label: str, help_: str) -> Metric:
    return Metric(
        name, label, "", False, "sum", (name,), _raw(name), help_,
        weights=lambda part, clock: ({name: 1.0}, 0.0), percent=True,
    )  # fmt: skip


def _lut_dsp_weights(part: FpgaPart, clock: float) -> tuple[dict[str, float], float]:
    return {"lut": 1.0 / part.lut, "dsp": 1.0 / part.dsp}, 0.0


_METRICS = (
    Metric("accuracy", "accuracy", "", True, "none", (), lambda t, p, c: math.nan, "test accuracy", budget=False),
    Metric(
        "latency_ns", "latency", "ns", False, "path", ("latency_cycles",),
        lambda t, p, c: _get(t, "latency_cycles") * c, "first input to last output, cycles x clock period",
    ),
    Metric("latency_cycles", "latency", "cycles", False, "path", ("latency_cycles",), _raw("latency_cycles"),
           "first input to last output (critical path of the graph)"),
    Metric("ii_cycles", "interval (II)", "cycles", False, "max", ("ii_cycles",), _raw("ii_cycles"),
           "initiation interval: cycles between two inputs (the slowest layer)"),
    Metric(
        "ii_ns", "interval (II)", "ns", False, "max", ("ii_cycles",),
        lambda t, p, c: _get(t, "ii_cycles") * c, "initiation interval x clock period",
    ),
    _resource("lut", "LUT", "look-up tables"),
    _resource("ff", "FF", "flip-flops"),
    _resource("dsp", "DSP", "DSP slices"),
    _resource("bram18", "BRAM18", "18 Kb block RAMs"),
    _resource("uram", "URAM", "288 Kb UltraRAM blocks"),
    Metric(
        "util_max", "largest resource share", "fraction of the part", False, "derived", RESOURCE_FIELDS, _util_max,
        "the largest fraction of the part any resource takes (the binding resource)", via=RESOURCE_FIELDS,
    ),
    Metric(
        "lut_dsp", "LUT + DSP share", "fraction of the part", False, "sum", ("lut", "dsp"),
        _linear(_lut_dsp_weights), "LUT share plus DSP share of the part: the two resources hls4ml trades",
        weights=_lut_dsp_weights,
    ),
    Metric(
        "power_w", "power", "W", False, "sum", ("lut", "ff", "dsp", "bram18"), _linear(_power_weights),
        "first-order static + dynamic power (rough; cost_models.analytical.power)", weights=_power_weights,
    ),
    Metric(
        "energy_nj_per_inference", "energy per inference", "nJ", False, "derived",
        ("lut", "ff", "dsp", "bram18", "ii_cycles"),
        lambda t, p, c: _linear(_power_weights)(t, p, c) * _get(t, "ii_cycles") * c,
        "power x initiation interval (at full throughput; rough like power_w)", via=("power_w", "ii_cycles"),
    ),
)  # fmt: skip

#: The metric columns of ``designs.csv`` (raw totals, then derived figures), in order.
CSV_METRICS = (*RAW_KEYS, "latency_ns", "util_max", "lut_dsp", "power_w", "energy_nj_per_inference")
#: Old names still accepted in configs and studies.
ALIASES: Mapping[str, str] = MappingProxyType({"utilization": "util_max"})
#: Every metric by name.
METRIC_TABLE: Mapping[str, Metric] = MappingProxyType({m.name: m for m in _METRICS})


def get_metric(name: str) -> Metric:
    """The table entry of ``name`` (aliases resolved); SpecError when unknown."""
    return METRIC_TABLE[check_metric(name, "metric")]


def check_metric(name: str, where: str, allowed: Sequence[str] | None = None) -> str:
    """``name`` with aliases resolved if it is one of ``allowed`` (default: every metric); SpecError with a
    did-you-mean otherwise."""
    allowed = tuple(METRIC_TABLE) if allowed is None else tuple(allowed)
    resolved = ALIASES.get(name, name) if isinstance(name, str) else name
    if resolved not in allowed:
        raise SpecError(bad_value(where, name, "one of " + ", ".join(allowed), allowed))
    return resolved


def metric_label(name: str) -> str:
    """Axis label with unit of a metric, or the name itself when it is not in the table."""
    metric = METRIC_TABLE.get(ALIASES.get(name, name))
    return metric.axis if metric else name


def needs(name: str) -> tuple[str, ...]:
    """The figures metric ``name`` reads (a figure of the user's own reads itself)."""
    metric = METRIC_TABLE.get(ALIASES.get(name, name))
    return metric.needs if metric else (name,)


def value(name: str, totals: Totals, part: FpgaPart, clock_ns: float) -> Any:
    """Metric ``name`` of ``totals``: a float for one design, an array for a batch. A raw total the metric
    needs but the totals lack gives NaN. A name that is not in the table is a figure of the user's own
    (the library API's ``cost`` may return any figure) and is read from the totals as is.

    Example:
        >>> from hw_templates import resolve_part
        >>> t = {"lut": 532, "ff": 0, "dsp": 22, "bram18": 0, "latency_cycles": 10, "ii_cycles": 1}
        >>> round(value("lut_dsp", t, resolve_part("xc7z020"), 5.0), 3)
        0.11
        >>> value("latency_ns", {"latency_cycles": np.array([2.0, 4.0])}, resolve_part("xc7z020"), 5.0).tolist()
        [10.0, 20.0]
    """
    metric = METRIC_TABLE.get(ALIASES.get(name, name))
    if metric is None:
        return _get(totals, name)
    if metric.combine == "none":
        raise SpecError(bad_value("metric", name, "a cost metric", [m for m in METRIC_TABLE if m != "accuracy"]))
    return metric.fn(totals, part, clock_ns)


def values(
    names: Sequence[str], accuracy: float | None, totals: Totals, part: FpgaPart, clock_ns: float
) -> tuple[float, ...]:
    """Values of several metrics (``accuracy`` included) of one design."""
    acc = math.nan if accuracy is None else float(accuracy)
    return tuple(acc if n == "accuracy" else float(value(n, totals, part, clock_ns)) for n in names)


def excess(used: Any, limit: float) -> Any:
    """Relative excess ``used / limit - 1`` (``<= 0``: within the limit; Optuna's constraint convention);
    the plain value where the limit is 0."""
    return used / limit - 1.0 if limit > 0 else used


@dataclass(frozen=True)
class Caps:
    """Upper limits on raw resource totals (the part, a template's cap, resource budgets)."""

    limits: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, part: FpgaPart, budgets: Sequence[Any] = (), max_dsp: float | None = None) -> Caps:
        limits = {r: float(getattr(part, r)) for r in RESOURCE_FIELDS}
        if max_dsp is not None:
            limits["dsp"] = min(limits["dsp"], float(max_dsp))
        for b in budgets:
            if b.metric in RESOURCE_FIELDS:
                limits[b.metric] = min(limits[b.metric], b.limit_on(part))
        return cls(limits)


def violation(
    totals: Totals, part: FpgaPart, clock_ns: float, budgets: Sequence[Any] = (), max_dsp: float | None = None
) -> Any:
    """The constraint violation: the largest relative excess of ``totals`` over the part's resources (those
    the totals give), a template's DSP cap and every budget. ``<= 0`` exactly when the design is feasible.
    A float for one design, an array for a batch (``-inf`` where nothing is checked)."""
    caps = Caps.of(part, budgets, max_dsp).limits
    worst: Any = -math.inf
    for r, cap in caps.items():
        if r in totals:
            worst = np.maximum(worst, excess(_get(totals, r), cap))
    for b in budgets:
        if b.metric not in RESOURCE_FIELDS:
            worst = np.maximum(worst, excess(value(b.metric, totals, part, clock_ns), b.limit_on(part)))
    return worst if isinstance(worst, np.ndarray) else float(worst)
