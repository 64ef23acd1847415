"""The search driver: one Optuna study, trials asked and told one by one, results written at the end.

Modes (``search.mode``):

* ``nested`` (default): each sampled architecture gets its whole hardware front from the inner search
  and is trained once (:mod:`codesign.search.trial`).
* ``flat``: hardware knobs are ordinary trial parameters (:mod:`codesign.search.fronts`); every
  hardware draw costs a training. A baseline.
* ``random``: flat with random sampling. A baseline.
* the ``two_stage`` formulation: an accuracy-only search (nested mode, for the part check), then the
  hardware fronts of the ``top_k`` most accurate architectures are the designs. A baseline.

Run length: ``trials`` caps the trials; ``evaluations`` (when set) stops the run once the study holds
that many expensive evaluations, whatever the number of trials (rejected and repeated architectures are
free). A run with a budget also stops when :data:`EXHAUSTED_AFTER` trials in a row evaluated nothing
(the sampler keeps proposing known or infeasible architectures: the space is used up).

Runs are resumable: the study lives in a storage (``study.db`` in the run folder by default, or any
Optuna storage URL), the driver counts the trials already finished and runs the rest; a run that was
interrupted (Ctrl-C) records the interrupted trial as failed with reason ``interrupted`` and it does not
count. Several processes may work on one study at once; the trial budget, heartbeats, the retry of a
dead worker's trial and the trial failure policy are :mod:`codesign.search.worker`'s. Before the first
trial, :func:`preflight` samples architectures without training to fail at once on budgets no design
can meet.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codesign.footprint import Meter
from codesign.search.config import EarlyStopSettings
from codesign.search.early_stop import HopelessRule
from codesign.search.formulation import Formulation
from codesign.search.hardware_space import HardwareSpace
from codesign.search.inner import search_hardware
from codesign.search.problem import Problem, safe_call
from codesign.search.records import run_record, trial_status
from codesign.search.run_folder import check_run_folder, check_sqlite_file, write_run_file
from codesign.search.samplers import make_sampler
from codesign.search.storage import HeartbeatSettings, default_storage, open_storage, shown_url
from codesign.search.trial import Archive, Outcome, TrialContext
from codesign.search.worker import EXHAUSTED_AFTER, work
from cost_models import get_cost_model
from cost_models.ir import LayerGraph
from hw_templates.errors import SearchError

__all__ = [
    "RunPlan",
    "RunSummary",
    "check_run_folder",
    "check_sqlite_file",
    "default_storage",
    "existing_trials",
    "open_storage",
    "open_study",
    "preflight",
    "run_search",
    "trial_context",
    "write_run_file",
]

logger = logging.getLogger(__name__)
PREFLIGHT_SAMPLES = 32


@dataclass(frozen=True)
class RunPlan:
    """Everything the driver needs (built from a config file or by :func:`codesign.search.api.search`)."""

    name: str
    mode: str
    formulation: Formulation
    space: HardwareSpace
    cost_model: str = "analytical"
    sampler: str = "nsga2"
    seed: int = 0
    trials: int = 16
    timeout_s: float | None = None
    top_k: int = 3
    evaluations: int | None = None  # stop after this many expensive evaluations (repeats/rejections free)
    max_trials: int | None = None  # with ``evaluations``: also stop after this many trials
    early_stop: EarlyStopSettings = field(default_factory=EarlyStopSettings)
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSummary:
    """What a run did (also printed by the CLI and recorded in the report)."""

    run_dir: Path | None
    study_name: str
    storage: str
    trials: int
    trainings: int
    statuses: dict[str, int]
    feasible_designs: int
    pareto_designs: int
    seconds: float
    interrupted: bool = False
    hw_search_seconds: float = 0.0
    overhead_seconds: float = 0.0  # median per trial, outside training
    completed: int = 0  # trials in state COMPLETE (0: the search produced nothing; the CLI exits 1)
    footprint: dict[str, Any] | None = None  # this session's (codesign.footprint)
    study: Any = field(default=None, repr=False, compare=False)  # the Optuna study


def open_study(plan: RunPlan, storage: Any, problem_record: dict[str, Any], seed_offset: int = 0) -> Any:
    """Create or load the study; refuse a study made from a different config."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    f = plan.formulation
    sampler = make_sampler(plan.sampler, plan.seed + seed_offset, len(f.directions))
    study = optuna.create_study(
        study_name=plan.name, storage=storage, directions=f.directions, sampler=sampler, load_if_exists=True
    )
    record = run_record(
        plan.config, plan.space.parts, mode=plan.mode, formulation=f.kind, objectives=f.objectives,
        value_names=f.value_names, cost_metrics=f.cost_metrics, clock_ns=plan.space.clock_ns, seed=plan.seed,
        problem=problem_record, budgets=f.budgets, scalarization=f.scalarization,
    )  # fmt: skip
    known = study.user_attrs.get("config_fingerprint")
    if known is not None and known != record["config_fingerprint"]:
        raise SearchError(
            f"study {plan.name!r}: expected the config it was started with, got a different one "
            "(use a new --out folder or study name, or restore the config)"
        )
    if known is None:
        for key, value in record.items():
            study.set_user_attr(key, value)
        name_metrics(study, f.value_names)
    return study


def name_metrics(study: Any, names: list[str]) -> None:
    """Optuna's metric names (optuna-dashboard shows them instead of "Objective 0")."""
    import warnings

    with warnings.catch_warnings():  # set_metric_names is marked experimental
        warnings.simplefilter("ignore")
        study.set_metric_names(list(names))


def preflight(problem: Problem, plan: RunPlan, model: Any, samples: int = PREFLIGHT_SAMPLES) -> None:
    """Fail before any training when no sampled architecture has a feasible design (impossible budgets).

    Raises:
        SearchError: none of ``samples`` random architectures meets the part and the budgets.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=plan.seed))
    best, part = math.inf, plan.space.primary
    f = plan.formulation
    for _ in range(samples):
        trial = study.ask()
        arch = safe_call("sample(trial)", lambda t=trial: problem.sample(t))
        cost = safe_call("cost(arch)", lambda a=arch: problem.cost(a))
        if not isinstance(cost, LayerGraph):
            _check_figures(cost, plan)
            return
        front = search_hardware(cost, plan.space, model, f.cost_metrics, f.budgets, f.fit_probability)
        if front.points.get(part.name):
            study.tell(trial, 0.0)
            return
        best = min(best, front.best_violation.get(part.name, math.inf))
        study.tell(trial, 0.0)
    budgets = ", ".join(b.describe() for b in f.budgets) or "none"
    excess = f"{best * 100:.0f}%" if math.isfinite(best) else "every family was ruled out"
    raise SearchError(
        f"budgets: expected budgets some design can meet on {part.name}, got {budgets}: none of {samples} "
        f"sampled architectures fits (smallest excess {excess}); relax the budgets or choose a larger part"
    )


def _check_figures(cost: Any, plan: RunPlan) -> None:
    """Before the first trial: the cost function gives every figure the objectives and budgets need."""
    from codesign.search.fronts import figures_front

    f = plan.formulation
    front = figures_front(cost, plan.space, f.cost_metrics, f.budgets)  # raises on a missing figure
    part = plan.space.primary.name
    if front.configurations and not front.points.get(part):
        logger.warning(
            "cost(arch) of the first sampled architecture gives no design that fits %s and the budgets "
            "(lut, ff, dsp and bram18 are checked against the part; name other figures differently)",
            part,
        )


def run_search(
    problem: Problem,
    plan: RunPlan,
    run_dir: Path | None,
    *,
    storage: str | None = None,
    progress: bool = True,
    write_results: bool = True,
    catch: tuple[type[BaseException], ...] | None = None,
    heartbeat: HeartbeatSettings | None = None,
    artifacts: str | Path | Any | None = None,
) -> RunSummary:
    """Run (or resume) a search until the study holds ``plan.trials`` finished trials or time runs out.

    Several processes may run this on one study at once (a shared storage URL): they split the budget,
    and a process that dies has its trial retried by another (:mod:`codesign.search.worker`).

    Args:
        problem: what to search (toolkit models or a user's functions).
        plan: mode, formulation, hardware space, sampler, budget.
        run_dir: the run folder (weights, CSVs, report); None keeps nothing on disk but the storage.
        storage: an Optuna storage URL; default ``study.db`` in ``run_dir`` (in memory without one).
        progress: show a tqdm bar with the live numbers of feasible and Pareto designs.
        write_results: write ``designs.csv``, ``pareto.csv`` and ``report.html`` at the end.
        catch: error types that only fail their trial besides CodesignError (Optuna's ``catch=``); any
            other error fails the trial, stops the run and is re-raised. None: every error fails the
            trial only (see :mod:`codesign.search.worker`).
        heartbeat: heartbeat and retry settings of the storage (default :class:`HeartbeatSettings`).
        artifacts: where trained weights are also stored for other machines (a folder or an
            ``s3://bucket/prefix`` URL, see :mod:`codesign.search.artifacts`); default ``run_dir/artifacts``.

    Returns:
        The run's statistics; ``interrupted`` is True after Ctrl-C (rerun to resume).

    Raises:
        Exception: a trial raised an error that is not a CodesignError and not in ``catch`` (the trial is
            recorded as failed first).
    """
    start, meter = time.perf_counter(), Meter()
    if run_dir is not None:
        check_run_folder(Path(run_dir), plan.name, storage)
    url = storage or (default_storage(run_dir) if run_dir is not None else None)
    model = get_cost_model(plan.cost_model)
    # nothing is written before every refusal: a new run's own study.db is made only after the preflight,
    # and run.json only after the study accepted the config (a resumed run's run.json stays as it was)
    fresh = storage is None and run_dir is not None and not (Path(run_dir) / "study.db").exists()
    if fresh:
        preflight(problem, plan, model)
        Path(run_dir).mkdir(parents=True, exist_ok=True)
    store = open_storage(url, heartbeat)
    previous = existing_trials(plan.name, store)
    if previous == 0 and not fresh:
        preflight(problem, plan, model)
    study = open_study(plan, store, safe_call("problem.record()", problem.record), seed_offset=previous)
    if run_dir is not None:
        write_run_file(Path(run_dir), plan.name, storage)
    ctx = trial_context(problem, plan, model, run_dir, study, artifacts, catch)
    interrupted, overhead = _loop(study, ctx, plan, progress)
    if plan.formulation.kind == "two_stage":
        _select_two_stage(study, plan.top_k)
    footprint = _store_footprint(study, meter, previous, run_dir)
    if write_results and run_dir is not None:
        from codesign.search.results import write_results as write

        write(run_dir, study)
    summary = _summary(study, ctx, plan, run_dir, url, start, interrupted, overhead)
    return replace(summary, footprint=footprint.to_dict())


def trial_context(
    problem: Problem,
    plan: RunPlan,
    model: Any,
    run_dir: Path | None,
    study: Any,
    artifacts: Any = None,
    catch: tuple[type[BaseException], ...] | None = None,
) -> TrialContext:
    """The context every trial of this process reads (early-stop rule, artifact store, failure policy)."""
    from codesign.search.artifacts import study_artifact_store

    rule = None
    if plan.early_stop.enabled:
        e = plan.early_stop
        rule = HopelessRule(e.min_epoch, e.warmup_trials, e.slack, e.margin_sd)
    mode = "flat" if plan.mode == "random" else plan.mode
    store = study_artifact_store(study, artifacts, run_dir) if run_dir is not None else None
    ctx = TrialContext(problem, plan.formulation, plan.space, model, mode, rule, run_dir, catch=catch, artifacts=store)
    bind = getattr(study.sampler, "bind", None)
    if callable(bind):  # samplers that cost candidates before proposing them (codesign.search.surrogate)
        bind(ctx)
    return ctx


def existing_trials(name: str, storage: Any) -> int:
    import optuna

    try:
        return len(optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False))
    except KeyError:
        return 0


def _loop(study: Any, ctx: TrialContext, plan: RunPlan, progress: bool) -> tuple[bool, list[float]]:
    """Run trials until the budget is taken (all workers count); True when interrupted by Ctrl-C."""
    from tqdm import tqdm

    deadline = time.monotonic() + plan.timeout_s if plan.timeout_s else math.inf
    overhead: list[float] = []
    archive = ctx.archive = Archive()
    archive.update(study.get_trials(deepcopy=False), ctx.formulation, ctx.space)
    total = plan.evaluations or plan.trials
    bar = tqdm(total=total, initial=min(_progress(archive, plan), total), disable=not progress, unit="trial")

    def after(outcome: Outcome, seconds: float) -> None:
        overhead.append(seconds - float(outcome.attrs.get("train_seconds", 0.0)))
        if progress:
            bar.n = min(_progress(archive, plan), total)
            bar.set_postfix(feasible=archive.feasible, pareto=archive.pareto_count(), trainings=archive.trainings)

    try:
        idle = work(study, ctx, plan, deadline=deadline, on_trial=after)
    except KeyboardInterrupt:
        return True, overhead
    finally:
        bar.close()
    if plan.evaluations and idle >= EXHAUSTED_AFTER:
        logger.warning("stopped after %d trials in a row without an evaluation (space used up?)", idle)
    return False, overhead


def _progress(archive: Archive, plan: RunPlan) -> int:
    return archive.trainings if plan.evaluations else archive.finished


def _select_two_stage(study: Any, top_k: int) -> None:
    done = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.user_attrs.get("status") in ("trained", "stopped") and "accuracy" in t.user_attrs
    ]
    done.sort(key=lambda t: (-float(t.user_attrs["accuracy"]), t.number))
    study.set_user_attr("selected_trials", [t.number for t in done[:top_k]])


def _store_footprint(study: Any, meter: Meter, previous: int, run_dir: Path | None) -> Any:
    """This session's footprint (trainings: the trials it trained), kept in the study and run.json."""
    from codesign.search.results import store_footprint

    trials = study.get_trials(deepcopy=False)
    footprint = meter.read(trainings=sum(1 for t in trials if t.number >= previous and t.user_attrs.get("trained")))
    store_footprint(study, run_dir, footprint)
    return footprint


def _summary(
    study: Any,
    ctx: TrialContext,
    plan: RunPlan,
    run_dir: Path | None,
    url: str | None,
    start: float,
    interrupted: bool,
    overhead: list[float],
) -> RunSummary:
    trials = study.get_trials(deepcopy=False)
    statuses: dict[str, int] = {}
    for t in trials:
        status = trial_status(t)
        statuses[status] = statuses.get(status, 0) + 1
    archive = ctx.archive
    archive.update(trials, ctx.formulation, ctx.space)
    return RunSummary(
        run_dir=run_dir,
        study_name=plan.name,
        storage=shown_url(url) if isinstance(url, str) else "memory",
        trials=len(trials),
        trainings=archive.trainings,
        statuses=statuses,
        feasible_designs=archive.feasible,
        pareto_designs=archive.pareto_count(),
        seconds=time.perf_counter() - start,
        interrupted=interrupted,
        hw_search_seconds=ctx.hw_seconds,
        overhead_seconds=statistics.median(overhead) if overhead else 0.0,
        completed=sum(1 for t in trials if t.state.name == "COMPLETE"),
        study=study,
    )
