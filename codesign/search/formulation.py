"""The five problem formulations: what an Optuna trial reports for an architecture and its designs.

A nested trial is one architecture with its accuracy and its hardware front (every Pareto-optimal
feasible hardware configuration). What the study sees:

* ``pareto``: the objectives' values at the front's ideal point: accuracy, and for each cost objective
  the best value any of the architecture's designs reaches (on the primary part). The sampler learns
  which architectures can give good designs; every design is kept in the results.
* ``accuracy`` and ``two_stage``: accuracy alone (two_stage picks hardware after the search).
* ``constrained``: the objectives (default accuracy alone) with the budgets as Optuna constraints
  (``trial.set_constraint``); every formulation also reports the part fit as a constraint.
* ``scalarized``: the best score of any design (:class:`~codesign.search.objectives.Scalarization`).

Constraints go where Optuna's ``constraints_func`` puts them (:data:`CONSTRAINTS_ATTR`, a trial system
attribute holding one value: the largest relative excess over the part or a budget, ``<= 0`` feasible);
samplers read it as ``FrozenTrial.constraints`` and optuna-dashboard marks trials infeasible from it.

An architecture rejected before training (nothing fits the primary part and the budgets) has no
accuracy: it is told as PRUNED, with no values (so no made-up accuracy joins the front or the plots),
its positive constraint, ``status: rejected``, the reason and the cost bounds no configuration can beat
(user attribute ``cost_bounds``). TPE ranks infeasible pruned trials below every feasible one; NSGA-II/III
and GP build on COMPLETE trials only, so a rejection simply does not enter their populations and models.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from codesign.search.objectives import METRICS, Budget, Scalarization, metric_value
from hw_templates.parts import FpgaPart

__all__ = ["CONSTRAINTS_ATTR", "Formulation", "constraint_attrs"]

#: Optuna's trial system attribute for constraint values (``optuna.study._constrained_optimization.
#: _CONSTRAINTS_KEY``, written by samplers' ``constraints_func``; read by every constraint-aware sampler as
#: ``FrozenTrial.constraints`` and by optuna-dashboard, which marks trials with a positive value infeasible).
#: Each trial reports one value there: the largest relative excess over the part or a budget.
CONSTRAINTS_ATTR = "constraints"


def constraint_attrs(excess: float) -> dict[str, list[float]]:
    """The system attributes that report a trial's constraint (``<= 0``: feasible)."""
    return {CONSTRAINTS_ATTR: [float(excess)]}


@dataclass(frozen=True)
class Formulation:
    """How accuracy and cost become a trial's values.

    Attributes:
        kind: one of ``pareto, accuracy, constrained, scalarized, two_stage``.
        objectives: the study's metrics (``accuracy`` for the single-value kinds).
        cost_metrics: the axes designs are compared on.
        budgets: caps (also applied by the hardware search).
        scalarization: for ``scalarized``.
        fit_probability: when set, designs must fit their part with at least this probability under
            the cost model's intervals (the hardware search drops the others).
        maximize: figures of the user's own (not built-in metrics) that are maximized; every other
            figure is minimized.
    """

    kind: str
    objectives: tuple[str, ...]
    cost_metrics: tuple[str, ...]
    budgets: tuple[Budget, ...] = ()
    scalarization: Scalarization | None = None
    fit_probability: float | None = None
    maximize: tuple[str, ...] = ()

    def maximized(self, name: str) -> bool:
        """True when metric or figure ``name`` is maximized."""
        return bool(METRICS[name]) if name in METRICS else name in self.maximize

    @property
    def directions(self) -> list[str]:
        """Optuna study directions, one per reported value."""
        if self.kind == "scalarized":
            return ["maximize"]
        return ["maximize" if self.maximized(m) else "minimize" for m in self.objectives]

    @property
    def value_names(self) -> list[str]:
        return ["score"] if self.kind == "scalarized" else list(self.objectives)

    def design_values(self, accuracy: float, totals: Mapping[str, float], part: FpgaPart, clock: float) -> list[float]:
        """The reported values of a single design."""
        if self.kind == "scalarized":
            assert self.scalarization is not None  # set for this kind by construction
            costs = {m: metric_value(m, totals, part, clock) for m in self.scalarization.metrics}
            return [self.scalarization.score(accuracy, costs)]
        return [accuracy if m == "accuracy" else metric_value(m, totals, part, clock) for m in self.objectives]

    def trial_values(
        self, accuracy: float, designs: Sequence[Mapping[str, float]], part: FpgaPart, clock: float
    ) -> list[float]:
        """Values of an architecture with ``accuracy`` and the totals of its designs on ``part``."""
        rows = np.array([self.design_values(accuracy, t, part, clock) for t in designs])
        best = [rows[:, i].max() if d == "maximize" else rows[:, i].min() for i, d in enumerate(self.directions)]
        return [float(v) for v in best]

    def design_costs(self, totals: Mapping[str, float], part: FpgaPart, clock: float) -> np.ndarray:
        """A design's cost-metric vector (all minimized: a maximized figure is negated)."""
        return np.array(
            [(-1.0 if self.maximized(m) else 1.0) * metric_value(m, totals, part, clock) for m in self.cost_metrics]
        )

    def needed_accuracy(self, costs: np.ndarray, archive_acc: np.ndarray, archive_costs: np.ndarray) -> float:
        """Smallest accuracy with which some design of cost ``costs`` (rows) would still be useful.

        "Useful": not dominated by an archived design (Pareto kinds), or scoring above the best
        archived score (single-value kinds). ``-inf`` when nothing archived stands in the way.

        Args:
            costs: ``(n, len(cost_metrics))`` cost vectors of the architecture's designs.
            archive_acc: accuracies of the finished designs.
            archive_costs: their cost vectors.
        """
        if len(archive_acc) == 0 or len(costs) == 0:
            return -math.inf
        if self.kind == "scalarized":
            assert self.scalarization is not None
            names = self.scalarization.metrics
            best = max(self.scalarization.score(a, dict(zip(names, c))) for a, c in zip(archive_acc, archive_costs))
            return min(self.scalarization.needed_accuracy(best, dict(zip(names, c))) for c in costs)
        if "accuracy" not in self.objectives:
            return -math.inf
        if len(self.objectives) == 1:
            return float(archive_acc.max())
        # A design survives if no archived design is at least as cheap on every axis and as accurate.
        covers = np.all(archive_costs[None, :, :] <= costs[:, None, :], axis=2)
        needed = np.where(covers, archive_acc[None, :], -np.inf).max(axis=1)
        return float(needed.min())

    def bound_values(self, accuracy: float, bounds: Mapping[str, float], part: FpgaPart, clock: float) -> list[float]:
        """Values of an architecture with ``accuracy`` whose designs all miss the part or a budget: the
        cost bounds no configuration can beat (a retargeted design that no longer fits)."""
        return self.design_values(accuracy, bounds, part, clock)
