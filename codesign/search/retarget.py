"""Move a finished run to another part or clock without training (``codesign retarget``).

A run's expensive part is training; its hardware fronts come from the cost model in a fraction of a
second per architecture. :func:`retarget` therefore reruns only the inner hardware search
(:func:`codesign.search.inner.search_hardware`) for every architecture the run trained, on the new part
and clock, with the run's own hardware space (families, templates, ranges), cost model, objectives,
budgets and fit probability, and writes a complete run folder: ``study.db`` (a new study with the same
trial numbers: trained trials with their new designs, the others kept for the record: rejected ones
pruned, failed ones failed),
``run.json``, ``trials/<n>`` (the design records and weights, copied), ``designs.csv``, ``pareto.csv`` and
``report.html``. ``codesign export`` and ``load_design`` work on it like on any run. A trained
architecture with no feasible design on the new part keeps its accuracy and gets no designs; its trial
is complete with its accuracy, the cost bounds no configuration beats and a positive constraint
(optuna-dashboard draws it as infeasible).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesign.search.results import RUN_FILE, RunView, open_run, store_footprint, write_results
from hw_templates.errors import SearchError, SpecError, bad_value
from hw_templates.parts import FpgaPart, resolve_part

__all__ = ["RetargetSummary", "retarget", "summary_dict"]


@dataclass(frozen=True)
class RetargetSummary:
    """What :func:`retarget` did."""

    out: Path
    part: str
    clock_ns: float
    architectures: int
    feasible_architectures: int
    designs: int
    pareto_designs: int
    hw_search_seconds: float
    seconds: float
    files: dict[str, Path]


def retarget(
    run_dir: str | Path,
    part: str | FpgaPart,
    clock_ns: float | None = None,
    out: str | Path | None = None,
    storage: str | None = None,
) -> RetargetSummary:
    """Search the hardware of every trained architecture of ``run_dir`` on ``part`` (and ``clock_ns``, default
    the run's) and write the result as a run folder ``out`` (default ``RUN/retarget/<part>-<clock>ns``).

    Raises:
        SearchError: not a run folder, or a run the library API made (it has no config to rebuild from).
        SpecError: an unknown part, a non-positive clock, or an ``out`` that already holds a run.
    """
    from codesign.footprint import Meter

    start, meter = time.perf_counter(), Meter()
    view = open_run(run_dir, storage)
    config = view.attrs.get("config") or {}
    if "space" not in config:
        raise SearchError(f"run {str(run_dir)!r}: expected a run of codesign search (a config with a space)")
    target = part if isinstance(part, FpgaPart) else resolve_part(part)
    clock = view.clock_ns if clock_ns is None else clock_ns
    if not clock > 0:
        raise SpecError(bad_value("--clock-ns", clock_ns, "a positive clock period in ns"))
    folder = Path(out) if out is not None else Path(run_dir) / "retarget" / f"{target.name}-{clock:g}ns"
    if (folder / RUN_FILE).exists():
        raise SpecError(f"--out {str(folder)!r}: already holds a run; choose another folder")
    settings = _settings(config, target, clock)
    study, stats = _new_study(view, settings, target, clock, folder)
    _copy_trials(Path(run_dir), folder, stats["trained"])
    store_footprint(study, folder, meter.read())  # this retarget's own (no training)
    files = write_results(folder, study)
    rows = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("designs")]
    pareto = _count_pareto(folder / "pareto.csv")
    return RetargetSummary(
        folder, target.name, clock, len(stats["trained"]), len(rows),
        sum(len(t.user_attrs["designs"]) for t in rows), pareto, stats["seconds"], time.perf_counter() - start, files,
    )  # fmt: skip


def _settings(config: dict[str, Any], part: FpgaPart, clock: float) -> Any:
    from codesign.search.config import search_settings_from_dict

    changed = {**config, "parts": [part.name], "clock_ns": clock}
    return search_settings_from_dict(changed, "the run's config on the new part")


def _new_study(view: RunView, settings: Any, part: FpgaPart, clock: float, folder: Path) -> tuple[Any, dict]:
    import optuna

    from codesign.search.api import plan_from_settings
    from codesign.search.driver import default_storage, name_metrics
    from codesign.search.run_folder import write_run_file
    from cost_models import get_cost_model

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    plan = plan_from_settings(settings)
    model = get_cost_model(settings.cost_model)
    folder.mkdir(parents=True, exist_ok=True)
    url = default_storage(folder)
    old = view.study
    study = optuna.create_study(study_name=old.study_name, storage=url, directions=plan.formulation.directions)
    kept = {k: v for k, v in old.user_attrs.items() if k not in ("footprints", "hv_reference")}  # the source run's
    attrs = {**kept, "parts": [part.to_dict()], "clock_ns": clock, "config": settings.raw,
             "retarget": {"from_parts": view.part_order, "from_clock_ns": view.clock_ns}}  # fmt: skip
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    name_metrics(study, plan.formulation.value_names)
    stats: dict[str, Any] = {"trained": [], "seconds": 0.0}
    for trial in old.get_trials(deepcopy=False):
        study.add_trial(_retargeted(trial, plan, model, stats))
    write_run_file(folder, old.study_name, None)  # the study.db beside it: the folder can move
    return study, stats


def _retargeted(trial: Any, plan: Any, model: Any, stats: dict[str, Any]) -> Any:
    """The trial with its designs searched again on the plan's part (a FAIL record when it was not trained)."""
    import optuna

    from codesign.search.inner import search_hardware
    from codesign.search.trial import _finite, _record_front
    from cost_models.ir import LayerGraph

    attrs = dict(trial.user_attrs)
    trained = attrs.get("status") in ("trained", "stopped") and attrs.get("accuracy") is not None
    if not trained or "graph" not in attrs or trial.state != optuna.trial.TrialState.COMPLETE:
        attrs.update(designs=[], reason=attrs.get("reason") or "not trained in the source run")
        # a rejected (pruned) trial stays pruned, anything else untrained is recorded as failed
        pruned = trial.state == optuna.trial.TrialState.PRUNED
        state = optuna.trial.TrialState.PRUNED if pruned else optuna.trial.TrialState.FAIL
        return optuna.trial.create_trial(state=state, params=trial.params, distributions=trial.distributions,
                                         user_attrs=attrs)  # fmt: skip
    f, space = plan.formulation, plan.space
    graph = LayerGraph.from_json(attrs["graph"])
    front = search_hardware(graph, space, model, f.cost_metrics, f.budgets, f.fit_probability)
    stats["seconds"] += front.seconds
    stats["trained"].append(trial.number)
    attrs.update(_record_front(front, model, graph))
    primary = front.points.get(space.primary.name, ())
    if primary:
        values = f.trial_values(float(attrs["accuracy"]), [p.totals for p in primary], space.primary, space.clock_ns)
        excess = 0.0
    else:
        bounds = front.bounds[space.primary.name]
        values = _finite(f.bound_values(float(attrs["accuracy"]), bounds, space.primary, space.clock_ns), f)
        excess = max(front.best_violation.get(space.primary.name, 1.0), 1e-9)
        attrs["reason"] = "; ".join(front.reasons[-3:]) or "no hardware configuration meets the new part"
    from codesign.search.formulation import constraint_attrs

    return optuna.trial.create_trial(
        values=values, params=trial.params, distributions=trial.distributions, user_attrs=attrs,
        system_attrs=constraint_attrs(excess),
    )  # fmt: skip


def _copy_trials(source: Path, folder: Path, numbers: list[int]) -> None:
    """Copy the trained trials' design records and weights (what export and load_design read)."""
    for n in numbers:
        src = source / "trials" / str(n)
        if src.is_dir():
            shutil.copytree(src, folder / "trials" / str(n), dirs_exist_ok=True)


def _count_pareto(path: Path) -> int:
    if not path.is_file():
        return 0
    return max(sum(1 for _ in path.open(encoding="utf-8")) - 1, 0)


def summary_dict(summary: RetargetSummary) -> dict[str, Any]:
    """JSON-ready form of a :class:`RetargetSummary`."""
    data = {k: getattr(summary, k) for k in summary.__dataclass_fields__}
    return json.loads(json.dumps(data, default=str))
