"""The search from Python: run a config, or search a model family the toolkit does not build.

:func:`search` takes a user's search space (a ``sample(trial)`` function or a plain mapping of
categorical/integer parameters, e.g. a cell's edge operations), a cheap cost function (architecture ->
a LayerGraph for the toolkit's cost models and hardware search, or explicit cost figures) and an
expensive evaluator (architecture -> accuracy, optionally reporting per-epoch validation accuracy so
hopeless runs stop early). The driver spends evaluations only where they can change the front:
architectures with no feasible hardware are never evaluated, repeated architectures reuse their
score, and hopeless runs stop early; :attr:`RunSummary.trainings` is the number spent.

Example:
    >>> from codesign.search import search
    >>> summary = search(
    ...     space={"width": [8, 16, 32], "depth": (1, 3)},
    ...     cost=lambda a: {"latency_ns": 10.0 * a["depth"], "lut": 100.0 * a["width"] * a["depth"]},
    ...     evaluate=lambda a: 0.5 + 0.01 * a["width"] + 0.05 * a["depth"],
    ...     objectives=("accuracy", "latency_ns", "lut"), trials=10,
    ... )  # doctest: +SKIP
    >>> summary.trainings  # doctest: +SKIP
    9
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from codesign.search.config import FORMULATIONS, EarlyStopSettings, SearchSettings, load_search_config
from codesign.search.driver import RunPlan, RunSummary, run_search
from codesign.search.formulation import Formulation
from codesign.search.hardware_space import HardwareRanges, HardwareSpace
from codesign.search.objectives import Scalarization, check_metric, parse_budget
from codesign.search.problem import FunctionProblem, Problem, ToolkitProblem
from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import FpgaPart, resolve_part

__all__ = ["plan_from_settings", "run_config", "search"]


def plan_from_settings(settings: SearchSettings, trials: int | None = None, timeout_s: float | None = None) -> RunPlan:
    """The driver's plan for a validated config (``trials``/``timeout_s`` override the file's)."""
    formulation = Formulation(
        settings.formulation,
        settings.objectives,
        settings.cost_metrics,
        settings.budgets,
        settings.scalarization,
        settings.fit_probability,
    )
    return RunPlan(
        name=settings.name,
        mode=settings.mode,
        formulation=formulation,
        space=settings.hardware,
        cost_model=settings.cost_model,
        sampler=settings.sampler,
        seed=settings.seed,
        trials=trials or settings.trials,
        timeout_s=timeout_s or settings.timeout_s,
        top_k=settings.top_k,
        early_stop=settings.early_stop,
        config=settings.raw,
    )


def run_config(
    config: str | Path | SearchSettings,
    out: str | Path,
    *,
    trials: int | None = None,
    timeout_s: float | None = None,
    storage: str | None = None,
    progress: bool = True,
    problem: Problem | None = None,
) -> RunSummary:
    """Run (or resume) the search a config file describes, into the run folder ``out``.

    Raises:
        SpecError / SearchError: a bad config or impossible budgets, before any training.
    """
    settings = config if isinstance(config, SearchSettings) else load_search_config(config)
    plan = plan_from_settings(settings, trials, timeout_s)
    return run_search(problem or ToolkitProblem(settings), plan, Path(out), storage=storage, progress=progress)


def search(
    space: Callable[[Any], Any] | Mapping[str, Any],
    cost: Callable[[Any], Any],
    evaluate: Callable[..., float],
    *,
    objectives: Sequence[str] = ("accuracy", "latency_ns", "lut_dsp"),
    formulation: str = "pareto",
    budgets: Mapping[str, float | str] | None = None,
    scalarization: Scalarization | None = None,
    parts: Sequence[str | FpgaPart] = ("xc7z020",),
    clock_ns: float = 5.0,
    templates: Sequence[str] = (),
    hardware: HardwareRanges | None = None,
    sampler: str | None = None,
    trials: int = 20,
    timeout_s: float | None = None,
    seed: int = 0,
    early_stop: EarlyStopSettings | None = None,
    name: str = "library",
    out: str | Path | None = None,
    storage: str | None = None,
    progress: bool = False,
) -> RunSummary:
    """Search a user-defined model family with the toolkit's driver (see the module docstring).

    Args:
        space: ``sample(trial) -> arch`` or ``{name: [choices] | (low, high)}``.
        cost: ``arch -> LayerGraph | {figure: value} | [{figure: value}, ...]`` (figures: lut, ff, dsp,
            bram18, latency_cycles or latency_ns, ii_cycles).
        evaluate: ``arch -> accuracy`` or ``(arch, report) -> accuracy`` with ``report(epoch, val) -> stop``.
        objectives / formulation / budgets / scalarization: as in a config file (docs/search.md).
        parts / clock_ns / templates / hardware: the hardware space for LayerGraph costs.
        sampler: nsga2, nsga3, tpe, gp or random (default by number of objectives).
        trials / timeout_s / seed: run length and seed.
        out / storage: run folder (CSVs, report) and Optuna storage URL; in memory when both are None.

    Returns:
        The run summary; ``trainings`` counts the expensive evaluations spent.
    """
    resolved = [p if isinstance(p, FpgaPart) else resolve_part(p) for p in parts]
    space_hw = HardwareSpace.build(resolved, clock_ns=clock_ns, templates=list(templates), ranges=hardware)
    objectives = tuple(objectives) if formulation in ("pareto", "constrained") else ("accuracy",)
    objectives = tuple(check_metric(metric, "objectives") for metric in objectives)
    parsed = tuple(parse_budget(k, v) for k, v in (budgets or {}).items())
    costs = scalarization.metrics if scalarization else tuple(m for m in objectives if m != "accuracy")
    form = Formulation(formulation, objectives, costs or ("latency_ns", "lut_dsp"), parsed, scalarization)
    if formulation == "scalarized" and scalarization is None:
        raise SpecError(bad_value("scalarization", None, "a Scalarization for formulation scalarized"))
    if formulation == "constrained" and not parsed:
        raise SpecError(bad_value("budgets", budgets, "at least one budget for formulation constrained"))
    if formulation not in FORMULATIONS:
        raise SpecError(bad_value("formulation", formulation, "one of " + ", ".join(FORMULATIONS), FORMULATIONS))
    chosen = sampler or ("nsga2" if len(form.directions) > 1 else "tpe")
    config = {"library": True, "objectives": list(objectives), "formulation": formulation,
              "budgets": dict(budgets or {}), "parts": [p.name for p in resolved]}  # fmt: skip
    plan = RunPlan(
        name=name, mode="nested", formulation=form, space=space_hw, sampler=chosen, seed=seed, trials=trials,
        timeout_s=timeout_s, early_stop=early_stop or EarlyStopSettings(), config=config,
    )  # fmt: skip
    problem = FunctionProblem(space, cost, evaluate)
    run_dir = Path(out) if out is not None else None
    return run_search(problem, plan, run_dir, storage=storage, progress=progress)
