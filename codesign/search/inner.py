"""The inner hardware search: every Pareto-optimal hardware configuration of one architecture.

For each part and design family (:mod:`codesign.search.hardware_space`) the solver

1. estimates the network once at the family's base settings (layers without weights, FIFOs and other
   terms no per-layer knob changes are constants from here on);
2. costs every per-layer option of each weight layer at once with the cost model's vectorised
   ``layer_grid`` (one call per strategy and parallelization factor);
3. drops every per-layer option another option of the same layer dominates (*per-layer Pareto
   pruning*): totals are monotone in each layer's figures (resources add up, latency adds along the
   critical path, the interval is the slowest layer's), so a dominated option never appears in a
   Pareto-optimal design;
4. combines the layers: exhaustively when the product of the pruned option counts is at most
   :data:`EXHAUSTIVE_LIMIT`, else by merging one layer at a time and keeping only the non-dominated
   partial sums, after dropping partial designs that already break a resource or latency cap
   (exact for chains; for graphs with branches the merge ranks latency by the sum of the layers'
   latencies and re-checks the true critical path at the end, a heuristic flagged in the result);
5. evaluates the survivors exactly, keeps the feasible ones (the part, the budgets, the template's DSP
   cap) and returns those no other design dominates on the objective's cost metrics.

Only the quantities an objective or a cap can see are compared (a resource whose largest possible
total stays inside every cap cannot matter), so pruning stays exact with few dimensions. If a merge
front outgrows :data:`MAX_FRONT` it is thinned on a relative grid (epsilon-dominance, Laumanns et al.,
Evolutionary Computation 10(3), 2002) and the result is flagged ``exact=False``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from codesign.search import metrics
from codesign.search._combine import DesignTables, build_tables, evaluate_combos
from codesign.search.hardware_space import Family, HardwareSpace
from codesign.search.metrics import RAW_KEYS, Caps
from codesign.search.objectives import Budget
from codesign.search.pareto import nondominated
from cost_models.base import CostModel
from cost_models.ir import LayerGraph
from hw_templates.config import HardwareConfig
from hw_templates.parts import FpgaPart

__all__ = [
    "DEFAULT_COST_METRICS",
    "EXHAUSTIVE_LIMIT",
    "MAX_FRONT",
    "HardwareFront",
    "HardwarePoint",
    "design_violation",
    "search_hardware",
]

#: Largest number of (pruned) combinations evaluated one by one instead of merged layer by layer.
EXHAUSTIVE_LIMIT = 20_000
#: Largest partial front kept while merging before it is thinned.
MAX_FRONT = 3_000
#: Metrics designs are compared on when the caller names none.
DEFAULT_COST_METRICS = ("latency_ns", "lut_dsp")
TOTAL_KEYS = RAW_KEYS


@dataclass(frozen=True)
class HardwarePoint:
    """One Pareto-optimal hardware configuration of an architecture on one part.

    ``hardware`` is ``None`` for designs whose cost figures a user's cost function gave directly.
    """

    family: str
    part_name: str
    hardware: HardwareConfig | None
    totals: dict[str, float]


@dataclass(frozen=True)
class HardwareFront:
    """Result of :func:`search_hardware` for one architecture.

    Attributes:
        points: per part name, the Pareto-optimal feasible configurations.
        configurations: size of the hardware space searched (all parts and families).
        evaluated: combinations the solver actually formed.
        seconds: wall time.
        exact: False when a merge front was thinned or a branched graph was merged heuristically.
        best_violation: per part, the smallest Optuna-style constraint violation any configuration
            reaches (0 when some configuration is feasible).
        reasons: why families were skipped or found nothing feasible, for the record.
        bounds: per part, totals no configuration can beat (each at its own minimum over families).
    """

    points: dict[str, tuple[HardwarePoint, ...]]
    configurations: int
    evaluated: int
    seconds: float
    exact: bool
    best_violation: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    bounds: dict[str, dict[str, float]] = field(default_factory=dict)

    def feasible_on(self, part_name: str) -> bool:
        return bool(self.points.get(part_name))

    @property
    def configs_per_second(self) -> float:
        return self.configurations / self.seconds if self.seconds > 0 else math.inf


def search_hardware(
    graph: LayerGraph,
    space: HardwareSpace,
    model: CostModel,
    cost_metrics: Sequence[str],
    budgets: Sequence[Budget] = (),
    fit_probability: float | None = None,
) -> HardwareFront:
    """Every Pareto-optimal feasible hardware configuration of ``graph`` in ``space``, per part.

    Args:
        graph: the architecture.
        space: parts, clock, backend and design families.
        model: a cost model with ``layer_grid`` (e.g. ``get_cost_model("analytical")``).
        cost_metrics: cost metrics the designs are compared on (e.g. ``("latency_ns", "lut_dsp")``).
        budgets: caps every design must meet (besides fitting the part).
        fit_probability: when set, a design must also fit its part with at least this probability
            under the cost model's intervals (``cost_models.lut.fit_probability``; the lookup-table
            model gives intervals, the analytical one none, so there it is the plain fit).

    Returns:
        The fronts, with search statistics.

    Raises:
        UnsupportedLayerError: the cost model cannot estimate a layer (the caller records the trial as
            failed).
    """
    cost_metrics = tuple(cost_metrics) or DEFAULT_COST_METRICS
    start = time.perf_counter()
    points, violations, bounds = {}, {}, {}
    reasons: list[str] = []
    configurations = evaluated = 0
    exact = True
    for part in space.parts:
        found: list[HardwarePoint] = []
        best, low = math.inf, dict.fromkeys(TOTAL_KEYS, math.inf)
        for family in space.families:
            if reason := family.rejection(graph):
                reasons.append(f"{family.label}: {reason}")
                continue
            tables = build_tables(graph, family, part, space, model)
            result = _solve(tables, family, part, space.clock_ns, cost_metrics, budgets)
            why = "no configuration meets the part and budgets"
            if fit_probability is not None and result.points:
                result = _require_fit(
                    result, family, tables, graph, model, part, space.clock_ns, cost_metrics, fit_probability
                )
                why = f"no configuration fits with probability >= {fit_probability}"
            configurations, evaluated = configurations + tables.size, evaluated + result.evaluated
            exact &= result.exact
            best, low = min(best, result.best_violation), {k: min(low[k], result.bounds[k]) for k in TOTAL_KEYS}
            found.extend(result.points)
            if not result.points:
                reasons.append(f"{family.label} on {part.name}: {why}")
        points[part.name] = _pareto_points(found, part, space.clock_ns, cost_metrics)
        violations[part.name], bounds[part.name] = max(best, 0.0), low
    seconds = time.perf_counter() - start
    return HardwareFront(points, configurations, evaluated, seconds, exact, violations, tuple(reasons), bounds)


@dataclass(frozen=True)
class _Solved:
    points: list[HardwarePoint]
    evaluated: int
    exact: bool
    best_violation: float
    bounds: dict[str, float]
    combos: np.ndarray
    totals: dict[str, np.ndarray]
    feasible: np.ndarray


def _caps(family: Family, part: FpgaPart, budgets: Sequence[Budget]) -> dict[str, float]:
    """Upper limits on the raw resource totals from the part, the budgets and the template's DSP cap."""
    return Caps.of(part, budgets, family.max_dsp).limits


def _solve(
    tables: DesignTables,
    family: Family,
    part: FpgaPart,
    clock_ns: float,
    cost_metrics: Sequence[str],
    budgets: Sequence[Budget],
) -> _Solved:
    caps = _caps(family, part, budgets)
    lows = tables.lower_bounds()
    bound = float(_violation(lows, family, budgets, part, clock_ns)[0])
    combos, evaluated, exact = tables.combine(caps, cost_metrics, budgets, part, clock_ns)
    totals = evaluate_combos(tables, combos)
    violation = _violation(totals, family, budgets, part, clock_ns)
    best = max(float(violation.min()), bound) if len(violation) else max(bound, 1e-9)
    feasible = np.flatnonzero(violation <= 0)
    front = _front_indices(feasible, totals, part, clock_ns, cost_metrics)
    points = [_point(family, tables, combos, totals, i, part, clock_ns) for i in front]
    return _Solved(points, evaluated, exact, best, {k: float(v[0]) for k, v in lows.items()}, combos, totals, feasible)


def _front_indices(
    candidates: np.ndarray, totals: dict[str, np.ndarray], part: FpgaPart, clock_ns: float, cost_metrics: Sequence[str]
) -> np.ndarray:
    """The candidates (indices into the combinations) no other candidate dominates on ``cost_metrics``."""
    if not len(candidates) or not cost_metrics:
        return candidates
    values = np.stack([metrics.value(m, totals, part, clock_ns)[candidates] for m in cost_metrics], axis=1)
    return candidates[nondominated(values)]


def _point(
    family: Family,
    tables: DesignTables,
    combos: np.ndarray,
    totals: dict[str, np.ndarray],
    i: int,
    part: FpgaPart,
    clock_ns: float,
    **extra: float,
) -> HardwarePoint:
    figures = {k: float(totals[k][i]) for k in TOTAL_KEYS}
    return HardwarePoint(family.label, part.name, tables.config(combos[i], part, clock_ns), {**figures, **extra})


def _require_fit(
    solved: _Solved,
    family: Family,
    tables: DesignTables,
    graph: LayerGraph,
    model: CostModel,
    part: FpgaPart,
    clock_ns: float,
    cost_metrics: Sequence[str],
    level: float,
) -> _Solved:
    """The front of the feasible designs that fit ``part`` with probability >= ``level``.

    The front is first taken on the median estimates; each member is then estimated in full (with its
    intervals) and dropped if it is too likely not to fit, and the designs it hid come forward. This
    repeats until every member passes, so the result is exactly the front of the designs that pass.
    Each kept design's totals carry its ``fit_probability``.
    """
    from cost_models.lut import fit_probability

    candidates = solved.feasible
    probability: dict[int, float] = {}
    while len(candidates):
        front = _front_indices(candidates, solved.totals, part, clock_ns, cost_metrics)
        for i in front:
            if int(i) not in probability:
                config = tables.config(solved.combos[i], part, clock_ns)
                probability[int(i)] = fit_probability(model.estimate(graph, config))
        failed = [i for i in front if probability[int(i)] < level]
        if not failed:
            points = [
                _point(
                    family, tables, solved.combos, solved.totals, i, part, clock_ns, fit_probability=probability[int(i)]
                )
                for i in front
            ]
            return replace(solved, points=points)
        candidates = np.setdiff1d(candidates, np.array(failed))
    return replace(solved, points=[])


def design_violation(
    totals: dict[str, float], family: Family, part: FpgaPart, budgets: Sequence[Budget], clock_ns: float
) -> float:
    """Largest relative excess of one design's totals over the part, the budgets and the family's caps."""
    return float(metrics.violation(totals, part, clock_ns, budgets, family.max_dsp))


def _violation(
    totals: dict[str, np.ndarray], family: Family, budgets: Sequence[Budget], part: FpgaPart, clock_ns: float
) -> np.ndarray:
    """:func:`codesign.search.metrics.violation` per combination (``<= 0``: feasible)."""
    return np.asarray(metrics.violation(totals, part, clock_ns, budgets, family.max_dsp), dtype=float)


def _pareto_points(
    points: list[HardwarePoint], part: FpgaPart, clock_ns: float, cost_metrics: Sequence[str]
) -> tuple[HardwarePoint, ...]:
    if not points:
        return ()
    values = np.array([[metrics.value(m, p.totals, part, clock_ns) for m in cost_metrics] for p in points])
    keep = nondominated(values)
    order = sorted(keep.tolist(), key=lambda i: tuple(values[i]))
    return tuple(points[i] for i in order)
