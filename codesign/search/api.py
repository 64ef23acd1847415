"""The search from Python: run a config, or search a model family the toolkit does not build.

:func:`search` takes a user's search space (a ``sample(trial)`` function or a plain mapping of
categorical/integer parameters, e.g. a cell's edge operations), a cheap cost function (architecture ->
a LayerGraph for the toolkit's cost models and hardware search, or explicit cost figures, including
figures of the user's own such as a second device's latency) and an expensive evaluator (architecture
-> accuracy, or a mapping of the accuracy and measured figures, optionally reporting per-epoch
validation accuracy so hopeless runs stop early). The driver spends evaluations only where they can
change the front: architectures with no feasible hardware are never evaluated, repeated architectures
reuse their score, and hopeless runs stop early; ``evaluations=N`` is the budget of expensive calls.

Example:
    >>> from codesign.search import search
    >>> result = search(
    ...     space={"width": [8, 16, 32], "depth": (1, 3)},
    ...     cost=lambda a: {"latency_ns": 10.0 * a["depth"], "cpu_us": 2.0 * a["width"] * a["depth"]},
    ...     evaluate=lambda a: 0.5 + 0.01 * a["width"] + 0.05 * a["depth"],
    ...     objectives=("accuracy", "latency_ns", "cpu_us"), evaluations=5,
    ... )  # doctest: +SKIP
    >>> result.evaluations, len(result.pareto) > 0  # doctest: +SKIP
    (5, True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from codesign.search.config import FORMULATIONS, EarlyStopSettings, SearchSettings, load_search_config
from codesign.search.driver import RunPlan, RunSummary, run_search
from codesign.search.formulation import Formulation
from codesign.search.hardware_space import HardwareRanges, HardwareSpace
from codesign.search.metrics import ALIASES
from codesign.search.objectives import METRICS, Scalarization, parse_budget
from codesign.search.problem import FunctionProblem, Problem, ToolkitProblem
from codesign.search.samplers import default_sampler
from codesign.search.search_result import SearchResult
from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import FpgaPart, resolve_part

__all__ = ["plan_from_settings", "run_config", "search"]


def plan_from_settings(
    settings: SearchSettings, trials: int | None = None, timeout_s: float | None = None, evaluations: int | None = None
) -> RunPlan:
    """The driver's plan for a validated config (``trials``/``timeout_s``/``evaluations`` override the file's).

    Run length: ``evaluations`` (else the file's ``evaluations:`` unless ``trials`` is given) counts
    expensive evaluations; ``trials`` given with ``evaluations`` caps the trials too (whichever first).
    """
    budget = evaluations or (settings.evaluations if trials is None else None)
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
        evaluations=budget,
        max_trials=trials if evaluations else None,
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
    evaluations: int | None = None,
    catch: tuple[type[BaseException], ...] | None = (),
) -> RunSummary:
    """Run (or resume) the search a config file describes, into the run folder ``out``.

    A trial that raises a CodesignError (or an error of a type in ``catch``) fails and the search goes on;
    any other error fails the trial and stops the search (it is re-raised; see :mod:`.worker`).

    Raises:
        SpecError / SearchError: a bad config or impossible budgets, before any training.
    """
    settings = config if isinstance(config, SearchSettings) else load_search_config(config)
    plan = plan_from_settings(settings, trials, timeout_s, evaluations)
    problem = problem or ToolkitProblem(settings)
    return run_search(problem, plan, Path(out), storage=storage, progress=progress, catch=catch)


def search(
    space: Callable[[Any], Any] | Mapping[str, Any],
    cost: Callable[[Any], Any],
    evaluate: Callable[..., Any],
    *,
    objectives: Sequence[str] = ("accuracy", "latency_ns", "lut_dsp"),
    maximize: Sequence[str] = (),
    formulation: str = "pareto",
    budgets: Mapping[str, float | str] | None = None,
    scalarization: Scalarization | None = None,
    parts: Sequence[str | FpgaPart] = ("xc7z020",),
    clock_ns: float = 5.0,
    templates: Sequence[str] = (),
    hardware: HardwareRanges | None = None,
    sampler: str | Any | None = None,
    evaluations: int | None = None,
    trials: int | None = None,
    timeout_s: float | None = None,
    seed: int = 0,
    early_stop: EarlyStopSettings | None = None,
    catch: Sequence[type[BaseException]] | type[BaseException] = (),
    name: str = "library",
    out: str | Path | None = None,
    storage: str | None = None,
    progress: bool = False,
) -> SearchResult:
    """Search a user-defined model family with the toolkit's driver (see the module docstring).

    Args:
        space: ``sample(trial) -> arch`` or ``{name: [choices] | (low, high)}``.
        cost: ``arch -> LayerGraph | {figure: value} | [{figure: value}, ...]``. Figures: lut, ff, dsp,
            bram18 (checked against the part), latency_cycles or latency_ns, ii_cycles or ii_ns, and
            any figure of your own (e.g. ``latency_ms_cpu``); ``[]`` means no feasible design.
        evaluate: ``arch -> accuracy`` or ``(arch, report) -> accuracy`` with ``report(epoch, val) -> stop``;
            it may return ``{"accuracy": ..., <figure>: <measured value>}`` to replace estimates.
        objectives: built-in metrics (docs/search.md) or figures the cost function returns; minimized
            unless listed in ``maximize``.
        formulation / budgets / scalarization: as in a config file (docs/search.md).
        parts / clock_ns / templates / hardware: the hardware space for LayerGraph costs.
        sampler: a name (:data:`codesign.search.samplers.SAMPLER_NAMES`) or an Optuna sampler object.
        evaluations: stop after this many expensive evaluations (repeats and rejected candidates are
            free); ``trials`` caps trials (with ``evaluations`` too: whichever comes first; 20 when
            neither is given).
        catch: error types of ``sample``/``cost``/``evaluate`` that only fail their trial; any other
            error stops the search and propagates (Optuna's ``catch=``).
        out / storage: run folder (CSVs, report) and Optuna storage URL; in memory when both are None.

    Returns:
        The Pareto designs, every evaluated design, the run summary and the Optuna study.
    """
    resolved = [p if isinstance(p, FpgaPart) else resolve_part(p) for p in parts]
    space_hw = HardwareSpace.build(resolved, clock_ns=clock_ns, templates=list(templates), ranges=hardware)
    form = _formulation(formulation, objectives, maximize, budgets, scalarization)
    chosen = sampler or default_sampler(len(form.directions))
    _check_run_length(evaluations, trials)
    config = {"library": True, "objectives": list(form.objectives), "formulation": formulation,
              "budgets": dict(budgets or {}), "parts": [p.name for p in resolved],
              "maximize": list(maximize)}  # fmt: skip
    plan = RunPlan(
        name=name, mode="nested", formulation=form, space=space_hw, sampler=chosen, seed=seed,
        trials=trials or 20, evaluations=evaluations, max_trials=trials if evaluations else None,
        timeout_s=timeout_s,
        early_stop=early_stop or EarlyStopSettings(), config=config,
    )  # fmt: skip
    problem = FunctionProblem(space, cost, evaluate)
    run_dir = Path(out) if out is not None else None
    errors = tuple(catch) if isinstance(catch, (list, tuple)) else (catch,)
    summary = run_search(problem, plan, run_dir, storage=storage, progress=progress, catch=errors)
    return SearchResult.of(summary.study, summary, form, space_hw)


def _formulation(
    kind: str,
    objectives: Sequence[str],
    maximize: Sequence[str],
    budgets: Mapping[str, float | str] | None,
    scalarization: Scalarization | None,
) -> Formulation:
    if kind not in FORMULATIONS:
        raise SpecError(bad_value("formulation", kind, "one of " + ", ".join(FORMULATIONS), FORMULATIONS))
    objectives = tuple(ALIASES.get(m, m) for m in objectives) if kind in ("pareto", "constrained") else ("accuracy",)
    for m in maximize:
        if m in METRICS or m not in objectives:
            raise SpecError(bad_value("maximize", m, "an objective of your own (built-in metrics have a direction)"))
    parsed = tuple(parse_budget(k, v) for k, v in (budgets or {}).items())
    costs = scalarization.metrics if scalarization else tuple(m for m in objectives if m != "accuracy")
    costs = costs or ("latency_ns", "lut_dsp")
    form = Formulation(kind, objectives, costs, parsed, scalarization, maximize=tuple(maximize))
    if kind == "scalarized" and scalarization is None:
        raise SpecError(bad_value("scalarization", None, "a Scalarization for formulation scalarized"))
    if kind == "constrained" and not parsed:
        raise SpecError(bad_value("budgets", budgets, "at least one budget for formulation constrained"))
    return form


def _check_run_length(evaluations: int | None, trials: int | None) -> None:
    for label, value in (("evaluations", evaluations), ("trials", trials)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise SpecError(bad_value(label, value, "a positive integer"))
