"""A run's results: the designs table, ``designs.csv``, ``pareto.csv``, and the export engineer's API.

Columns of ``designs.csv`` (one row per design = trial + hardware configuration on one part):
``design_id, trial, status, part, family, io_type, hardware`` (per weight layer
``name=strategy:reuse_factor[:parallelization_factor]``), ``param_*`` (the trial's sampled parameters:
architecture and, in flat mode, hardware), ``accuracy`` and the metric columns
(:data:`codesign.search.metrics.CSV_METRICS`: ``lut, ff, dsp, bram18, uram, latency_cycles, ii_cycles,
latency_ns, util_max, lut_dsp, power_w, energy_nj_per_inference``; a raw total a record lacks is
``nan``), ``score`` (scalarized runs), ``feasible`` (meets its part and the budgets), ``pareto`` (no
design on the same part has accuracy >= and every cost metric <=, one of
them strictly better), ``train_seconds``; for designs whose cost model gives 90 % intervals
(:mod:`cost_models.intervals`), ``<metric>_low`` and ``<metric>_high`` for every metric computed from an
interval's raw total (:data:`INTERVAL_METRICS`) and ``fit_probability`` (the probability that every
resource fits the part, from those intervals; a ``fit_probability`` run keeps the search's own); with
several parts also ``feasible_<part>`` and ``util_max_<part>`` for every part (the design's hardware
settings re-estimated there) and ``all_parts`` (feasible everywhere and Pareto-optimal on accuracy vs
the cost metrics of every part). Two-stage runs list only the designs of the architectures selected in the second stage.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from codesign.config_io import read_json
from codesign.search import metrics
from codesign.search.metrics import CSV_METRICS, RAW_KEYS
from codesign.search.objectives import Budget, metric_value, parse_budget
from codesign.search.pareto import nondominated
from codesign.search.records import DesignRecord, parse_design_id, trial_designs
from cost_models.intervals import INTERVAL_TARGETS
from hw_templates.atomic import atomic_open
from hw_templates.errors import SearchError, SpecError, clip, shown
from hw_templates.parts import FpgaPart

__all__ = [
    "RUN_FILE",
    "RunView",
    "designs_table",
    "load_design",
    "open_run",
    "pareto_design_ids",
    "store_footprint",
    "top_design_ids",
    "write_results",
]

RUN_FILE = "run.json"
#: Metrics with ``_low``/``_high`` columns: those computed from a raw total the cost model has intervals for.
INTERVAL_METRICS = tuple(m for m in CSV_METRICS if set(metrics.needs(m)) & set(INTERVAL_TARGETS))
DEFAULT_COSTS = ("latency_ns", "lut_dsp")
BASE_COLUMNS = (
    "design_id", "trial", "status", "part", "family", "io_type", "hardware", "accuracy", *CSV_METRICS,
    "feasible", "pareto", "train_seconds",
)  # fmt: skip


@dataclass
class RunView:
    """A study opened read-only, with what its user attributes say about the run."""

    study: Any
    parts: dict[str, FpgaPart]
    part_order: list[str]
    clock_ns: float
    cost_metrics: tuple[str, ...]
    budgets: tuple[Budget, ...]
    attrs: dict[str, Any]

    @classmethod
    def of(cls, study: Any) -> RunView:
        attrs = dict(study.user_attrs)
        parts = [FpgaPart.from_dict(p) for p in attrs.get("parts", [])]
        budgets = tuple(parse_budget(k, v) for k, v in (attrs.get("budgets") or {}).items())
        costs = tuple(metrics.ALIASES.get(m, m) for m in attrs.get("cost_metrics", DEFAULT_COSTS))
        return cls(
            study, {p.name: p for p in parts}, [p.name for p in parts], float(attrs.get("clock_ns", 5.0)),
            costs, budgets, attrs,
        )  # fmt: skip

    def designs(self) -> list[DesignRecord]:
        selected = self.attrs.get("selected_trials")
        out = []
        for trial in self.study.get_trials(deepcopy=False):
            if selected is not None and trial.number not in selected:
                continue
            out.extend(trial_designs(trial))
        return out

    def trial(self, number: int) -> Any:
        for t in self.study.get_trials(deepcopy=False):
            if t.number == number:
                return t
        raise SpecError(f"design: expected a trial of study {self.study.study_name!r}, got trial {number}")


def open_run(run_dir: str | Path, storage: str | None = None) -> RunView:
    """Open the study of a run folder (``run.json`` names it; ``storage`` overrides its URL).

    Raises:
        SearchError: not a run folder, or the study cannot be opened.
    """
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    from codesign.search.driver import open_storage

    path = Path(run_dir)
    meta_path = path / RUN_FILE
    if not meta_path.is_file():
        raise SearchError(
            f"run: expected a run folder with {RUN_FILE} (made by codesign search), got {clip(str(path))!r}"
        )
    name, url = run_meta(path)
    url = storage or url or f"sqlite:///{(path / 'study.db').resolve()}"
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(url, must_exist=True))
    except KeyError:
        raise SearchError(f"run {clip(str(path))!r}: study {clip(name)!r} not found in its storage") from None
    except (SQLAlchemyError, ValueError, RuntimeError) as err:
        raise SearchError(f"run {clip(str(path))!r}: cannot read its study ({clip(err, 160)})") from None
    return RunView.of(study)


def run_meta(path: Path) -> tuple[str, str | None]:
    """``run.json``'s study name and storage URL, checked."""
    meta = read_json(path / RUN_FILE, "run")
    name, url = meta.get("study_name"), meta.get("storage")
    if not isinstance(name, str) or not name:
        raise SearchError(
            f"run {clip(str(path))!r}: {RUN_FILE} study_name: expected the study's name, got {shown(name)}"
        )
    if url is not None and not isinstance(url, str):
        raise SearchError(f"run {clip(str(path))!r}: {RUN_FILE} storage: expected a URL or null, got {shown(url)}")
    return name, url


def _hardware_text(hardware: Mapping[str, Any] | None) -> str:
    if not hardware:
        return ""
    parts = []
    for name, entry in hardware.get("layers", {}).items():
        text = f"{name}={entry.get('strategy', hardware.get('strategy'))}:{entry.get('reuse_factor', 1)}"
        if entry.get("parallelization_factor"):
            text += f":{entry['parallelization_factor']}"
        parts.append(text)
    if hardware.get("fifo_depths", "full") != "full":
        parts.append(f"fifos={hardware['fifo_depths']}")
    return " ".join(parts)


def _metrics(totals: Mapping[str, float], part: FpgaPart, clock: float) -> dict[str, float]:
    return {m: float(metric_value(m, totals, part, clock)) for m in CSV_METRICS if m not in RAW_KEYS}


def _interval_columns(d: DesignRecord, part: FpgaPart, clock: float) -> dict[str, float]:
    """``<metric>_low`` / ``<metric>_high`` (the metric on the 90 % interval ends of the raw totals; every
    metric grows with each raw total) and ``fit_probability`` (every resource fits the part, from the
    intervals: :func:`cost_models.lut.resource_fit_probability`); empty for a design without intervals."""
    from cost_models.lut import FIT_RESOURCES, resource_fit_probability

    if not d.intervals:
        return {}
    ends = [{**d.totals, **{k: v[i] for k, v in d.intervals.items()}} for i in (0, 1)]
    out: dict[str, float] = {}
    for m in INTERVAL_METRICS:
        out[f"{m}_low"], out[f"{m}_high"] = (float(metric_value(m, e, part, clock)) for e in ends)
    probability = 1.0 if d.totals.get("uram", 0.0) <= part.uram else 0.0
    for r in FIT_RESOURCES:
        probability *= resource_fit_probability(d.totals.get(r, 0.0), d.intervals.get(r), getattr(part, r))
    out["fit_probability"] = round(probability, 6)
    return out


def _feasible(totals: Mapping[str, float], part: FpgaPart, budgets: Sequence[Budget], clock: float) -> bool:
    return bool(metrics.violation(totals, part, clock, budgets) <= 1e-9)


def designs_table(view: RunView) -> list[dict[str, Any]]:
    """Every design of the run as a row (columns in the module docstring), Pareto flags included."""
    rows = []
    params = {t.number: t.params for t in view.study.get_trials(deepcopy=False)}
    score = _scorer(view)
    for d in view.designs():
        part = view.parts[d.part]
        row: dict[str, Any] = {
            "design_id": d.design_id, "trial": d.trial, "status": d.status, "part": d.part, "family": d.family,
            "io_type": (d.hardware or {}).get("io_type", ""), "hardware": _hardware_text(d.hardware),
            "accuracy": d.accuracy, **{k: d.totals.get(k, float("nan")) for k in RAW_KEYS},
            **_metrics(d.totals, part, view.clock_ns),
            "feasible": _feasible(d.totals, part, view.budgets, view.clock_ns),
            "pareto": False, "train_seconds": d.train_seconds, **_interval_columns(d, part, view.clock_ns),
        }  # fmt: skip
        # the search's own fit_probability (a fit_probability run), the user's own figures
        row.update({k: v for k, v in d.totals.items() if k not in row or k == "fit_probability"})
        if score is not None:
            row["score"] = score(d.accuracy, d.totals, part)
        row.update({f"param_{k}": v for k, v in sorted(params.get(d.trial, {}).items())})
        rows.append(row)
    _mark_pareto(rows, view)
    if len(view.part_order) > 1:
        _cross_parts(rows, view)
    return rows


def _scorer(view: RunView) -> Any:
    block = view.attrs.get("scalarization")
    if not block:
        return None
    from codesign.search.objectives import Scalarization

    scal = Scalarization(block.get("method", "weighted_product"), block["targets"], block.get("weights", {}))

    def score(accuracy: float, totals: Mapping[str, float], part: FpgaPart) -> float:
        return scal.score(accuracy, {m: metric_value(m, totals, part, view.clock_ns) for m in scal.metrics})

    return score


def _mark_pareto(rows: list[dict[str, Any]], view: RunView) -> None:
    for part_name in view.part_order:
        idx = [i for i, r in enumerate(rows) if r["part"] == part_name and r["feasible"]]
        if not idx:
            continue
        part = view.parts[part_name]
        pts = np.array([[-rows[i]["accuracy"]] + _costs(rows[i], part, view) for i in idx])
        for k in nondominated(pts):
            rows[idx[k]]["pareto"] = True


def _costs(row: Mapping[str, Any], part: FpgaPart, view: RunView) -> list[float]:
    """The row's cost vector (minimized: a figure the library call listed in ``maximize`` is negated)."""
    maximize = view.attrs.get("config", {}).get("maximize", ())
    return [(-1 if m in maximize else 1) * metric_value(m, row, part, view.clock_ns) for m in view.cost_metrics]


def _cross_parts(rows: list[dict[str, Any]], view: RunView) -> None:
    """Re-estimate every design on every part (multi-target runs) and mark the designs good on all."""
    from cost_models import get_cost_model
    from cost_models.ir import LayerGraph

    model = get_cost_model(view.attrs.get("config", {}).get("cost_model", "analytical"))
    graphs: dict[int, Any] = {}
    vectors: dict[int, list[float]] = {}
    for i, row in enumerate(rows):
        trial = view.trial(row["trial"])
        entry = trial.user_attrs["designs"][parse_design_id(row["design_id"])[1]]
        if entry.get("hardware") is None or "graph" not in trial.user_attrs:
            continue
        graph = graphs.setdefault(row["trial"], LayerGraph.from_json(trial.user_attrs["graph"]))
        vector, everywhere = [-row["accuracy"]], True
        for name in view.part_order:
            part = view.parts[name]
            totals = model.estimate(graph, hardware_on_part(entry["hardware"], part)).totals()
            ok = _feasible(totals, part, view.budgets, view.clock_ns)
            row[f"feasible_{name}"] = ok
            row[f"util_max_{name}"] = metric_value("util_max", totals, part, view.clock_ns)
            everywhere &= ok
            vector += [metric_value(m, totals, part, view.clock_ns) for m in view.cost_metrics]
        row["all_parts"] = False
        if everywhere:
            vectors[i] = vector
    if vectors:
        keys = list(vectors)
        for k in nondominated(np.array([vectors[i] for i in keys])):
            rows[keys[k]]["all_parts"] = True


def hardware_on_part(hardware: Mapping[str, Any], part: FpgaPart) -> Any:
    """A design's recorded hardware settings as a HardwareConfig on ``part``."""
    from hw_templates.config import HardwareConfig

    return HardwareConfig.from_dict({**hardware, "part": part.to_dict()})


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = list(BASE_COLUMNS)
    for row in rows:
        columns += [k for k in row if k not in columns]
    with atomic_open(path, "w", newline="") as handle:  # a kill mid-write never leaves half a table
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k, "")) for k in columns})


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def store_footprint(study: Any, run_dir: str | Path | None, footprint: Any, replace_last: bool = False) -> None:
    """Append (or replace the last of) the run's session footprints (:class:`codesign.footprint.Footprint`)
    in the study and write their total into ``run.json``."""
    from codesign.footprint import total
    from hw_templates.atomic import atomic_write_json

    sessions = list(study.user_attrs.get("footprints", []))
    if replace_last and sessions:
        sessions.pop()
    sessions.append(footprint.to_dict())
    study.set_user_attr("footprints", sessions)
    path = Path(run_dir) / RUN_FILE if run_dir is not None else None
    if path is not None and path.is_file():
        atomic_write_json(path, {**read_json(path, "run"), "footprint": total(sessions)})


def write_results(run_dir: str | Path, study: Any) -> dict[str, Path]:
    """Write ``designs.csv``, ``pareto.csv`` and ``report.html`` into ``run_dir``; return their paths."""
    from codesign.search.report import write_report

    path = Path(run_dir)
    view = RunView.of(study)
    rows = designs_table(view)
    rows.sort(key=lambda r: (view.part_order.index(r["part"]), -r["accuracy"], r["latency_ns"]))
    _write_csv(path / "designs.csv", rows)
    _write_csv(path / "pareto.csv", [r for r in rows if r["pareto"]])
    report = write_report(path / "report.html", view, rows)
    return {"designs": path / "designs.csv", "pareto": path / "pareto.csv", "report": report}


def pareto_design_ids(run_dir: str | Path, part: str | None = None, storage: str | None = None) -> list[str]:
    """Ids of the Pareto-optimal designs (on ``part``, default the run's first part), best accuracy first."""
    view = open_run(run_dir, storage)
    wanted = part or view.part_order[0]
    rows = [r for r in designs_table(view) if r["pareto"] and r["part"] == wanted]
    rows.sort(key=lambda r: (-r["accuracy"], r["latency_ns"]))
    return [r["design_id"] for r in rows]


def top_design_ids(run_dir: str | Path, k: int, storage: str | None = None) -> list[str]:
    """The ``k`` best feasible designs on the run's first part: by score (scalarized runs) or accuracy,
    then latency."""
    view = open_run(run_dir, storage)
    rows = [r for r in designs_table(view) if r["feasible"] and r["part"] == view.part_order[0]]
    rows.sort(key=lambda r: (-r.get("score", r["accuracy"]), -r["accuracy"], r["latency_ns"]))
    return [r["design_id"] for r in rows[: max(k, 0)]]


def load_design(
    run_dir: str | Path, design_id: str, storage: str | None = None, artifacts: str | Path | None = None
) -> Any:
    """The :class:`~codesign.design.TrainedDesign` of design ``design_id`` (weights in ``trials/<n>/``,
    downloaded from the run's artifact store when another machine trained it).

    Raises:
        SpecError: an unknown design id; SearchError: the trial's weights were saved nowhere.

    Example:
        >>> design = load_design("runs/demo", pareto_design_ids("runs/demo")[0])  # doctest: +SKIP
        >>> design.hardware.layers["dense1"].reuse_factor  # doctest: +SKIP
    """
    return load_designs(run_dir, [design_id], storage, artifacts)[0]


def load_designs(
    run_dir: str | Path, design_ids: Sequence[str], storage: str | None = None, artifacts: str | Path | None = None
) -> list[Any]:
    """:func:`load_design` for several ids: the run's storage is opened and each trial folder read once."""
    from codesign.design import TrainedDesign

    view = open_run(run_dir, storage)
    trained: dict[int, Any] = {}
    out = []
    for design_id in design_ids:
        trial_no, index = parse_design_id(design_id)
        trial = view.trial(trial_no)
        records = trial_designs(trial)
        if index >= len(records):
            raise SpecError(f"design: expected an id listed in designs.csv, got {design_id!r}")
        if trial_no not in trained:
            folder = Path(run_dir) / "trials" / str(trial_no)
            if not (folder / "design.json").is_file():
                _fetch(view, trial, folder, artifacts, design_id)
            trained[trial_no] = TrainedDesign.load(folder)
        hw = records[index].hardware_config(view.parts)
        out.append(replace(trained[trial_no], hardware=hw) if hw is not None else trained[trial_no])
    return out


def _fetch(view: RunView, trial: Any, folder: Path, artifacts: str | Path | None, design_id: str) -> None:
    """Download a trial's folder from the run's artifact store (trained on another machine)."""
    from codesign.search.artifacts import ARTIFACT_ATTR, fetch_trial_folder, open_artifact_store

    location = artifacts or view.attrs.get(ARTIFACT_ATTR)
    found = False
    if location is not None:
        store = open_artifact_store(location, create=False)
        found = fetch_trial_folder(store, view.study._storage, trial, folder)
    if not found or not (folder / "design.json").is_file():
        raise SearchError(
            f"design {design_id}: no trained weights in {str(folder)!r} nor in the run's artifact store "
            f"({location or 'none recorded'}); a user-evaluated trial, or pass --storage/--artifacts"
        )
