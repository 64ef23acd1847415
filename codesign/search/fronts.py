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

    Keys: ``lut, ff, dsp, bram18`` (checked against the part), ``latency_cycles`` or ``latency_ns``,
    ``ii_cycles`` or ``ii_ns``, and any figure of the user's own (e.g. ``latency_ms_cpu``: an objective
    or a budget may name it; it is not checked against the part). Every key an objective or a budget
    needs must be given. An empty list means the architecture has no feasible design (it is rejected).

    Raises:
        SearchError: a missing needed key, or a value that is not a finite number >= 0.
    """
    start = time.perf_counter()
    rows = [figures] if isinstance(figures, Mapping) else list(figures)
    part, clock = space.primary, space.clock_ns
    if not rows:
        reason = ("cost(arch) returned no design",)
        return HardwareFront(
            {part.name: ()}, 0, 0, time.perf_counter() - start, True, {part.name: 1.0}, reason, {part.name: {}}
        )
    totals = [_totals(row, clock, cost_metrics, budgets) for row in rows]
    violation = np.array([_figure_violation(t, part, budgets, clock) for t in totals])
    feasible = [t for t, v in zip(totals, violation) if v <= 0]
    points: tuple[HardwarePoint, ...] = ()
    if feasible:
        values = np.array([[metrics.value(m, t, part, clock) for m in cost_metrics] for t in feasible])
        points = tuple(HardwarePoint("user", part.name, None, feasible[i]) for i in nondominated(values))
    bounds = {k: min(t.get(k, math.inf) for t in totals) for k in {key for t in totals for key in t} | set(TOTAL_KEYS)}
    elapsed = time.perf_counter() - start
    return HardwareFront(
        {part.name: points}, len(rows), len(rows), elapsed, True, {part.name: max(float(violation.min()), 0.0)},
        (), {part.name: bounds},
    )  # fmt: skip


def _totals(row: Mapping[str, float], clock: float, names: Sequence[str], budgets: Sequence[Budget]) -> dict:
    out: dict[str, float] = {}
    for key, value in row.items():
        if not isinstance(key, str) or not key:
            raise SearchError(bad_value("cost(arch) key", key, "a figure name such as 'lut' or 'latency_ns'"))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise SearchError(bad_value(f"cost(arch)[{key!r}]", value, "a finite number >= 0"))
        out[key] = float(value)
    for ns, cycles in (("latency_ns", "latency_cycles"), ("ii_ns", "ii_cycles")):
        if ns in out:
            out.setdefault(cycles, out.pop(ns) / clock)
    needed = {k for m in (*names, *(b.metric for b in budgets)) for k in metrics.needs(m)}
    for key in sorted(needed):
        if key not in out:
            raise SearchError(_missing(key, row))
    return out


def _missing(key: str, row: Mapping[str, float]) -> str:
    """One line: the figure an objective or budget needs, what was given, and a look-alike if any."""
    import difflib

    names = (key, key.replace("_cycles", "_ns")) if key.endswith("_cycles") else (key,)
    wanted = " or ".join(repr(n) for n in names)
    given = ", ".join(sorted(row)) or "none"
    hint = ""
    for k in row:
        close = difflib.get_close_matches(k, names, n=1, cutoff=0.6)
        if close and k not in names:
            hint = f" ({k!r} looks like {close[0]!r})"
    return f"cost(arch): expected figure {wanted} (an objective or budget needs it), got {given}{hint}"


def _figure_violation(totals: Mapping[str, float], part: Any, budgets: Sequence[Budget], clock: float) -> float:
    worst = metrics.violation(totals, part, clock, budgets)
    return worst if math.isfinite(worst) else 0.0
