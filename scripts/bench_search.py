"""Benchmarks of the co-design search (issue 4): efficiency of the drivers, inner-search speed, overhead.

1. Co-design efficiency on digits: hypervolume of (1 - accuracy, latency_ns, lut_dsp) on the primary
   part against the number of trainings, for the nested, flat, two-stage and random drivers, over
   several seeds. Trainings are real Brevitas QAT runs, cached by (architecture, training seed): a
   training is deterministic, so a cache hit gives the accuracy a new run would, while every mode is
   still *charged* one training per trial that trains (the flat driver retrains an architecture for
   every hardware draw; the nested one trains each architecture once). Early stopping is off so all
   modes train alike. The hypervolume reference point is fixed across all runs (1, and 1.1 x the
   largest latency and lut_dsp of any feasible design seen).
2. Inner hardware search speed: configurations covered per second on MLPs and a CNN of the spaces.
3. Overhead per trial outside training (from the nested runs).

4. ``bench_search.py samplers ...``: every sampler on the project's tabular benchmark (HV fraction of
   the true front at 20/50/100/200 evaluations, accuracy models, zero-cost proxies, hot start); see
   ``scripts/bench_samplers.py``.
5. ``bench_search.py sharing ...``: weight sharing (supernets, sliced weights) against standalone
   training on the same table: rank correlation, accuracy cost of the chosen front, CPU time; see
   ``scripts/bench_sharing.py``.

Usage: ``python scripts/bench_search.py [--seeds 5] [--trainings 15] [--epochs 2] [--out bench_search]``
(prints a table and writes ``results.json`` in ``--out``). Runs on CPU; keep budgets small on shared
machines (``nice`` it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from codesign.search import search_settings_from_dict
from codesign.search.api import plan_from_settings
from codesign.search.driver import run_search
from codesign.search.inner import search_hardware
from codesign.search.objectives import metric_value
from codesign.search.pareto import hypervolume
from codesign.search.problem import Evaluation, ToolkitProblem
from cost_models import get_cost_model

MODES = {
    "nested": {"mode": "nested", "formulation": "pareto", "sampler": "nsga2"},
    "flat": {"mode": "flat", "formulation": "pareto", "sampler": "nsga2"},
    "two_stage": {"mode": "nested", "formulation": "two_stage", "sampler": "tpe"},
    "random": {"mode": "random", "formulation": "pareto", "sampler": "random"},
}


def config(mode: str, seed: int, trainings: int, epochs: int) -> dict[str, Any]:
    search = {**MODES[mode], "trials": trainings, "early_stop": {"enabled": False}}
    if search["formulation"] == "pareto":
        search["objectives"] = ["accuracy", "latency_ns", "lut_dsp"]
    return {
        "name": f"bench-{mode}-{seed}",
        "seed": seed,
        "dataset": "digits",
        "space": {"kind": "mlp", "hidden": [1, 2], "units": [8, 16, 32, 64], "weight_bits": [2, 8], "act_bits": [2, 8]},
        "parts": ["xc7z020"],
        "hardware": {"io_types": ["io_parallel"], "strategies": ["latency", "resource"], "reuse_factor_max": 64},
        "training": {"epochs": epochs, "proxy_fraction": 0.5},
        "search": search,
    }


class CachedProblem(ToolkitProblem):
    """The toolkit problem with trainings cached by (architecture, training seed); see the docstring."""

    cache: ClassVar[dict[str, Any]] = {}

    def evaluate(self, arch: Any, report: Any, trial_dir: Path | None) -> Evaluation:
        key = json.dumps([arch.to_dict(), self.settings.seed], sort_keys=True)
        if key not in self.cache:
            ev = super().evaluate(arch, lambda e, v: False, None)
            self.cache[key] = (ev.accuracy, ev.seconds, ev.val_history, ev.status)
        accuracy, seconds, history, status = self.cache[key]
        return Evaluation(accuracy, status, seconds, tuple(history))


def curve(points: list, trained: list | None, budget: int, ref: np.ndarray, top_k: int) -> list[float]:
    part = get_part()
    values = []
    for n in range(1, budget + 1):
        if trained is None:
            rows = [(acc, d) for m, acc, d in points if m <= n]
        else:
            best = sorted([t for t in trained if t[0] <= n], key=lambda t: -t[1])[:top_k]
            rows = [(acc, d) for _, acc, ds in best for d in ds if d["part"] == "xc7z020"]
        pts = [[1 - acc, _m("latency_ns", d, part), _m("lut_dsp", d, part)] for acc, d in rows]
        values.append(hypervolume(np.array(pts), ref) if pts else 0.0)
    return values


def _m(metric: str, design: dict, part: Any) -> float:
    return metric_value(metric, design["totals"], part, 5.0)


def get_part() -> Any:
    from hw_templates.parts import resolve_part

    return resolve_part("xc7z020")


def samplers_main(argv: list[str]) -> int:
    """``bench_search.py samplers ...``: the samplers on the shipped table (scripts/bench_samplers.py)."""
    import bench_samplers as bs

    parser = argparse.ArgumentParser(description=bs.__doc__.split("\n")[0])
    parser.add_argument("--table", default=str(bs.TABLE))
    parser.add_argument("--seeds", type=int, default=10, help="number of benchmark seeds")
    parser.add_argument("--seed-start", type=int, default=0, help="first seed (tune on 0-9, report 10-19 too)")
    parser.add_argument("--evaluations", type=int, default=200)
    parser.add_argument("--samplers", nargs="+", default=list(bs.SAMPLERS))
    parser.add_argument("--problems", nargs="+", default=list(bs.PROBLEMS))
    parser.add_argument("--models", action="store_true", help="accuracy models out of sample")
    parser.add_argument("--proxies", action="store_true", help="zero-cost proxies vs trained accuracy")
    parser.add_argument("--hot-start", type=int, default=0, help="measure hot start on N architectures")
    parser.add_argument("--hot-epochs", type=int, default=5)
    parser.add_argument("--early-stop", nargs="+", help="EarlyStopSettings fields, e.g. enabled=false")
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args(argv)
    table = bs.load_table(Path(args.table))
    out: dict[str, Any] = {"args": vars(args), "architectures": len(table)}
    if args.proxies:
        out["proxies"] = bs.proxy_correlations(table)
        print("zero-cost proxies, Spearman vs trained accuracy:", json.dumps(out["proxies"]), flush=True)
    if args.models:
        out["models"] = bs.model_quality(table)
    if args.hot_start:
        out["hot_start"] = bs.hot_start_cost(table, args.hot_start, args.hot_epochs)
        print("hot start:", json.dumps(out["hot_start"]), flush=True)
    if args.seeds:
        print(f"HV fraction of the true front at {bs.CHECKPOINTS} evaluations: median [quartiles]", flush=True)
        out["runs"] = bs.bench(args)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["samplers"]:
        return samplers_main(argv[1:])
    if argv[:1] == ["sharing"]:
        import bench_sharing

        return bench_sharing.main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trainings", type=int, default=15)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--modes", nargs="+", default=list(MODES))
    parser.add_argument("--out", default="bench_search")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"inner": bench_inner(), "args": vars(args)}
    print(json.dumps(result["inner"], indent=1), flush=True)
    result.update(bench_modes(args))
    (out / "results.json").write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


def bench_modes(args: argparse.Namespace) -> dict[str, Any]:
    import optuna

    studies: dict[str, list[tuple[list, list | None]]] = {m: [] for m in args.modes}
    overhead, hw = [], []
    for seed in range(args.seeds):
        for mode in args.modes:
            settings = search_settings_from_dict(config(mode, seed, args.trainings, args.epochs))
            plan = plan_from_settings(settings)
            storage = optuna.storages.InMemoryStorage()
            start = time.perf_counter()
            summary = run_search(CachedProblem(settings), plan, None, storage=storage, progress=False,
                                 write_results=False)  # fmt: skip
            study = optuna.load_study(study_name=plan.name, storage=storage)
            points, trained = _points(study)
            studies[mode].append((points, trained if mode == "two_stage" else None))
            if mode == "nested":
                overhead.append(summary.overhead_seconds)
                hw.append(summary.hw_search_seconds / max(summary.trials, 1))
            print(f"seed {seed} {mode:9} trials {summary.trials:3} trainings {summary.trainings:3} "
                  f"{time.perf_counter() - start:5.0f} s", flush=True)  # fmt: skip
    return summarize(studies, args, overhead, hw)


def _points(study: Any) -> tuple[list, list]:
    spent, points, trained = 0, [], []
    for t in sorted(study.get_trials(), key=lambda t: t.number):
        spent += 1 if t.user_attrs.get("trained") else 0
        if t.user_attrs.get("status") in ("trained", "stopped"):
            acc, designs = float(t.user_attrs["accuracy"]), t.user_attrs["designs"]
            trained.append((spent, acc, designs))
            points += [(spent, acc, d) for d in designs if d["part"] == "xc7z020"]
    return points, trained


def summarize(studies: dict, args: argparse.Namespace, overhead: list, hw: list) -> dict[str, Any]:
    part = get_part()
    every = [d for runs in studies.values() for points, _ in runs for _, _, d in points]
    ref = np.array([
        1.0,
        1.1 * max(metric_value("latency_ns", d["totals"], part, 5.0) for d in every),
        1.1 * max(metric_value("lut_dsp", d["totals"], part, 5.0) for d in every),
    ])  # fmt: skip
    curves = {m: [curve(p, t, args.trainings, ref, 3) for p, t in runs] for m, runs in studies.items()}
    mean = {m: np.mean(np.array(c), axis=0).tolist() for m, c in curves.items()}
    report: dict[str, Any] = {"reference": ref.tolist(), "mean_hv": mean}
    if "nested" in curves and "flat" in curves:
        ratios = []
        for nested, flat in zip(curves["nested"], curves["flat"]):
            target = flat[-1]
            reach = next((i + 1 for i, v in enumerate(nested) if v >= target), None)
            ratios.append(reach / args.trainings if reach else None)
        report["nested_trainings_to_reach_flat_final_fraction"] = ratios
        mean_flat, mean_nested = mean["flat"][-1], mean["nested"]
        reach = next((i + 1 for i, v in enumerate(mean_nested) if v >= mean_flat), None)
        report["mean_curve_nested_reaches_flat_final_at"] = reach
    report["overhead_seconds_per_trial"] = statistics.mean(overhead) if overhead else None
    report["hw_search_seconds_per_trial"] = statistics.mean(hw) if hw else None
    print_table(report, args)
    return report


def print_table(report: dict[str, Any], args: argparse.Namespace) -> None:
    checkpoints = sorted({1, max(args.trainings // 3, 1), max(args.trainings // 2, 1), args.trainings})
    print("mean hypervolume after N trainings (" + ", ".join(f"N={n}" for n in checkpoints) + ")")
    for mode, values in report["mean_hv"].items():
        print(f"  {mode:10}" + "".join(f"{values[n - 1]:10.4f}" for n in checkpoints))
    for key in ("nested_trainings_to_reach_flat_final_fraction", "mean_curve_nested_reaches_flat_final_at",
                "overhead_seconds_per_trial", "hw_search_seconds_per_trial"):  # fmt: skip
        if key in report:
            print(f"{key}: {report[key]}")


def bench_inner() -> dict[str, Any]:
    """Configurations per second of the inner search on sampled architectures of the mlp and cnn spaces."""
    import optuna

    from codesign.search.hardware_space import HardwareRanges, HardwareSpace
    from codesign.search.problem import space_from_config
    from hw_templates.config import IoType
    from hw_templates.parts import resolve_part

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    model = get_cost_model("analytical")
    out = {}
    for name, io in (("mlp", (IoType.PARALLEL,)), ("cnn", (IoType.PARALLEL, IoType.STREAM))):
        space = space_from_config(name)
        hw = HardwareSpace.build([resolve_part("xczu7ev")], ranges=HardwareRanges(io_types=io, reuse_factor_max=256,
                                 parallelization_max=4))  # fmt: skip
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        configs = seconds = 0.0
        for _ in range(20):
            graph = space.sample(study.ask()).to_graph(tuple(space.input_shape))
            front = search_hardware(graph, hw, model, ("latency_ns", "lut_dsp"))
            configs += front.configurations
            seconds += front.seconds
        out[name] = {
            "configurations": int(configs),
            "seconds": round(seconds, 3),
            "configurations_per_second": round(configs / seconds),
            "seconds_per_architecture": round(seconds / 20, 4),
        }
    return out


if __name__ == "__main__":
    sys.exit(main())
