"""Running a sweep: one study per cell in one storage, worked by any number of worker processes.

``run_sweep`` (``codesign sweep``) checks every cell (config and budgets) before writing anything,
records the expanded sweep in the storage (a trial-less study ``<name>:sweep``), creates each cell's
study, starts ``workers`` local worker processes (each in its own session, so a terminal's Ctrl-C
reaches only this process, which then interrupts them and waits), shows progress over cells and
trials, and writes the results (:mod:`codesign.sweep.results`). ``run_worker`` (``codesign worker``,
also what the local processes run) reads the sweep from the storage alone, so a worker on another
machine needs only the storage URL (and the shared artifact folder): it takes trials of cells whose
budget is open, and stays until no cell has a running trial left, so the trial of a peer that dies is
retried by someone (:mod:`codesign.search.worker`).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from codesign.search.storage import fail_stale, open_storage, shown_url
from codesign.sweep.spec import Cell, Sweep
from hw_templates.atomic import atomic_write_json
from hw_templates.errors import CodesignError, SearchError, SpecError

__all__ = ["SWEEP_FILE", "SweepRun", "load_sweep_record", "run_sweep", "run_worker", "sweep_storage_url"]

logger = logging.getLogger(__name__)
SWEEP_FILE = "sweep.json"
DB_FILE = "sweep.db"
#: Seconds an idle worker waits before looking again at cells whose trials run elsewhere.
IDLE_POLL_S = 1.0
STORAGE_ENV = "CODESIGN_SWEEP_STORAGE"  # the URL goes to local workers by environment, not argv (passwords)


@dataclass
class SweepRun:
    """What ``run_sweep`` did: the folder, the storage, each local worker's exit code, seconds."""

    out: Path
    storage: str
    exit_codes: list[int] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False


def sweep_storage_url(out: Path, storage: str | None) -> str:
    """The given URL, or the sweep folder's own SQLite file."""
    return storage or f"sqlite:///{(Path(out) / DB_FILE).resolve()}"


def load_sweep_record(store: Any, name: str | None = None) -> Sweep:
    """The sweep recorded in ``store`` (the only one, or the one called ``name``).

    Raises:
        SearchError: none recorded, several and no name given, or no sweep of that name.
    """
    import optuna

    names = sorted(n.removesuffix(":sweep") for n in optuna.get_all_study_names(store) if n.endswith(":sweep"))
    if name is None:
        if len(names) != 1:
            found = ", ".join(names) or "none"
            raise SearchError(f"--sweep: expected the name of a sweep in this storage, got none (sweeps: {found})")
        name = names[0]
    if name not in names:
        from hw_templates.errors import did_you_mean

        raise SearchError(
            f"--sweep: expected a sweep recorded in this storage, got {name!r}{did_you_mean(name, names)}"
        )
    study = optuna.load_study(study_name=f"{name}:sweep", storage=store)
    return Sweep.from_record(study.user_attrs["sweep"])


def _describe_change(old: dict[str, Any], new: Sweep) -> str:
    from codesign.sweep.spec import _meaning

    before = {c["label"]: _meaning(c["config"]) for c in old["cells"]}
    after = {c.label: _meaning(c.config) for c in new.cells}
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    if added or removed:
        return f"cells added: {', '.join(added) or 'none'}; cells removed: {', '.join(removed) or 'none'}"
    for label, config in after.items():
        flat_old, flat_new = _flatten(before[label]), _flatten(config)
        for key in sorted(set(flat_old) | set(flat_new)):
            if flat_old.get(key) != flat_new.get(key):
                return f"cell {label}: {key} was {flat_old.get(key)!r}, now {flat_new.get(key)!r}"
    return "the cells' order changed"


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _check_record(store: Any, sweep: Sweep, own_storage: bool) -> None:
    """Refuse a storage that holds a different sweep of this name (or, the folder's own file, any other)."""
    import optuna

    names = [n.removesuffix(":sweep") for n in optuna.get_all_study_names(store) if n.endswith(":sweep")]
    if own_storage and names and sweep.name not in names:
        raise SpecError(f"--out: expected a new folder or one of sweep {sweep.name!r}, got a folder of sweep "
                        f"{names[0]!r} (choose another --out)")  # fmt: skip
    if sweep.name in names:
        known = optuna.load_study(study_name=sweep.record_name, storage=store).user_attrs["sweep"]
        if known["fingerprint"] != sweep.fingerprint():
            raise SpecError(
                f"sweep {sweep.name!r}: expected the sweep this storage was started with, got a changed one "
                f"({_describe_change(known, sweep)}); restore the sweep file or use a new --out/--storage"
            )


def _cell_context(sweep: Sweep, cell: Cell, model_cache: dict[str, Any]) -> tuple[Any, Any, Any]:
    """``(problem, plan, model)`` of a cell (the problem loads the cell's dataset once per process)."""
    from codesign.search.api import plan_from_settings
    from codesign.search.problem import ToolkitProblem
    from cost_models import get_cost_model

    if cell.label not in model_cache:
        settings = cell.search_settings()
        plan = replace(plan_from_settings(settings), name=sweep.study_name(cell))
        model_cache[cell.label] = (ToolkitProblem(settings), plan, get_cost_model(plan.cost_model))
    return model_cache[cell.label]


def _prepare(sweep: Sweep, out: Path, storage: str | None, artifacts: str | None) -> tuple[str, dict[str, Any]]:
    """Check everything, then write: the storage record, every cell's study, ``sweep.json``."""
    from codesign.search.artifacts import ARTIFACT_ATTR, open_artifact_store
    from codesign.search.driver import existing_trials, open_study, preflight
    from codesign.search.run_folder import write_run_file

    url = sweep_storage_url(out, storage)
    exists = storage is not None or (out / DB_FILE).is_file()
    store = open_storage(url, sweep.heartbeat) if exists else None
    if store is not None:
        _check_record(store, sweep, own_storage=storage is None)
    cache: dict[str, Any] = {}
    for cell in sweep.cells:
        problem, plan, model = _cell_context(sweep, cell, cache)
        if store is None or existing_trials(plan.name, store) == 0:
            try:
                preflight(problem, plan, model)
            except CodesignError as err:
                raise type(err)(f"sweep cell {cell.label}: {err} (or exclude the cell)") from None
    out.mkdir(parents=True, exist_ok=True)
    store = store or open_storage(url, sweep.heartbeat)
    import optuna

    record = optuna.create_study(study_name=sweep.record_name, storage=store, load_if_exists=True)
    record.set_user_attr("sweep", sweep.to_record())
    where = (
        artifacts
        if artifacts and artifacts.startswith("s3://")
        else str(Path(artifacts or out / "artifacts").resolve())
    )
    open_artifact_store(where)  # created now: workers refuse a recorded folder that is missing
    for cell in sweep.cells:
        problem, plan, _ = cache[cell.label]
        write_run_file(out / "cells" / cell.folder, plan.name, storage or url)
        study = open_study(plan, store, problem.record())
        if ARTIFACT_ATTR not in study.user_attrs:
            study.set_user_attr(ARTIFACT_ATTR, where)
    atomic_write_json(out / SWEEP_FILE, {"name": sweep.name, "storage": shown_url(url), "cells": len(sweep.cells)})
    return url, cache


def run_worker(
    storage: str,
    out: str | Path,
    *,
    sweep_name: str | None = None,
    index: int = 0,
    artifacts: str | None = None,
) -> int:
    """Work on a recorded sweep until every cell's budget is done and no trial runs anywhere.

    Args:
        storage: the sweep's storage URL.
        out: this machine's folder for the cells' run folders (trial weights, logs).
        sweep_name: which sweep (needed only when the storage holds several).
        index: this worker's number; workers start on different cells (``index`` modulo cells).
        artifacts: the shared artifact folder's path on this machine when it differs from the recorded one.

    Returns:
        The number of trials this worker ran.

    Raises:
        Exception: a trial raised an unexpected error (re-raised after the trial is recorded as failed);
            SearchError: no such sweep or storage.
    """
    sweep = load_sweep_record(open_storage(storage), sweep_name)
    worker = _Worker(sweep, open_storage(storage, sweep.heartbeat), storage, Path(out), index, artifacts)
    shift = index % len(sweep.cells)
    cells = list(sweep.cells[shift:] + sweep.cells[:shift])  # workers start on different cells
    while True:
        progressed, busy = False, False
        for cell in cells:
            state = worker.take(cell)
            progressed, busy = progressed or state == "ran", busy or state == "busy"
        if not progressed and not busy:
            return worker.ran
        if not progressed:
            time.sleep(IDLE_POLL_S)  # trials run elsewhere: wait, then fail them if their worker died


@dataclass
class _Worker:
    """One worker process's view of a sweep: the cells' studies and trial contexts, opened on first use."""

    sweep: Sweep
    store: Any
    url: str
    out: Path
    index: int
    artifacts: str | None
    ran: int = 0
    cache: dict[str, Any] = field(default_factory=dict)
    opened: dict[str, tuple[Any, Any, Any]] = field(default_factory=dict)

    def _open(self, cell: Cell) -> tuple[Any, Any, Any]:
        from codesign.search.driver import open_study, trial_context
        from codesign.search.run_folder import write_run_file

        if cell.label not in self.opened:
            problem, plan, model = _cell_context(self.sweep, cell, self.cache)
            run_dir = self.out / "cells" / cell.folder
            write_run_file(run_dir, plan.name, self.url)
            salt = 1000 * self.index + os.getpid() % 997  # workers sample differently
            study = open_study(plan, self.store, problem.record(), seed_offset=salt)
            ctx = trial_context(problem, plan, model, run_dir, study, self.artifacts, catch=())
            self.opened[cell.label] = (study, ctx, plan)
        return self.opened[cell.label]

    def take(self, cell: Cell) -> str:
        """Run the cell's open trials: ``ran``; ``busy`` when only other workers' trials run; else ``done``."""
        from codesign.search.worker import more_trials, work

        study, ctx, plan = self._open(cell)
        fail_stale(study)
        ctx.archive.update(study.get_trials(deepcopy=False), ctx.formulation, ctx.space)
        if more_trials(ctx.archive, plan):
            work(study, ctx, plan, on_trial=self._count)
            return "ran"
        return "busy" if ctx.archive.running else "done"

    def _count(self, *_: Any) -> None:
        self.ran += 1


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    *,
    storage: str | None = None,
    workers: int = 1,
    artifacts: str | None = None,
    progress: bool = True,
) -> SweepRun:
    """Run (or resume) a sweep with ``workers`` local worker processes, then write its results.

    Raises:
        SpecError / SearchError: bad sweep, impossible budgets in a cell, a storage that does not open or
            holds a different sweep: raised before anything is written.
    """
    from codesign.sweep.results import write_sweep_results

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise SpecError(f"--workers: expected a number of local worker processes >= 0, got {workers!r}")
    out = Path(out)
    start = time.perf_counter()
    url, _ = _prepare(sweep, out, storage, artifacts)
    run = SweepRun(out, shown_url(url))
    if workers:
        procs = [_spawn(url, sweep.name, out, i, artifacts) for i in range(workers)]
        run.interrupted = _watch(procs, sweep, url, progress)
        run.exit_codes = [p.returncode for p in procs]
    write_sweep_results(out, storage=url)
    run.seconds = time.perf_counter() - start
    return run


def _spawn(url: str, name: str, out: Path, index: int, artifacts: str | None) -> subprocess.Popen:
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    root = str(Path(__file__).resolve().parents[2])
    env = {
        **os.environ,
        STORAGE_ENV: url,
        "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p),
    }
    cmd = [sys.executable, "-m", "codesign.sweep._child", name, str(out), str(index), artifacts or ""]
    with (logs / f"worker-{index}.log").open("w", encoding="utf-8") as log:
        # own session: Ctrl-C in the terminal reaches only the coordinator, which stops workers in order
        return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _watch(procs: list[subprocess.Popen], sweep: Sweep, url: str, progress: bool) -> bool:
    """Show progress until every worker exits; on Ctrl-C/SIGTERM interrupt them. True if interrupted."""
    from codesign.sweep.results import sweep_progress

    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    bar = _bar(sweep, progress)
    store = open_storage(url, sweep.heartbeat)
    try:
        while any(p.poll() is None for p in procs):
            done, total, cells_done = sweep_progress(store, sweep)
            bar.total, bar.n = total, done
            bar.set_postfix(cells=f"{cells_done}/{len(sweep.cells)}", workers=sum(p.poll() is None for p in procs))
            time.sleep(1.0)
        return False
    except KeyboardInterrupt:
        _stop(procs)
        return True
    finally:
        bar.close()
        signal.signal(signal.SIGTERM, previous)


def _bar(sweep: Sweep, progress: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=0, disable=not progress, unit="trial", desc=f"sweep {sweep.name}")


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _stop(procs: list[subprocess.Popen], grace_s: float = 30.0) -> None:
    """Interrupt every worker's process group (they record their trial as interrupted), then kill."""
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGINT)
    end = time.monotonic() + grace_s
    for p in procs:
        try:
            p.wait(timeout=max(end - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
