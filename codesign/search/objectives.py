"""Metrics, budgets and scalarizations: how a design's accuracy and cost become search objectives.

A *metric* is a number computed from a design's accuracy and cost totals on one part (see
:data:`METRICS`). Costs are what the cost model estimates (HLS targets), per design:

* ``lut``, ``ff``, ``dsp``, ``bram18``: resource counts; ``latency_cycles``, ``ii_cycles`` and their
  ``_ns`` forms (cycles x clock period).
* ``utilization``: the largest fraction of the part any resource takes (the binding resource).
* ``lut_dsp``: LUT and DSP fractions of the part, summed. The default resource objective: the two
  resources hls4ml designs trade against each other, on one scale whatever the part size.

A *budget* caps a metric: a count (``lut: 20000``), a percentage of the part (``dsp: "50%"``), a latency
in ns or cycles (``latency_ns: 100``, ``latency_cycles: 20``) or an interval (``ii_cycles: 1``). Budgets
become Optuna constraints (``trial.set_constraint``): one value per budget, ``value / limit - 1``, which
is ``<= 0`` exactly when the budget is met. Fitting the part is always a constraint.

Scalarizations (MnasNet, Tan et al., CVPR 2019, eq. 2): the weighted product
``accuracy * prod((m / target_m) ** w_m)`` (MnasNet's soft constraint uses ``w = -0.07``), and the
weighted sum ``accuracy + sum(w_m * m / target_m)`` (negative weights penalize cost).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import FpgaPart

__all__ = [
    "COST_METRICS",
    "METRICS",
    "RESOURCE_FIELDS",
    "Budget",
    "Scalarization",
    "metric_value",
    "metric_values",
    "parse_budget",
]

#: Resource totals a part limits (the cost record's names).
RESOURCE_FIELDS = ("lut", "ff", "dsp", "bram18")
#: Every metric and whether it is maximized.
METRICS: Mapping[str, bool] = MappingProxyType(
    {
        "accuracy": True,
        "latency_ns": False,
        "latency_cycles": False,
        "ii_cycles": False,
        "ii_ns": False,
        "lut": False,
        "ff": False,
        "dsp": False,
        "bram18": False,
        "utilization": False,
        "lut_dsp": False,
    }
)
#: Metrics computed from cost alone (all minimized).
COST_METRICS = tuple(m for m in METRICS if m != "accuracy")
_BUDGET_METRICS = ("lut", "ff", "dsp", "bram18", "latency_ns", "latency_cycles", "ii_cycles", "ii_ns", "utilization")
_PERCENT_OK = frozenset(RESOURCE_FIELDS)


def check_metric(name: str, where: str, allowed: tuple[str, ...] = tuple(METRICS)) -> str:
    """Return ``name`` if it is one of ``allowed``; SpecError with a did-you-mean otherwise."""
    if name not in allowed:
        raise SpecError(bad_value(where, name, "one of " + ", ".join(allowed), allowed))
    return name


def metric_value(name: str, totals: Mapping[str, float], part: FpgaPart, clock_ns: float) -> float:
    """Value of cost metric ``name`` for cost ``totals`` (``lut``..``ii_cycles``) on ``part``.

    A figure missing from ``totals`` (user-supplied costs) gives NaN; utilization uses the figures given.
    A name that is not a built-in metric is read from ``totals`` as is (a user's own figure; the
    search checks before its first trial that the cost function returns every figure it needs).

    Example:
        >>> from hw_templates import resolve_part
        >>> t = {"lut": 532, "ff": 0, "dsp": 22, "bram18": 0, "latency_cycles": 10, "ii_cycles": 1}
        >>> round(metric_value("lut_dsp", t, resolve_part("xc7z020"), 5.0), 3)
        0.11
    """

    def get(key: str) -> float:
        return float(totals.get(key, math.nan))

    if name in RESOURCE_FIELDS or name in ("latency_cycles", "ii_cycles"):
        return get(name)
    if name == "latency_ns":
        return get("latency_cycles") * clock_ns
    if name == "ii_ns":
        return get("ii_cycles") * clock_ns
    if name == "utilization":
        shares = [get(r) / getattr(part, r) for r in RESOURCE_FIELDS if r in totals]
        return max(shares) if shares else math.nan
    if name == "lut_dsp":
        return get("lut") / part.lut + get("dsp") / part.dsp
    return get(name)  # a figure of the user's own (e.g. a second device's latency); NaN when missing


def metric_values(
    names: tuple[str, ...], accuracy: float | None, totals: Mapping[str, float], part: FpgaPart, clock_ns: float
) -> tuple[float, ...]:
    """Values of several metrics (``accuracy`` included) for one design."""
    out = []
    for name in names:
        if name == "accuracy":
            out.append(float("nan") if accuracy is None else float(accuracy))
        else:
            out.append(metric_value(name, totals, part, clock_ns))
    return tuple(out)


@dataclass(frozen=True)
class Budget:
    """An upper limit on one cost metric.

    Attributes:
        metric: the capped metric (a resource, ``latency_ns``, ``latency_cycles``, ``ii_cycles``,
            ``ii_ns`` or ``utilization``).
        limit: the cap, in the metric's unit (a count, ns, cycles, or a fraction for utilization).
        percent: when set, the cap is this percentage of the part's resource (``limit`` unused).
    """

    metric: str
    limit: float
    percent: float | None = None

    def limit_on(self, part: FpgaPart) -> float:
        """The cap in the metric's unit on ``part``."""
        if self.percent is not None:
            return getattr(part, self.metric) * self.percent / 100.0
        return self.limit

    def violation(self, totals: Mapping[str, float], part: FpgaPart, clock_ns: float) -> float:
        """``value / limit - 1``: ``<= 0`` when the budget is met (Optuna's constraint convention)."""
        limit = self.limit_on(part)
        value = metric_value(self.metric, totals, part, clock_ns)
        if limit <= 0:
            return value
        return value / limit - 1.0

    def describe(self) -> str:
        return f"{self.metric} <= {self.percent:g}%" if self.percent is not None else f"{self.metric} <= {self.limit:g}"


def parse_budget(metric: str, value: object) -> Budget:
    """A budget from a config entry: a number, or ``"N%"`` for resources.

    Raises:
        SpecError: unknown metric, a negative or non-numeric value, or a percentage on a non-resource.

    Example:
        >>> parse_budget("dsp", "50%").percent
        50.0
    """
    check_metric(metric, "budgets", _BUDGET_METRICS)
    where = f"budgets.{metric}"
    if isinstance(value, str) and value.strip().endswith("%"):
        if metric not in _PERCENT_OK:
            raise SpecError(bad_value(where, value, "a number (percentages only for lut, ff, dsp, bram18)"))
        try:
            percent = float(value.strip()[:-1])
        except ValueError:
            raise SpecError(bad_value(where, value, "a percentage such as '50%'")) from None
        if not 0 <= percent <= 100:
            raise SpecError(bad_value(where, value, "a percentage between 0% and 100%"))
        return Budget(metric, math.nan, percent)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise SpecError(bad_value(where, value, "a non-negative number or a percentage such as '50%'"))
    return Budget(metric, float(value))


@dataclass(frozen=True)
class Scalarization:
    """Weighted sum or weighted product of accuracy and cost metrics (higher is better).

    Attributes:
        method: ``weighted_product`` (MnasNet) or ``weighted_sum``.
        targets: per cost metric, the value it is normalized by.
        weights: per cost metric, its exponent (product) or coefficient (sum); negative penalizes.

    Example:
        >>> s = Scalarization("weighted_product", {"latency_ns": 100.0}, {"latency_ns": -0.07})
        >>> round(s.score(0.9, {"latency_ns": 200.0}), 4)
        0.8569
    """

    method: str
    targets: Mapping[str, float] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in ("weighted_product", "weighted_sum"):
            allowed = ("weighted_product", "weighted_sum")
            raise SpecError(bad_value("scalarization.method", self.method, " or ".join(allowed), allowed))
        if not self.targets:
            raise SpecError("scalarization.targets: expected at least one cost metric with its target, got none")
        for name, target in self.targets.items():
            check_metric(name, "scalarization.targets", COST_METRICS)
            if not target > 0:
                raise SpecError(bad_value(f"scalarization.targets.{name}", target, "a positive number"))
        for name in self.weights:
            if name not in self.targets:
                raise SpecError(bad_value("scalarization.weights", name, "a metric listed in targets", self.targets))
        object.__setattr__(self, "targets", MappingProxyType(dict(self.targets)))
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.targets)

    def weight(self, name: str) -> float:
        """The metric's weight; MnasNet's -0.07 when not given."""
        return float(self.weights.get(name, -0.07))

    def score(self, accuracy: float, values: Mapping[str, float]) -> float:
        """The scalar objective (maximized) of a design with ``accuracy`` and cost ``values``."""
        if self.method == "weighted_product":
            out = accuracy
            for name, target in self.targets.items():
                out *= (max(values[name], 1e-12) / target) ** self.weight(name)
            return float(out)
        return float(accuracy + sum(self.weight(n) * values[n] / t for n, t in self.targets.items()))

    def needed_accuracy(self, best_score: float, values: Mapping[str, float]) -> float:
        """The accuracy a design with cost ``values`` needs to score ``best_score``."""
        if self.method == "weighted_product":
            factor = self.score(1.0, values)
            return best_score / factor if factor > 0 else math.inf
        return best_score - (self.score(0.0, values))
