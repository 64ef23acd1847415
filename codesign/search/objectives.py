"""Budgets and scalarizations: how a design's accuracy and cost metrics become search objectives.

The metrics themselves (name, unit, direction, how they combine across layers, their one vectorised
function) are the table in :mod:`codesign.search.metrics`; this module re-exports what the search
needs of it (:data:`METRICS`: name -> maximized, :func:`metric_value`).

A *budget* caps a cost metric: a count (``lut: 20000``), a percentage of the part (``dsp: "50%"``, for
resources), a latency in ns or cycles (``latency_ns: 100``, ``latency_cycles: 20``), an interval
(``ii_cycles: 1``), power (``power_w: 2``), energy (``energy_nj_per_inference: 50``) or a share of the
part (``util_max: 0.5``, ``lut_dsp: 0.3``). Budgets become the Optuna constraint
(:data:`codesign.search.formulation.CONSTRAINTS_ATTR`):
``value / limit - 1``, ``<= 0`` exactly when the budget is met (:func:`codesign.search.metrics.violation`).
Fitting the part is always a constraint.

Scalarizations (MnasNet, Tan et al., CVPR 2019, eq. 2): the weighted product
``accuracy * prod((m / target_m) ** w_m)`` (MnasNet's soft constraint uses ``w = -0.07``), and the
weighted sum ``accuracy + sum(w_m * m / target_m)`` (negative weights penalize cost).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from codesign.search import metrics as _metrics
from codesign.search.metrics import METRIC_TABLE, RESOURCE_FIELDS, check_metric
from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import FpgaPart

__all__ = [
    "COST_METRICS",
    "METRICS",
    "RESOURCE_FIELDS",
    "Budget",
    "Scalarization",
    "check_metric",
    "metric_value",
    "metric_values",
    "parse_budget",
]

#: Every metric and whether it is maximized (from the metric table).
METRICS: Mapping[str, bool] = MappingProxyType({m.name: m.maximize for m in METRIC_TABLE.values()})
#: Metrics computed from cost alone (all minimized).
COST_METRICS = tuple(m for m in METRICS if m != "accuracy")
_BUDGET_METRICS = tuple(m.name for m in METRIC_TABLE.values() if m.budget)
_PERCENT_OK = tuple(m.name for m in METRIC_TABLE.values() if m.percent)

#: The value of one cost metric (see :func:`codesign.search.metrics.value`).
metric_value = _metrics.value
#: Values of several metrics, accuracy included (see :func:`codesign.search.metrics.values`).
metric_values = _metrics.values


@dataclass(frozen=True)
class Budget:
    """An upper limit on one cost metric.

    Attributes:
        metric: the capped cost metric (any of :data:`~codesign.search.metrics.METRIC_TABLE` but accuracy).
        limit: the cap, in the metric's unit (a count, ns, cycles, W, nJ, or a fraction of the part).
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
        return float(_metrics.excess(metric_value(self.metric, totals, part, clock_ns), self.limit_on(part)))

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
    where = f"budgets.{metric}"
    metric = check_metric(metric, "budgets", _BUDGET_METRICS)
    if isinstance(value, str) and value.strip().endswith("%"):
        if metric not in _PERCENT_OK:
            raise SpecError(bad_value(where, value, f"a number (percentages only for {', '.join(_PERCENT_OK)})"))
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
        where = "scalarization.targets"
        self.__dict__["targets"] = {check_metric(n, where, COST_METRICS): t for n, t in self.targets.items()}
        self.__dict__["weights"] = {_metrics.ALIASES.get(n, n): w for n, w in self.weights.items()}
        for name, target in self.targets.items():
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
