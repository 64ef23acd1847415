"""Benchmark the analytical cost model: accuracy on the calibration data, throughput, import time.

Usage::

    python scripts/bench_cost_model.py [--data DIR] [--skip-accuracy]

Prints tables only (no rows of the calibration data are written anywhere).
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from cost_models.analytical import AnalyticalModel
from cost_models.cost import Target
from cost_models.ir import GraphBuilder, LayerGraph
from cost_models.synth_data import load_synth_dir
from hw_templates.config import HardwareConfig, Strategy
from hw_templates.errors import CodesignError
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType
from hw_templates.reuse import valid_reuse_factors

METRICS = ("lut", "ff", "dsp", "bram18", "latency_cycles")


def accuracy(data: str | None) -> None:
    records, skipped = load_synth_dir(data)
    models = {t: AnalyticalModel(t) for t in Target}
    errors: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    refused: Counter[str] = Counter()
    for r in records:
        try:
            cost = models[r.target].estimate(r.graph, r.hw)
        except CodesignError as exc:
            refused[f"{type(exc).__name__}: {str(exc).split(':', 1)[-1].strip()[:70]}"] += 1
            continue
        source = r.source.split(" ")[0]
        for metric in METRICS:
            measured = r.measured.get(metric)
            if measured:
                errors[(r.target.value, source, metric)].append((getattr(cost, metric) - measured) / measured)
    _accuracy_table(errors)
    print("\nRows the model cannot represent:")
    for reason, n in Counter(f"reader: {s.reason[:90]}" for s in skipped).most_common():
        print(f"  {n:4d}  {reason}")
    for reason, n in refused.most_common():
        print(f"  {n:4d}  model: {reason}")


def _accuracy_table(errors: dict[tuple[str, str, str], list[float]]) -> None:
    columns = ("n", "med|err|", "med err", "<=10%", "<=25%")
    widths = (5, 9, 8, 6, 6)
    header = f"{'target':6s} {'source':32s} {'metric':15s} " + " ".join(f"{c:>{w}s}" for c, w in zip(columns, widths))
    print(header)
    print("-" * len(header))
    pooled: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (target, source, metric), values in sorted(errors.items()):
        e = np.array(values)
        a = np.abs(e)
        pooled[(target, metric)].extend(values)
        print(f"{target:6s} {source[:32]:32s} {metric:15s} {len(e):5d} {100 * np.median(a):8.1f}% "
              f"{100 * np.median(e):7.1f}% {np.mean(a <= 0.10):6.2f} {np.mean(a <= 0.25):6.2f}")  # fmt: skip
    print("\nAll sources pooled:")
    for (target, metric), values in sorted(pooled.items()):
        a = np.abs(np.array(values))
        print(f"{target:6s} {metric:15s} n={len(a):4d} median |err| {100 * np.median(a):6.1f}%  "
              f"<=10%: {np.mean(a <= 0.10):.2f}  <=25%: {np.mean(a <= 0.25):.2f}")  # fmt: skip


def jet_tagger() -> LayerGraph:
    b = GraphBuilder("jet", (16,), FixedType(16, 6))
    for units in (64, 32, 32):
        b.add("dense", units=units)
        b.add("activation", function="relu")
    b.add("dense", units=5)
    b.add("activation", function="softmax")
    return b.build()


def throughput() -> None:
    model = AnalyticalModel()
    graph = jet_tagger()
    hw = HardwareConfig(resolve_part("xcu250"), strategy=Strategy.RESOURCE, reuse_factor=4)
    layer = graph.layers[3]  # dense 64x32
    rfs = np.array(valid_reuse_factors(64, 32), dtype=float)
    for size in (len(rfs), 1024, 16384):
        batch = np.resize(rfs, size)
        calls = max(20, 200_000 // size)
        start = time.perf_counter()
        for _ in range(calls):
            model.layer_grid(layer, hw, batch, Strategy.RESOURCE, graph=graph)
        elapsed = time.perf_counter() - start
        print(f"layer_grid, {size:6d} reuse factors per call: {calls * size / elapsed:12,.0f} configurations/s")
    for strategy in Strategy:
        hw_s = HardwareConfig(resolve_part("xcu250"), strategy=strategy, reuse_factor=4)
        n = 1000
        per_call = math.inf  # best of 7 runs: the machine is shared, the minimum is the least disturbed
        for _ in range(7):
            start = time.perf_counter()
            for _ in range(n):
                model.estimate(graph, hw_s)
            per_call = min(per_call, (time.perf_counter() - start) / n)
        start = time.perf_counter()
        for _ in range(n):
            for x in graph.layers:
                hw_s.resolve(x.name)
        resolve = (time.perf_counter() - start) / n
        print(f"estimate(jet 16-64-32-32-5, {strategy.value}): {1e6 * per_call:7.1f} us per network, best of 7 "
              f"(of which HardwareConfig.resolve: {1e6 * resolve:5.1f} us)")  # fmt: skip
        fresh = math.inf  # a new configuration every call: nothing the model keeps per configuration helps
        for _ in range(7):
            configs = [replace(hw_s, clock_ns=5.0 + i * 1e-6) for i in range(n)]
            start = time.perf_counter()
            for config in configs:
                model.estimate(graph, config)
            fresh = min(fresh, (time.perf_counter() - start) / n)
        print(f"  the same with a new HardwareConfig every call: {1e6 * fresh:7.1f} us per network")


def import_time() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import cost_models, cost_models.analytical; "
        "heavy = ('torch', 'brevitas', 'hls4ml', 'qonnx', 'optuna'); "
        "print(time.perf_counter() - t, [m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(" ", 1)
    print(
        f"import cost_models + analytical: {1000 * float(out[0]):.0f} ms; heavy frameworks imported: {out[1].strip()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="calibration folder (default: ../shared/data/synth/calibration)")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_accuracy:
        accuracy(args.data)
    print()
    throughput()
    import_time()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
