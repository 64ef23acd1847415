"""Hardware fronts other than the nested solver's: the flat baseline's sampled configuration, and
explicit cost figures from a user's cost function.

Flat encoding (Optuna 5 forbids categorical choices that change between trials, and the legal reuse
factors change with every layer): weight layer ``i`` gets ``hw_strategy_<i>`` (categorical over
latency/resource; a family that allows one strategy uses it), ``hw_rf_log2_<i>`` (integer
0..:data:`MAX_RF_LOG2`: the legal reuse factor of that layer nearest ``2**value`` on a log scale) and,
for convolutions with a parallelization range, ``hw_pf_log2_<i>`` likewise; ``hw_family`` picks the
family when there are several.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from codesign.search import metrics
from codesign.search.hardware_space import HardwareSpace, LayerOption
from codesign.search.inner import TOTAL_KEYS, HardwareFront, HardwarePoint, design_violation
from codesign.search.objectives import Budget
from codesign.search.pareto import nondominated
from cost_models.base import CostModel
from cost_models.ir import LayerGraph
from hw_templates.config import Strategy
from hw_templates.errors import SearchError, bad_value

if TYPE_CHECKING:
    import optuna

__all__ = ["MAX_RF_LOG2", "figures_front", "flat_front"]

#: Largest log2 reuse factor the flat encoding proposes (4096).
MAX_RF_LOG2 = 12
_MAX_PF_LOG2 = 6
_FIGURE_KEYS = (*TOTAL_KEYS, "latency_ns")


def _nearest_log(values: Sequence[int], exponent: int) -> int:
    return min(values, key=lambda v: (abs(math.log2(v) - exponent), v))


def flat_choices(trial: optuna.Trial, space: HardwareSpace, graph: LayerGraph) -> tuple[Any, dict[str, LayerOption]]:
    """Sample one hardware configuration as ordinary trial parameters (see the module docstring)."""
    family = space.families[0]
    if len(space.families) > 1:
        labels = [f.label for f in space.families]
        family = space.families[labels.index(trial.suggest_categorical("hw_family", labels))]
    choices = {}
    for i, layer in enumerate(graph.weight_layers()):
        wanted = Strategy(trial.suggest_categorical(f"hw_strategy_{i}", ["latency", "resource"]))
        strategy = wanted if wanted in family.strategies else family.strategies[0]
        rf = _nearest_log(family.reuse_choices(layer), trial.suggest_int(f"hw_rf_log2_{i}", 0, MAX_RF_LOG2))
        pfs = family.parallelization_choices(layer)
        pf = _nearest_log(pfs, trial.suggest_int(f"hw_pf_log2_{i}", 0, _MAX_PF_LOG2)) if len(pfs) > 1 else 1
        choices[layer.name] = LayerOption(strategy, rf, pf)
    return family, choices


def flat_front(
    trial: optuna.Trial,
    graph: LayerGraph,
    space: HardwareSpace,
    model: CostModel,
    budgets: Sequence[Budget],
    fit_probability: float | None = None,
) -> HardwareFront:
    """The flat baseline's single sampled configuration, estimated on every part (and, with
    ``fit_probability``, kept only where it fits with at least that probability)."""
    start = time.perf_counter()
    family, choices = flat_choices(trial, space, graph)
    points, violations, bounds, reasons = {}, {}, {}, []
    reason = family.rejection(graph)
    for part in space.parts:
        hw = family.config(part, space.clock_ns, space.backend, choices)
        cost = model.estimate(graph, hw)
        totals = {k: float(v) for k, v in cost.totals().items() if k in TOTAL_KEYS}
        violation = design_violation(totals, family, part, budgets, space.clock_ns)
        if reason:
            violation = max(violation, 1.0)
            reasons.append(f"{family.label}: {reason}")
        if fit_probability is not None and violation <= 0:
            from cost_models.lut import fit_probability as probability_of_fit

            totals["fit_probability"] = probability_of_fit(cost)
            if totals["fit_probability"] < fit_probability:
                violation = 1e-6  # fits by the medians, but too likely not to
                reasons.append(f"{family.label} on {part.name}: fits with probability < {fit_probability}")
        ok = violation <= 0
        points[part.name] = (HardwarePoint(family.label, part.name, hw, totals),) if ok else ()
        violations[part.name] = max(violation, 0.0)
        bounds[part.name] = {k: v for k, v in totals.items() if k in TOTAL_KEYS}
    return HardwareFront(points, 1, 1, time.perf_counter() - start, True, violations, tuple(reasons), bounds)


def figures_front(
    figures: Mapping[str, float] | Sequence[Mapping[str, float]],
    space: HardwareSpace,
    cost_metrics: Sequence[str],
    budgets: Sequence[Budget],
) -> HardwareFront:
    """A front from a user's explicit cost figures (one mapping per hardware option), on the primary part.

    Keys: ``lut, ff, dsp, bram18, latency_cycles, ii_cycles`` or ``latency_ns``. Keys left out are not
    checked against the part; every key an objective or a budget needs must be given.

    Raises:
        SearchError: an unknown key, a missing needed key, or a non-numeric value.
    """
    start = time.perf_counter()
    rows = [figures] if isinstance(figures, Mapping) else list(figures)
    if not rows:
        raise SearchError("cost(arch): expected cost figures or a LayerGraph, got an empty list")
    part, clock = space.primary, space.clock_ns
    totals = [_totals(row, clock, cost_metrics, budgets) for row in rows]
    violation = np.array([_figure_violation(t, part, budgets, clock) for t in totals])
    feasible = [t for t, v in zip(totals, violation) if v <= 0]
    points: tuple[HardwarePoint, ...] = ()
    if feasible:
        values = np.array([[metrics.value(m, t, part, clock) for m in cost_metrics] for t in feasible])
        points = tuple(HardwarePoint("user", part.name, None, feasible[i]) for i in nondominated(values))
    bounds = {k: min(t.get(k, math.inf) for t in totals) for k in TOTAL_KEYS}
    elapsed = time.perf_counter() - start
    return HardwareFront(
        {part.name: points}, len(rows), len(rows), elapsed, True, {part.name: max(float(violation.min()), 0.0)},
        (), {part.name: bounds},
    )  # fmt: skip


def _totals(row: Mapping[str, float], clock: float, names: Sequence[str], budgets: Sequence[Budget]) -> dict:
    out: dict[str, float] = {}
    for key, value in row.items():
        if key not in _FIGURE_KEYS:
            raise SearchError(bad_value("cost(arch) key", key, "one of " + ", ".join(_FIGURE_KEYS), _FIGURE_KEYS))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise SearchError(bad_value(f"cost(arch)[{key!r}]", value, "a finite number >= 0"))
        out[key] = float(value)
    if "latency_ns" in out:
        out.setdefault("latency_cycles", out.pop("latency_ns") / clock)
    needed = {k for m in (*names, *(b.metric for b in budgets)) for k in metrics.get_metric(m).needs}
    for key in sorted(needed):
        if key not in out:
            raise SearchError(f"cost(arch): figure {key!r} is needed by the objectives/budgets but was not given")
    return out


def _figure_violation(totals: Mapping[str, float], part: Any, budgets: Sequence[Budget], clock: float) -> float:
    worst = metrics.violation(totals, part, clock, budgets)
    return worst if math.isfinite(worst) else 0.0
