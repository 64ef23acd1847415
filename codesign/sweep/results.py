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
from hw_templates.atomic import atomic_open, atomic_write_text

__all__ = ["HV_AXES", "cell_row", "sweep_progress", "write_sweep_results"]

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


def cell_row(sweep: Sweep, cell: Cell, view: Any, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``sweep.csv`` row of one cell (hypervolume filled in later, with the sweep's reference)."""
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
        "wall_seconds": round((max(ends) - min(starts)).total_seconds(), 1) if starts and ends else 0.0,
        "cpu_seconds": round(sum(float(t.user_attrs.get("cpu_seconds", 0.0)) for t in trials), 1),
    }


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def write_sweep_results(out: str | Path, storage: str | None = None) -> dict[str, Path]:
    """(Re)write every cell's designs/pareto/report and the sweep's three files from the storage.

    Args:
        out: the sweep folder (holds ``sweep.json``).
        storage: the storage URL when not the one ``sweep.json`` names (e.g. with a password).
    """
    from codesign.search.results import RunView, designs_table, write_results
    from codesign.search.storage import open_storage
    from codesign.sweep.runner import SWEEP_FILE, load_sweep_record, sweep_storage_url

    out = Path(out)
    meta = json.loads((out / SWEEP_FILE).read_text(encoding="utf-8"))
    store = open_storage(storage or meta.get("storage") or sweep_storage_url(out, None))
    sweep = load_sweep_record(store, meta["name"])
    import optuna

    cells, fronts = [], []
    for cell in sweep.cells:
        try:
            study = optuna.load_study(study_name=sweep.study_name(cell), storage=store)
        except KeyError:
            continue
        (out / "cells" / cell.folder).mkdir(parents=True, exist_ok=True)
        write_results(out / "cells" / cell.folder, study)
        view = RunView.of(study)
        rows = designs_table(view)
        front = [r for r in rows if r["pareto"] and r["part"] == view.part_order[0]]
        cells.append((cell, cell_row(sweep, cell, view, rows), front))
        fronts.extend(
            {"cell": cell.label, **{k: _text(v) for k, v in cell.settings.items()}, **r} for r in rows if r["pareto"]
        )
    reference = reference_point([r for _, _, front in cells for r in front], HV_AXES)  # one for every cell
    table = []
    for _, row, front in cells:
        hv = hypervolume_curve(front, {r["trial"]: 0 for r in front}, reference, HV_AXES)[1] if front else [0.0]
        row["hypervolume"] = hv[-1]
        row["hv_reference"] = " ".join(f"{v:.6g}" for v in reference)
        table.append(row)
    paths = {"sweep": out / "sweep.csv", "pareto_all": out / "pareto_all.csv", "html": out / "sweep.html"}
    _write_csv(paths["sweep"], table)
    _write_csv(paths["pareto_all"], fronts)
    from codesign.sweep.page import sweep_page

    atomic_write_text(paths["html"], sweep_page(sweep, table, fronts, reference))
    return paths


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with atomic_open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
