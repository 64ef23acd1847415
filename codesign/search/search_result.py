"""What :func:`codesign.search.search` returns: the designs, not counts.

A :class:`Design` is one evaluated architecture with one of its hardware configurations on one part
(its figures: the cost totals, measured figures in place of estimates, and every objective's value).
:class:`SearchResult` holds every design, the Pareto-optimal ones on the primary part, the run's
:class:`~codesign.search.driver.RunSummary` and the Optuna study (for resuming, plotting, or reading
trial attributes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from codesign.search.driver import RunSummary
from codesign.search.formulation import Formulation
from codesign.search.hardware_space import HardwareSpace
from codesign.search.objectives import metric_value
from codesign.search.pareto import nondominated
from codesign.search.records import trial_designs

__all__ = ["Design", "SearchResult"]


@dataclass(frozen=True)
class Design:
    """One evaluated design.

    Attributes:
        design_id: ``"<trial>-<k>"`` (the run folder's CSVs and ``codesign export`` use the same ids).
        trial: the Optuna trial number.
        arch: the architecture as the trial recorded it (a user space's parameters).
        part: the part the figures are for.
        family: hardware family (``user`` for a cost function's own figures).
        hardware: the hardware settings (None for a cost function's own figures).
        accuracy: the evaluated accuracy.
        figures: cost totals (measured figures replace estimates) and the value of every objective.
        status: ``trained`` or ``stopped`` (stopped early as hopeless).
    """

    design_id: str
    trial: int
    arch: dict[str, Any]
    part: str
    family: str
    hardware: dict[str, Any] | None
    accuracy: float
    figures: dict[str, float]
    status: str


@dataclass(frozen=True)
class SearchResult:
    """The designs of a search (see the module docstring).

    Attributes:
        pareto: designs on the primary part that no other design beats on every objective.
        designs: every evaluated design, all parts.
        summary: run statistics (trials, evaluations, seconds, overhead per trial).
        study: the Optuna study.
    """

    pareto: tuple[Design, ...]
    designs: tuple[Design, ...]
    summary: RunSummary
    study: Any

    @property
    def evaluations(self) -> int:
        """Expensive evaluations spent (repeats and rejected architectures are free)."""
        return self.summary.trainings

    @classmethod
    def of(cls, study: Any, summary: RunSummary, formulation: Formulation, space: HardwareSpace) -> SearchResult:
        designs = []
        parts = {p.name: p for p in space.parts}
        names = tuple(dict.fromkeys((*formulation.objectives, *formulation.cost_metrics)))
        for t in study.get_trials(deepcopy=False):
            if getattr(t.state, "name", "") != "COMPLETE":
                continue
            for d in trial_designs(t):
                part = parts.get(d.part)
                figures = dict(d.totals)
                if part is not None:
                    for name in names:
                        if name != "accuracy":
                            figures[name] = metric_value(name, d.totals, part, space.clock_ns)
                designs.append(
                    Design(d.design_id, d.trial, d.arch, d.part, d.family, d.hardware, d.accuracy, figures, d.status)
                )
        return cls(_pareto(designs, formulation, space), tuple(designs), summary, study)


def _pareto(designs: list[Design], formulation: Formulation, space: HardwareSpace) -> tuple[Design, ...]:
    primary = [d for d in designs if d.part == space.primary.name]
    if not primary:
        return ()
    axes = tuple(dict.fromkeys(("accuracy", *formulation.objectives, *formulation.cost_metrics)))
    sign = {m: -1.0 if formulation.maximized(m) else 1.0 for m in axes}
    rows = np.array([[sign[m] * (d.accuracy if m == "accuracy" else d.figures[m]) for m in axes] for d in primary])
    keep = sorted(nondominated(np.nan_to_num(rows, nan=np.inf)))
    return tuple(primary[i] for i in keep)
