"""A sweep's results: ``sweep.csv``, ``pareto_all.csv``, ``sweep.html`` and each cell's own report.

* ``sweep.csv``: one row per cell: ``cell`` (its label), the matrix settings (one column per key),
  ``study``, ``folder``, ``trials`` (finished, counted against the budget), ``budget``, ``completed``,
  ``trainings``, ``rejected``, ``failed``, ``lost`` (trials of workers that died; each retried),
  ``best_accuracy``, ``hypervolume`` (of the cell's Pareto designs on its first part in
  (1 - accuracy, latency_ns, lut_dsp), as a fraction of the box up to one reference point for the whole
  sweep: :func:`codesign.search._report_plots.reference_point` over every cell's Pareto designs, given in
  ``hv_reference``), ``pareto_size``, ``wall_seconds`` (first trial start to last trial end) and
  ``cpu_seconds`` (summed over the cell's trials, every worker).
* ``pareto_all.csv``: every cell's Pareto designs (``pareto.csv`` columns) with the cell's settings.
* ``sweep.html``: one self-contained page: the cells table with links to each cell's ``report.html``,
  and the Pareto fronts overlaid per part and per dataset (accuracy against latency in ns and against
  LUT+DSP share of the part).

Every file is written to a temporary name and renamed (:mod:`hw_templates.atomic`).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from codesign.search._report_plots import hypervolume_curve, reference_point
from codesign.search.records import trial_status
from codesign.sweep.spec import Cell, Sweep
from hw_templates.atomic import atomic_open, atomic_write_json, atomic_write_text
from hw_templates.errors import SpecError, bad_value, clip

__all__ = ["HV_AXES", "cell_folder", "cell_row", "sweep_footprint", "sweep_progress", "write_sweep_results"]

#: The hypervolume's axes (accuracy enters as 1 - accuracy; every axis minimised).
HV_AXES = ("accuracy", "latency_ns", "lut_dsp")


def sweep_progress(store: Any, sweep: Sweep) -> tuple[int, int, int]:
    """``(finished trials, total budget, cells done)`` over the whole sweep, read from the storage."""
    import optuna

    from codesign.search.worker import budget_state

    done = total = cells_done = 0
    for cell in sweep.cells:
        budget = int(cell.config.get("search", {}).get("trials", 16))
        try:
            trials = optuna.load_study(study_name=sweep.study_name(cell), storage=store).get_trials(deepcopy=False)
        except KeyError:
            trials = []
        finished, running, waiting = budget_state(trials)
        done, total = done + min(finished, budget), total + budget
        cells_done += finished >= budget and not running and not waiting
    return done, total, cells_done


def cell_row(
    sweep: Sweep, cell: Cell, view: Any, rows: list[dict[str, Any]], folder: Path | None = None
) -> dict[str, Any]:
    """The ``sweep.csv`` row of one cell (hypervolume filled in later, with the sweep's reference);
    ``folder``: the cell's run folder on this machine (its exports are counted)."""
    from codesign.search.worker import budget_state

    trials = view.study.get_trials(deepcopy=False)
    statuses = [trial_status(t) for t in trials]
    accuracies = [
        float(t.user_attrs["accuracy"]) for t in trials if t.state.name == "COMPLETE" and "accuracy" in t.user_attrs
    ]
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    primary = view.part_order[0]
    return {
        "cell": cell.label,
        **{k: _text(v) for k, v in cell.settings.items()},
        "study": sweep.study_name(cell),
        "folder": f"cells/{cell.folder}",
        "trials": budget_state(trials)[0],
        "budget": int(cell.config.get("search", {}).get("trials", 16)),
        "completed": sum(1 for t in trials if t.state.name == "COMPLETE"),
        "trainings": sum(1 for t in trials if t.user_attrs.get("trained")),
        "rejected": statuses.count("rejected"),
        "failed": statuses.count("failed"),
        "lost": statuses.count("lost"),
        "best_accuracy": max(accuracies) if accuracies else None,
        "hypervolume": None,
        "pareto_size": sum(1 for r in rows if r["pareto"] and r["part"] == primary),
        **_footprint_columns(trials, starts, ends, folder),
    }


def _footprint_columns(trials: list[Any], starts: list[Any], ends: list[Any], folder: Path | None) -> dict[str, Any]:
    """A cell's footprint from its trials' records (:func:`codesign.footprint.from_records`)."""
    from codesign.footprint import from_records

    f = from_records(
        (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0,
        sum(float(t.user_attrs.get("cpu_seconds", 0.0)) for t in trials),
        max((float(t.user_attrs.get("peak_rss_mb", 0.0)) for t in trials), default=0.0),
        sum(1 for t in trials if t.user_attrs.get("trained")),
        _exports(folder),
    )
    return {
        "wall_seconds": round(f.wall_s, 1), "cpu_seconds": round(f.cpu_s, 1), "peak_memory_mb": round(f.peak_rss_mb),
        "exports": f.exports, "energy_wh": round(f.energy_j / 3600, 4), "co2_g": round(f.co2_g, 3),
    }  # fmt: skip


def _exports(folder: Path | None) -> int:
    """Designs exported from the cell's folder (``exports/exports.json``), 0 when none or unreadable."""
    index = Path(folder) / "exports" / "exports.json" if folder is not None else None
    if index is None or not index.is_file():
        return 0
    try:
        return len(json.loads(index.read_text(encoding="utf-8")).get("designs", []))
    except (OSError, ValueError, AttributeError):
        return 0


def sweep_footprint(table: list[dict[str, Any]], span_s: float) -> dict[str, Any]:
    """The whole sweep's footprint (:class:`codesign.footprint.Footprint` as a dict): the cells' figures
    added up, peak memory the largest, wall time from the first trial start to the last trial end."""
    from codesign.footprint import from_records

    def added(key: str) -> float:
        return sum(float(r.get(key) or 0) for r in table)

    peak = max((float(r.get("peak_memory_mb") or 0) for r in table), default=0.0)
    return from_records(span_s, added("cpu_seconds"), peak, int(added("trainings")), int(added("exports"))).to_dict()


def cell_folder(sweep_dir: str | Path, cell: str | None) -> Path:
    """The run folder of one cell of a sweep folder, named by its label (``sweep.csv``'s ``cell``), its
    folder name under ``cells/`` or its number (``0``, ``001``, ...).

    Raises:
        SpecError: not a sweep folder, or no such cell (the message lists the cells).
    """
    from codesign.search.results import RUN_FILE, run_meta
    from codesign.sweep.runner import SWEEP_FILE

    root = Path(sweep_dir)
    if not (root / SWEEP_FILE).is_file():
        raise SpecError(
            f"--cell: expected a sweep folder (with {SWEEP_FILE}, made by codesign sweep), got {clip(str(root))!r}"
        )
    labels: dict[Path, str] = {}
    for folder in sorted(p for p in (root / "cells").glob("*") if (p / RUN_FILE).is_file()):
        labels[folder] = run_meta(folder)[0].partition(":")[2]
    if cell is None:
        known = ", ".join(labels.values())
        raise SpecError(f"run: {clip(str(root))!r} is a sweep folder: expected --cell with one of {known}")
    for folder, label in labels.items():
        number = folder.name.partition("-")[0]
        if cell in (label, folder.name, number) or (cell.isdigit() and number.isdigit() and int(cell) == int(number)):
            return folder
    known = ", ".join(labels.values())
    raise SpecError(bad_value("--cell", cell, f"a cell of the sweep by label, folder or number ({known})"))


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def write_sweep_results(out: str | Path, storage: str | None = None) -> dict[str, Path]:
    """(Re)write every cell's designs/pareto/report, the sweep's three files and the sweep's footprint in
    ``sweep.json``, from the storage.

    Args:
        out: the sweep folder (holds ``sweep.json``).
        storage: the storage URL when not the one ``sweep.json`` names (e.g. with a password).
    """
    from codesign.search.storage import open_storage
    from codesign.sweep.runner import SWEEP_FILE, load_sweep_record, sweep_storage_url

    out = Path(out)
    meta = json.loads((out / SWEEP_FILE).read_text(encoding="utf-8"))
    store = open_storage(storage or meta.get("storage") or sweep_storage_url(out, None))
    sweep = load_sweep_record(store, meta["name"])
    cells, fronts, span = _cells(sweep, store, out)
    reference = reference_point([r for _, _, front in cells for r in front], HV_AXES)  # one for every cell
    table = []
    for _, row, front in cells:
        hv = hypervolume_curve(front, {r["trial"]: 0 for r in front}, reference, HV_AXES)[1] if front else [0.0]
        row["hypervolume"] = hv[-1]
        row["hv_reference"] = " ".join(f"{v:.6g}" for v in reference)
        table.append(row)
    footprint = sweep_footprint(table, span)
    paths = {"sweep": out / "sweep.csv", "pareto_all": out / "pareto_all.csv", "html": out / "sweep.html"}
    _write_csv(paths["sweep"], table)
    _write_csv(paths["pareto_all"], fronts)
    from codesign.sweep.page import sweep_page

    atomic_write_text(paths["html"], sweep_page(sweep, table, fronts, reference, footprint))
    atomic_write_json(out / SWEEP_FILE, {**meta, "footprint": footprint})
    return paths


def _cells(sweep: Sweep, store: Any, out: Path) -> tuple[list[tuple[Cell, dict, list]], list[dict], float]:
    """Each cell's results written, its ``sweep.csv`` row and front; every cell's Pareto rows; the seconds
    from the first trial start to the last trial end over the whole sweep."""
    import optuna

    from codesign.search.results import RunView, designs_table, write_results

    cells, fronts, starts, ends = [], [], [], []
    for cell in sweep.cells:
        try:
            study = optuna.load_study(study_name=sweep.study_name(cell), storage=store)
        except KeyError:
            continue
        folder = out / "cells" / cell.folder
        folder.mkdir(parents=True, exist_ok=True)
        write_results(folder, study)
        view = RunView.of(study)
        rows = designs_table(view)
        front = [r for r in rows if r["pareto"] and r["part"] == view.part_order[0]]
        cells.append((cell, cell_row(sweep, cell, view, rows, folder), front))
        fronts.extend(
            {"cell": cell.label, **{k: _text(v) for k, v in cell.settings.items()}, **r} for r in rows if r["pareto"]
        )
        starts += [t.datetime_start for t in study.get_trials(deepcopy=False) if t.datetime_start]
        ends += [t.datetime_complete for t in study.get_trials(deepcopy=False) if t.datetime_complete]
    span = (max(ends) - min(starts)).total_seconds() if starts and ends else 0.0
    return cells, fronts, span


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
