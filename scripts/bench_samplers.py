"""Sampler benchmark on the project's own tabular co-design benchmark (``scripts/make_search_table.py``).

Every architecture of the table's space was trained (per-epoch validation accuracy, final test
accuracy, two training seeds) and costed on two parts, so a search is replayed without training: the
library API (:func:`codesign.search.search`) runs with the table's figures as a user cost function and
the recorded training as the evaluator (it reports each epoch, so the early-stopping rule acts as in a
real run). A stopped run records what :func:`codesign.models.train.train` records: the test accuracy of
its best validation epoch so far, which is the table's final accuracy when the full run's best
validation epoch came before the stop (exact), and otherwise is not in the table: the best validation
accuracy so far stands in for it (``stops_exact`` counts the exact ones). Benchmark seed
``s`` replays training seed ``s % 2``, and the true front is that seed's front over the whole table.

Problems (the same three kinds as the issue's outside benchmark):

* ``fpga``: accuracy vs the fastest feasible design's latency on xc7z020 (custom figure
  ``latency_z020_ns``; architectures with no feasible design are rejected);
* ``fpga2``: accuracy vs the fastest design's latency on xcu250;
* ``all3``: accuracy, latency and LUT+DSP share on xc7z020.

HV fraction: hypervolume of the evaluated designs over that of the true front, objectives normalized
by the true front's ideal and nadir points, reference point 1.1 (beyond the nadir) on each axis.

Also: the accuracy models out of sample (``--models``), the zero-cost proxies' rank correlation with
trained accuracy (``--proxies``), and the accuracy cost of hot start with real training
(``--hot-start N``).

Usage (from the repository root; ``nice`` it on shared machines):
    python scripts/bench_search.py samplers --seeds 10 --evaluations 200
    python scripts/bench_search.py samplers --models --proxies --hot-start 24 --seeds 0
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from codesign.search import search
from codesign.search.pareto import hypervolume, nondominated

TABLE = Path(__file__).parent / "data" / "search_table_digits_mlp.csv"
SPACE = {
    "units0": [8, 16, 32, 64],
    "units1": [0, 8, 16, 32, 64],
    "weight_bits": [2, 3, 4, 6, 8],
    "act_bits": [2, 3, 4, 6, 8],
}
KEYS = tuple(SPACE)
PROBLEMS = {
    "fpga": {"latency_z020_ns": "latency_ns_fast_xc7z020"},
    "fpga2": {"latency_u250_ns": "latency_ns_fast_xcu250"},
    "all3": {"latency_z020_ns": "latency_ns_fast_xc7z020", "lut_dsp_z020": "lut_dsp_fast_xc7z020"},
}
CHECKPOINTS = (20, 50, 100, 200)
#: Trials per run at most (a sampler that keeps proposing known architectures is stopped there; the
#: table prints how many evaluations each sampler reached).
MAX_TRIALS = 2000
SAMPLERS = ("surrogate", "surrogate_zc", "tpe", "nsga2", "random", "rl")


def load_table(path: Path = TABLE) -> dict[tuple[int, ...], dict[str, Any]]:
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    return {tuple(int(r[k]) for k in KEYS): r for r in rows}


class Replay:
    """The table as a user's cost function and evaluator for one problem and training seed."""

    def __init__(self, table: dict, problem: str, seed: int) -> None:
        self.table, self.figures, self.col = table, PROBLEMS[problem], seed % 2
        self.epochs_run = 0
        self.epochs_full = 0
        self.stops: list[tuple[tuple[int, ...], int, bool]] = []  # (architecture, epoch, recorded exactly)

    def key(self, arch: dict) -> tuple[int, ...]:
        return tuple(int(arch[k]) for k in KEYS)

    def costs(self, row: dict) -> dict[str, float] | None:
        out = {name: float(row[col]) for name, col in self.figures.items()}
        return None if any(math.isnan(v) for v in out.values()) else out

    def cost(self, arch: dict) -> list[dict[str, float]]:
        row = self.table.get(self.key(arch))  # a partial table (still being made): missing rows rejected
        costs = self.costs(row) if row is not None else None
        return [costs] if costs else []

    def evaluate(self, arch: dict, report: Any) -> float:
        row = self.table[self.key(arch)]
        history = [float(v) for v in row[f"val_s{self.col}"].split(";")]
        self.epochs_full += len(history)
        final = float(row[f"accuracy_s{self.col}"])
        for epoch, val in enumerate(history):
            self.epochs_run += 1
            if report(epoch, val):
                # train() keeps the weights of the first best validation epoch and tests them: the table's
                # final accuracy once that epoch is behind; before it, that epoch's test accuracy is unknown.
                exact = int(np.argmax(history)) <= epoch
                self.stops.append((self.key(arch), epoch, exact))
                return final if exact else max(history[: epoch + 1])
        return final

    def true_front(self) -> set[tuple[int, ...]]:
        """The architectures with a design on the true front (of this problem and training seed)."""
        keys, pts = [], []
        for key, row in self.table.items():
            costs = self.costs(row)
            if costs:
                keys.append(key)
                pts.append([-float(row[f"accuracy_s{self.col}"]), *costs.values()])
        return {keys[i] for i in nondominated(np.array(pts))}

    def true_points(self) -> np.ndarray:
        pts = []
        for row in self.table.values():
            costs = self.costs(row)
            if costs:
                pts.append([-float(row[f"accuracy_s{self.col}"]), *costs.values()])
        return np.array(pts)


class Normalizer:
    """Objectives scaled by the true front's ideal and nadir; reference 1.1 on every axis."""

    def __init__(self, true_points: np.ndarray) -> None:
        front = true_points[nondominated(true_points)]
        self.low, high = front.min(axis=0), front.max(axis=0)
        self.span = np.where(high > self.low, high - self.low, 1.0)
        self.ref = np.full(front.shape[1], 1.1)
        self.true_hv = hypervolume(self.scale(front), self.ref)

    def scale(self, pts: np.ndarray) -> np.ndarray:
        return (np.asarray(pts, dtype=float) - self.low) / self.span

    def fraction(self, pts: list[list[float]]) -> float:
        return hypervolume(self.scale(np.array(pts)), self.ref) / self.true_hv if pts else 0.0


def make_sampler(name: str, seed: int, table: dict) -> Any:
    """A sampler by name; ``surrogate_zc``: the surrogate with the zero-cost proxies as extra features;
    ``surrogate:key=value,...`` (or ``surrogate_zc:...``): the surrogate with those constructor options
    (numbers parsed), e.g. ``surrogate:model=gp,n_startup=6`` to compare settings."""
    base, _, opts = name.partition(":")
    if base not in ("surrogate", "surrogate_zc"):
        return name
    if base == "surrogate" and not opts:
        return name
    from codesign.search.surrogate import SurrogateSampler

    kwargs = {k: _number(v) for k, v in (o.split("=", 1) for o in opts.split(",") if o)}
    if base == "surrogate":
        return SurrogateSampler(seed=seed, **kwargs)
    names = [k for k in next(iter(table.values())) if k.startswith("proxy_")]
    values = np.array([[float(r[k]) for k in names] for r in table.values()])
    low, span = values.min(axis=0), np.where(np.ptp(values, axis=0) > 0, np.ptp(values, axis=0), 1.0)

    def proxies(arch: dict) -> np.ndarray:  # zero-cost: computed on the untrained model by the table script
        row = table.get(tuple(int(arch[k]) for k in KEYS))
        return (np.array([float(row[k]) for k in names]) - low) / span if row else np.zeros(len(names))

    return SurrogateSampler(seed=seed, features=proxies, **kwargs)


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def run_one(
    table: dict, problem: str, sampler: str, seed: int, evaluations: int, early_stop: Any = None
) -> dict[str, Any]:
    replay = Replay(table, problem, seed)
    norm = Normalizer(replay.true_points())
    start, cpu = time.perf_counter(), time.process_time()
    result = search(
        space=SPACE, cost=replay.cost, evaluate=replay.evaluate, objectives=("accuracy", *PROBLEMS[problem]),
        parts=("xcu250",), evaluations=evaluations, trials=MAX_TRIALS, sampler=make_sampler(sampler, seed, table),
        seed=seed, early_stop=early_stop,
        name=f"{problem}-{sampler}-{seed}",
    )  # fmt: skip
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    found: list[list[float]] = []
    curve: dict[int, float] = {}
    statuses: dict[str, int] = {}
    spent = 0
    for t in sorted(result.study.get_trials(deepcopy=False), key=lambda t: t.number):
        status = t.user_attrs.get("status", "failed")
        statuses[status] = statuses.get(status, 0) + 1
        if status in ("trained", "stopped"):
            spent += 1  # one expensive evaluation, whatever number of designs it carries
            designs = t.user_attrs.get("designs", [])
            found += [[-float(t.user_attrs["accuracy"]), *(d["totals"][n] for n in PROBLEMS[problem])] for d in designs]
            if spent in CHECKPOINTS:
                curve[spent] = norm.fraction(found)
    for c in CHECKPOINTS:
        curve.setdefault(c, norm.fraction(found))  # budget ended early: the final front counts
    return {
        "problem": problem, "sampler": sampler, "seed": seed, "hv": curve, "statuses": statuses,
        "trials": len(result.study.trials), "evaluations": result.evaluations, "seconds": seconds, "cpu_s": cpu,
        "overhead_s": result.summary.overhead_seconds,
        "epochs_saved": replay.epochs_full - replay.epochs_run, "epochs_full": replay.epochs_full,
        "stops": len(replay.stops), "stops_exact": sum(e for _, _, e in replay.stops),
        "front_stopped": len({k for k, _, _ in replay.stops} & replay.true_front()),
    }  # fmt: skip


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q = np.percentile(values, [25, 50, 75])
    return float(q[0]), float(q[1]), float(q[2])


def bench(args: Any) -> list[dict[str, Any]]:
    import logging

    logging.getLogger("codesign").setLevel(logging.ERROR)
    table = load_table(Path(args.table))
    runs = []
    for problem in args.problems:
        for sampler in args.samplers:
            for seed in range(args.seed_start, args.seed_start + args.seeds):
                runs.append(run_one(table, problem, sampler, seed, args.evaluations, early_stop_settings(args)))
                if getattr(args, "json", None):  # every finished run is kept, even if the benchmark is stopped
                    Path(args.json).write_text(json.dumps({"args": vars(args), "runs": runs}, default=str) + "\n")
            print_problem_row(
                problem, sampler, [r for r in runs if r["problem"] == problem and r["sampler"] == sampler]
            )
    return runs


def print_problem_row(problem: str, sampler: str, runs: list[dict[str, Any]]) -> None:
    cells = []
    for c in CHECKPOINTS:
        lo, med, hi = quartiles([r["hv"][c] for r in runs])
        cells.append(f"{med:.3f} [{lo:.3f}-{hi:.3f}]")
    rejected = statistics.mean(r["statuses"].get("rejected", 0) for r in runs)
    repeats = statistics.mean(r["statuses"].get("duplicate", 0) for r in runs)
    saved = statistics.mean(r["epochs_saved"] / max(r["epochs_full"], 1) for r in runs)
    reached = statistics.mean(r["evaluations"] for r in runs)
    cut = sum(r.get("front_stopped", 0) for r in runs)
    over = statistics.median(r["cpu_s"] / max(r["trials"], 1) for r in runs) * 1000  # evaluations cost ~0 here
    print(
        f"{problem:<6} {sampler:<9} " + "  ".join(cells)
        + f"  | evaluations {reached:.0f}, free: rejected {rejected:.0f}, repeats {repeats:.0f};"
        f" early stop saved {saved:.0%} of epochs, cut {cut} true-front architectures;"
        f" overhead {over:.0f} ms CPU/trial",
        flush=True,
    )  # fmt: skip


def early_stop_settings(args: Any) -> Any:
    """``--early-stop key=value ...`` (fields of EarlyStopSettings, e.g. ``enabled=false``); None: the default."""
    pairs = getattr(args, "early_stop", None)
    if not pairs:
        return None
    from codesign.search.config import EarlyStopSettings

    values = {k: {"true": True, "false": False}.get(v.lower(), v) for k, v in (p.split("=", 1) for p in pairs)}
    return EarlyStopSettings(**{k: _number(v) if isinstance(v, str) else v for k, v in values.items()})


def mean_accuracy(row: dict) -> float:
    return statistics.mean(float(row[k]) for k in row if k.startswith("accuracy_s"))


def proxy_correlations(table: dict) -> dict[str, float]:
    """Spearman rank correlation of each zero-cost proxy (untrained model) with trained accuracy."""
    from scipy.stats import spearmanr

    rows = list(table.values())
    acc = [mean_accuracy(r) for r in rows]
    out = {}
    for name in (k for k in rows[0] if k.startswith("proxy_")):
        out[name[6:]] = float(spearmanr([float(r[name]) for r in rows], acc).statistic)
    for name in ("params", "bops"):
        out[f"({name})"] = float(spearmanr([float(r[name]) for r in rows], acc).statistic)
    return out


def model_quality(table: dict, train_sizes=(30, 100), splits: int = 3) -> list[dict[str, Any]]:
    """Accuracy models out of sample: fit on n random architectures, predict the rest."""
    from scipy.stats import spearmanr

    from codesign.search._acquisition import MODELS, Encoder, fit_predict

    rows = list(table.values())
    dists = {k: _Choices(v) for k, v in SPACE.items()}
    enc = Encoder(dists)
    base = np.array([enc.encode({k: int(r[k]) for k in KEYS}) for r in rows])
    proxies = np.array([[float(r[k]) for k in r if k.startswith("proxy_")] for r in rows])
    proxies = (proxies - proxies.mean(axis=0)) / np.where(proxies.std(axis=0) > 0, proxies.std(axis=0), 1)
    y = np.array([float(r["accuracy_s0"]) for r in rows])
    out = []
    for features, x in (("params", base), ("params+proxies", np.hstack([base, proxies]))):
        for kind in MODELS:
            for n in train_sizes:
                rho, mae, cover, secs = [], [], [], []
                for split in range(splits):
                    idx = np.random.default_rng(split).permutation(len(rows))
                    tr, te = idx[:n], idx[n:]
                    start = time.perf_counter()
                    mu, sd = fit_predict(kind, x[tr], y[tr], x[te], split)
                    secs.append(time.perf_counter() - start)
                    rho.append(spearmanr(mu, y[te]).statistic)
                    mae.append(float(np.mean(np.abs(mu - y[te]))))
                    cover.append(float(np.mean(np.abs(mu - y[te]) <= 1.645 * sd)))
                out.append({"features": features, "model": kind, "n": n, "spearman": statistics.mean(rho),
                            "mae": statistics.mean(mae), "coverage90": statistics.mean(cover),
                            "fit_s": statistics.median(secs)})  # fmt: skip
                print(f"{features:<15} {kind:<9} n={n:<4} spearman {out[-1]['spearman']:.3f}  MAE "
                      f"{out[-1]['mae']:.3f}  90% interval coverage {out[-1]['coverage90']:.2f}  "
                      f"fit+predict {out[-1]['fit_s']:.2f} s", flush=True)  # fmt: skip
    return out


class _Choices:
    def __init__(self, choices: list[int]) -> None:
        self.choices = choices


def hot_start_cost(table: dict, count: int, epochs: int, full_epochs: int = 20) -> dict[str, float]:
    """Real training: each of ``count`` architectures inherits the weights of its nearest trained
    neighbour (same layer widths, other bit widths: every tensor fits) and trains ``epochs`` epochs;
    compared with training from scratch for ``epochs`` and with the table's ``full_epochs`` result."""
    import torch

    from codesign.data import load_dataset
    from codesign.models.train import TrainConfig, train

    sys_path_insert()
    from make_search_table import spec_of

    torch.set_num_threads(1)
    data = load_dataset("digits", (64,), seed=0)
    rng = np.random.default_rng(0)
    keys = list(table)
    picks = [keys[i] for i in rng.permutation(len(keys))[:count]]
    deltas, scratch_deltas = [], []
    for key in picks:
        u0, u1, wb, ab = key
        donor = min((k for k in keys if k[:2] == (u0, u1) and k != key), key=lambda k: abs(k[2] - wb) + abs(k[3] - ab))
        cfg = TrainConfig(epochs=full_epochs, batch_size=256, learning_rate=2e-2, seed=0, threads=1)
        source = train(spec_of(*donor).to_graph((64,)), data, cfg).model
        short = TrainConfig(epochs=epochs, batch_size=256, learning_rate=2e-2, seed=0, threads=1)
        graph = spec_of(*key).to_graph((64,))
        hot = train(graph, data, short, hot_start=source)
        cold = train(graph, data, short)
        full = float(table[key]["accuracy_s0"])
        deltas.append((hot.accuracy or 0.0) - full)
        scratch_deltas.append((cold.accuracy or 0.0) - full)
    return {
        "architectures": count, "epochs": epochs, "full_epochs": full_epochs,
        "hot_minus_full_median": float(np.median(deltas)), "hot_minus_full_mean": float(np.mean(deltas)),
        "scratch_minus_full_median": float(np.median(scratch_deltas)),
        "scratch_minus_full_mean": float(np.mean(scratch_deltas)),
    }  # fmt: skip


def sys_path_insert() -> None:
    import sys

    here = str(Path(__file__).parent)
    if here not in sys.path:
        sys.path.insert(0, here)
