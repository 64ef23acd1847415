"""Run per-design work (convert, write, compile, simulate) in worker processes, with a progress bar.

Why processes: hls4ml prints its progress with ``print``, g++ writes to the terminal, and the C model
is loaded with ctypes into the process that simulates it. ``contextlib.redirect_stdout`` is
process-wide and, used from threads, swallowed the rest of the program's output
(``../shared/STACK.md``); a crash in a C model would take the caller down with it. So every task runs
as ``python -m codesign.export.parallel TARGET TASK.json RESULT.json`` with stdout and stderr going to
the task's own log file (``<project>/logs/*.log``), and the caller's terminal only shows the progress
bar. A fresh interpreter per task (not ``multiprocessing``) also means the caller's ``__main__`` is
never re-imported, so scripts need no ``if __name__ == "__main__"`` guard. Start-up costs ~0.6 s per
task (importing hls4ml, qonnx and numpy), small next to a ~3 s compile.

Speed (2-core machine, see docs/export.md for the figures): a small design's C model takes ~5.5 s with
``ModelGraph.compile()``; the shared precompiled header and concurrent translation units of
:mod:`codesign.export._csim` bring it to ~2.8 s, and ``jobs=2`` overlaps two designs.

How to add a kind of task: write a module-level function ``fn(task: dict) -> dict`` (JSON in, JSON
out; raise :class:`~hw_templates.errors.CodesignError` subclasses for expected failures) and call
:func:`run_tasks` with ``"package.module:fn"`` and one log path per task.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from hw_templates import errors
from hw_templates.errors import CodesignError, ExportError, SpecError, bad_value

__all__ = ["DEFAULT_TASK_TIMEOUT_S", "resolve_jobs", "run_tasks", "task_timeout"]

logger = logging.getLogger(__name__)


def resolve_jobs(jobs: int | None, n_tasks: int) -> int:
    """Worker count: ``jobs`` (0 or None: one per CPU), never more than the tasks.

    Raises:
        SpecError: a negative or non-integer ``jobs``.
    """
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0):
        raise SpecError(bad_value("jobs", jobs, "a non-negative integer (0: one per CPU)"))
    wanted = jobs or os.cpu_count() or 1
    return max(1, min(wanted, n_tasks))


#: Seconds a worker may run before it is killed and its design reported as failed. A small design takes
#: ~3-5 s, the largest seen ~20 s; the limit only catches hangs (a qonnx transformation that never
#: terminated on a 1D residual add is how one was found). ``CODESIGN_TASK_TIMEOUT`` overrides it
#: (seconds; 0: no limit). Vendor synthesis (``--build``) runs without a limit.
DEFAULT_TASK_TIMEOUT_S = 1800.0


def task_timeout() -> float | None:
    """The worker time limit: ``CODESIGN_TASK_TIMEOUT`` (0: none) or :data:`DEFAULT_TASK_TIMEOUT_S`.

    Raises:
        SpecError: the variable is not a non-negative number.
    """
    text = os.environ.get("CODESIGN_TASK_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_TASK_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise SpecError(bad_value("CODESIGN_TASK_TIMEOUT", text, "seconds >= 0 (0: no limit)"))
    return value or None


def _child_env() -> dict[str, str]:
    """The caller's environment, with this package importable even from an uninstalled checkout."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _run_one(target: str, task: dict[str, Any], log: Path, timeout: float | None) -> dict[str, Any] | CodesignError:
    log.parent.mkdir(parents=True, exist_ok=True)
    task_file, result_file = log.with_suffix(".task.json"), log.with_suffix(".result.json")
    task_file.write_text(json.dumps(task), encoding="utf-8")
    result_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "codesign.export.parallel", target, str(task_file), str(result_file)]
    try:
        with log.open("w", encoding="utf-8") as out:
            try:
                code = subprocess.run(
                    cmd, stdout=out, stderr=subprocess.STDOUT, env=_child_env(), check=False, timeout=timeout
                ).returncode
            except subprocess.TimeoutExpired:  # subprocess.run has killed the worker
                return ExportError(
                    f"the worker did not finish within {timeout:g} s and was stopped (a hang in hls4ml, qonnx or "
                    f"the C model?); see {log}; CODESIGN_TASK_TIMEOUT sets the limit"
                )
        if not result_file.is_file():
            return ExportError(
                f"the worker process died (exit code {code}; a crash in hls4ml or the C model); see {log}"
            )
        reply = json.loads(result_file.read_text(encoding="utf-8"))
    finally:
        task_file.unlink(missing_ok=True)
        result_file.unlink(missing_ok=True)
    if "error" in reply:
        kind = getattr(errors, reply["error"]["type"], None)
        kind = kind if isinstance(kind, type) and issubclass(kind, CodesignError) else ExportError
        return kind(reply["error"]["message"])
    return reply["result"]


def run_tasks(
    target: str,
    tasks: Sequence[dict[str, Any]],
    *,
    logs: Sequence[Path],
    jobs: int | None = 1,
    desc: str = "designs",
    progress: bool = True,
    timeout: float | None = None,
) -> list[dict[str, Any] | CodesignError]:
    """Run ``target`` on every task, each in its own worker process; results in task order.

    A failed task yields its :class:`~hw_templates.errors.CodesignError` in place of a result, so one bad
    design never hides the others' results.

    Args:
        target: ``"package.module:function"``; the function takes and returns JSON-ready dicts.
        tasks: the tasks.
        logs: one log file per task (the worker's stdout and stderr).
        jobs: tasks run at once (0 or None: one per CPU).
        desc: progress-bar label.
        progress: show a tqdm progress bar on stderr.
        timeout: seconds per task before its worker is killed (the task then fails); None: no limit.
            Callers pass :func:`task_timeout` for the configured limit.
    """
    from tqdm import tqdm

    if len(logs) != len(tasks):
        raise SpecError(bad_value("logs", f"{len(logs)} paths", f"one per task ({len(tasks)})"))
    if not tasks:
        return []
    results: list[Any] = [None] * len(tasks)
    workers = resolve_jobs(jobs, len(tasks))
    with (
        ThreadPoolExecutor(max_workers=workers) as pool,
        tqdm(total=len(tasks), desc=desc, unit="design", disable=not progress, file=sys.stderr) as bar,
    ):
        futures = {
            pool.submit(_run_one, target, t, Path(log), timeout): i for i, (t, log) in enumerate(zip(tasks, logs))
        }
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            bar.update(1)
    return results


def _worker_main(target: str, task_file: str, result_file: str) -> int:
    """Entry point of a worker process: run one task, write ``{"result": ...}`` or ``{"error": ...}``."""
    module_name, _, function_name = target.partition(":")
    task = json.loads(Path(task_file).read_text(encoding="utf-8"))
    try:
        reply: dict[str, Any] = {"result": getattr(importlib.import_module(module_name), function_name)(task)}
    except CodesignError as err:
        reply = {"error": {"type": type(err).__name__, "message": str(err)}}
    except Exception as err:  # a bug or a third-party failure: keep the traceback in the log, name the log
        traceback.print_exc()
        first = (str(err).strip().splitlines() or [""])[0]
        log = Path(result_file).with_suffix("").with_suffix(".log")
        reply = {"error": {"type": "ExportError", "message": f"{type(err).__name__}: {first} (traceback in {log})"}}
    sys.stdout.flush()
    Path(result_file).write_text(json.dumps(reply, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(*sys.argv[1:4]))
