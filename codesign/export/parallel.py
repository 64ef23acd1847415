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

Every worker leads its own process group: when the caller is interrupted (Ctrl-C, SIGTERM) it ends
every running worker's group (g++ included) before the interrupt propagates, and a worker whose caller
was killed outright (SIGKILL) notices within half a second (it watches its parent) and ends its group.
No worker outlives the export that started it.

Speed (2-core machine, see docs/export.md for the figures): a small design's C model takes ~5.5 s with
``ModelGraph.compile()``; the shared precompiled header and concurrent translation units of
:mod:`codesign.export._csim` bring it to ~2.8 s, and ``jobs=2`` overlaps two designs.

How to add a kind of task: write a module-level function ``fn(task: dict) -> dict`` (JSON in, JSON
out; raise :class:`~hw_templates.errors.CodesignError` subclasses for expected failures) and call
:func:`run_tasks` with ``"package.module:fn"`` and one log path per task.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from codesign._env import env_number
from hw_templates import errors
from hw_templates.atomic import atomic_write_text
from hw_templates.errors import CodesignError, ExportError, SpecError, bad_value, first_line

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
    if not os.environ.get("CODESIGN_TASK_TIMEOUT", "").strip():  # set but blank: the default too
        return DEFAULT_TASK_TIMEOUT_S
    return env_number("CODESIGN_TASK_TIMEOUT", DEFAULT_TASK_TIMEOUT_S, "seconds >= 0 (0: no limit)") or None


def _child_env() -> dict[str, str]:
    """The caller's environment, with this package importable even from an uninstalled checkout."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


#: Worker processes running now (each the leader of its own process group; see :func:`_stop_workers`).
_LIVE: set[subprocess.Popen] = set()
_LIVE_LOCK = threading.Lock()


def _run_one(target: str, task: dict[str, Any], log: Path, timeout: float | None) -> dict[str, Any] | CodesignError:
    log.parent.mkdir(parents=True, exist_ok=True)
    task_file, result_file = log.with_suffix(".task.json"), log.with_suffix(".result.json")
    task_file.write_text(json.dumps(task), encoding="utf-8")
    result_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "codesign.export.parallel", target, str(task_file), str(result_file), str(os.getpid())]
    try:
        with log.open("w", encoding="utf-8") as out:
            # own process group: the worker and its g++ children are ended together (interrupt, timeout)
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=_child_env(), start_new_session=True)
            with _LIVE_LOCK:
                _LIVE.add(proc)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return ExportError(
                    f"the worker did not finish within {timeout:g} s and was stopped (a hang in hls4ml, qonnx or "
                    f"the C model?); see {log}; CODESIGN_TASK_TIMEOUT sets the limit"
                )
            finally:
                with _LIVE_LOCK:
                    _LIVE.discard(proc)
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


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _stop_workers() -> None:
    """End every running worker's process group (Ctrl-C, SIGTERM): no worker outlives the export."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        _kill_group(proc)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt in the main thread while tasks run (so workers are ended)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_tasks(
    target: str,
    tasks: Sequence[dict[str, Any]],
    *,
    logs: Sequence[Path],
    jobs: int | None = 1,
    desc: str = "designs",
    progress: bool = True,
    timeout: float | None = None,
    on_done: Callable[[int, Any], None] | None = None,
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
        on_done: called in the caller's thread with ``(task index, result)`` as each task ends (e.g. to
            record it at once, so an interrupted run keeps what was finished).

    On Ctrl-C or SIGTERM no further task starts and every running worker is ended with its process
    group (its g++ included) before the interrupt propagates.
    """
    from tqdm import tqdm

    if len(logs) != len(tasks):
        raise SpecError(bad_value("logs", f"{len(logs)} paths", f"one per task ({len(tasks)})"))
    if not tasks:
        return []
    results: list[Any] = [None] * len(tasks)
    workers = resolve_jobs(jobs, len(tasks))
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        with (
            _terminate_as_interrupt(),
            tqdm(total=len(tasks), desc=desc, unit="design", disable=not progress, file=sys.stderr) as bar,
        ):
            futures = {
                pool.submit(_run_one, target, t, Path(log), timeout): i for i, (t, log) in enumerate(zip(tasks, logs))
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                if on_done is not None:
                    on_done(futures[future], results[futures[future]])
                bar.update(1)
    except BaseException:  # Ctrl-C, SIGTERM: no task starts, running workers are ended with their g++
        pool.shutdown(wait=False, cancel_futures=True)
        _stop_workers()
        raise
    pool.shutdown()
    return results


def _watch_parent(parent: int) -> None:
    """End this worker's process group (itself and its g++) as soon as the export that started it is gone
    (killed with SIGKILL, so it could not end its workers itself)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_main(target: str, task_file: str, result_file: str, parent: str | None = None) -> int:
    """Entry point of a worker process: run one task, write ``{"result": ...}`` or ``{"error": ...}``."""
    if parent is not None:
        _watch_parent(int(parent))
    module_name, _, function_name = target.partition(":")
    task = json.loads(Path(task_file).read_text(encoding="utf-8"))
    try:
        reply: dict[str, Any] = {"result": getattr(importlib.import_module(module_name), function_name)(task)}
    except CodesignError as err:
        reply = {"error": {"type": type(err).__name__, "message": str(err)}}
    except Exception as err:  # a bug or a third-party failure: keep the traceback in the log, name the log
        traceback.print_exc()
        first = first_line(err)
        log = Path(result_file).with_suffix("").with_suffix(".log")
        reply = {"error": {"type": "ExportError", "message": f"{type(err).__name__}: {first} (traceback in {log})"}}
    sys.stdout.flush()
    atomic_write_text(result_file, json.dumps(reply, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(*sys.argv[1:5]))
