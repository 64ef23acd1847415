"""Benchmarks of the distributed search: sweep throughput with 1 and 2 local workers, per-trial overhead
of PostgreSQL vs SQLite storage, and the time from a worker's SIGKILL to its trial's retry.

    python scripts/bench_sweep.py                                    # all three, SQLite only
    python scripts/bench_sweep.py --postgres postgresql+psycopg2://postgres@localhost:54329/codesign_test
    python scripts/bench_sweep.py --only throughput --trials 8 --epochs 2

* throughput: a 2-cell sweep of tiny 4-bit MLPs on digits (``--trials`` per cell, ``--epochs``), run by
  ``codesign.sweep.run_sweep`` with 1 then 2 local worker processes; trials per minute of wall time
  (worker start-up included) and the ratio.
* overhead: ``run_search`` on a cheap user problem (no training: the cost model and a formula for the
  accuracy) with ``--overhead-trials`` trials; per-trial wall time and the driver's median overhead
  (everything but the evaluation: ask/tell, attributes, heartbeat, archive) on each storage.
* retry: two processes share a study (SQLite or ``--postgres``), each trial sleeping 2 s; one is
  SIGKILLed while a trial of its runs; time until a live worker starts the retry, with heartbeat
  interval 1 s and grace ``--grace`` s (the toolkit's default grace is 60 s: expect about that plus a
  poll).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "search"))

SEARCH = """
import sys, time
from dataclasses import replace
from test_search_driver import SPACE, Evaluator, graph_of, plan
from codesign.search import FunctionProblem, run_search
from codesign.search.storage import HeartbeatSettings
inner = Evaluator()
def slow(arch, report):
    time.sleep(2.0)
    return inner(arch, report)
run_search(FunctionProblem(SPACE, graph_of, slow), replace(plan(trials=int(sys.argv[3])), name=sys.argv[2]), None,
           storage=sys.argv[1], progress=False,
           heartbeat=HeartbeatSettings(interval_s=1, grace_s=int(sys.argv[4])))
"""


def throughput(trials: int, epochs: int) -> None:
    from codesign.sweep import run_sweep, sweep_from_dict

    space = {"kind": "mlp", "hidden": [1, 2], "units": [8, 16, 32, 64], "weight_bits": [3, 6], "act_bits": [4, 4]}
    base = {"name": "bench", "dataset": "digits", "space": space, "training": {"epochs": epochs, "batch_size": 128},
            "search": {"trials": trials, "sampler": "random"}, "matrix": {"seed": [0, 1]}}  # fmt: skip
    rates = {}
    for workers in (1, 2):
        sweep = sweep_from_dict({**base, "name": f"bench{workers}"})
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run = run_sweep(sweep, Path(tmp) / "out", workers=workers, progress=False)
            wall = time.perf_counter() - start
        rates[workers] = 2 * trials / wall * 60
        print(f"throughput: {workers} worker(s): {2 * trials} trials in {wall:.1f} s = {rates[workers]:.1f} trials/min "
              f"(exit codes {run.exit_codes})")  # fmt: skip
    print(f"throughput: 2 workers / 1 worker = {rates[2] / rates[1]:.2f}x")


def overhead(urls: dict[str, str], trials: int) -> None:
    from test_search_driver import SPACE, Evaluator, graph_of, plan

    from codesign.search import FunctionProblem, run_search

    for label, url in urls.items():
        name = f"overhead-{uuid.uuid4().hex[:8]}"
        start = time.perf_counter()
        summary = run_search(FunctionProblem(SPACE, graph_of, Evaluator()), replace(plan(trials=trials), name=name),
                             None, storage=url, progress=False)  # fmt: skip
        wall = time.perf_counter() - start
        print(f"overhead: {label:10} {trials} trials, {wall / trials * 1000:.0f} ms/trial wall, median driver "
              f"overhead {summary.overhead_seconds * 1000:.0f} ms/trial")  # fmt: skip
        _delete(url, name)


def _delete(url: str, name: str) -> None:
    import optuna

    if url.startswith("postgresql"):
        optuna.delete_study(study_name=name, storage=url)


def retry(url: str, grace: int) -> None:
    import optuna

    name = f"retry-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests" / "search")])}
    procs = [subprocess.Popen([sys.executable, "-c", SEARCH, url, name, "12", str(grace)], env=env) for _ in range(2)]
    victim = procs[0]
    killed, t0 = None, 0.0
    while killed is None:
        time.sleep(0.05)
        try:
            study = optuna.load_study(study_name=name, storage=url)
        except KeyError:
            continue
        for t in study.get_trials(deepcopy=False):
            if t.state.name == "RUNNING" and t.user_attrs.get("worker", "").endswith(f":{victim.pid}"):
                os.kill(victim.pid, signal.SIGSTOP)
                if study.get_trials(deepcopy=False)[t.number].state.name == "RUNNING":
                    os.kill(victim.pid, signal.SIGKILL)
                    t0, killed = time.perf_counter(), t.number
                else:
                    os.kill(victim.pid, signal.SIGCONT)
                break
    victim.wait()
    while True:
        trials = optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)
        retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed and t.state.name != "WAITING"]
        if retried:
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - t0
    procs[1].wait()
    print(f"retry: SIGKILL of a worker mid-trial -> its trial retried by the other after {seconds:.1f} s "
          f"(heartbeat 1 s, grace {grace} s)")  # fmt: skip
    _delete(url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["throughput", "overhead", "retry"])
    parser.add_argument("--postgres", help="a PostgreSQL URL to compare with SQLite (overhead) and to retry on")
    parser.add_argument("--trials", type=int, default=6, help="trials per cell (throughput)")
    parser.add_argument("--epochs", type=int, default=2, help="training epochs (throughput)")
    parser.add_argument("--overhead-trials", type=int, default=30)
    parser.add_argument("--grace", type=int, default=5, help="heartbeat grace period in seconds (retry)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"sqlite": f"sqlite:///{Path(tmp) / 'bench.db'}"}
        if args.postgres:
            urls["postgresql"] = args.postgres
        if args.only in (None, "throughput"):
            throughput(args.trials, args.epochs)
        if args.only in (None, "overhead"):
            overhead(urls, args.overhead_trials)
        if args.only in (None, "retry"):
            for label, url in urls.items():
                print(f"retry on {label}:", end=" ")
                retry(url, args.grace)


if __name__ == "__main__":
    main()
