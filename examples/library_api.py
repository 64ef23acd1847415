"""Co-design search of a model family the toolkit does not build, from Python (docs/search.md).

The family: a small scikit-learn MLP on digits described by plain parameters (a mapping space). Two
devices run it, so there are two latencies to trade against accuracy:

* an FPGA (Zynq-7020): the cheap cost function turns the architecture into a LayerGraph and the
  toolkit's inner hardware search gives every Pareto-optimal hardware option with its estimated
  latency and resources (``latency_ns``, ``lut``, ``dsp``, ...);
* the CPU the evaluator runs on: the cost function adds a rough estimate ``cpu_latency_us`` (a figure
  of our own, from the multiply-accumulate count), and the evaluator *measures* it after training, so
  the measured value replaces the estimate in the results.

The search spends its budget on expensive evaluations only (``evaluations=8``): architectures repeated
or rejected (nothing fits the part) are free. It returns the designs, not counts.

Run: ``python examples/library_api.py [RUN_DIR]``.
"""

from __future__ import annotations

import itertools
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from codesign.search import HardwareSpace, search, search_hardware
from cost_models import GraphBuilder, get_cost_model
from cost_models.ir import LayerPrecision
from hw_templates import resolve_part
from hw_templates.precision import FixedType

SPACE = {
    "width_0": [8, 16, 32],  # a categorical choice
    "width_1": [0, 8, 16],  # 0: no second hidden layer
    "weight_bits": (3, 8),  # an integer range
}
X, y = load_digits(return_X_y=True)
X_TRAIN, X_TEST, Y_TRAIN, Y_TEST = train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
FPGA = HardwareSpace.build([resolve_part("xc7z020")], clock_ns=5.0)
MODEL = get_cost_model("analytical")
#: Assumed CPU speed for the estimate (multiply-accumulates per microsecond) and fixed call overhead.
CPU_MACS_PER_US, CPU_OVERHEAD_US = 500.0, 20.0


def widths(arch: dict) -> list[int]:
    return [w for w in (arch["width_0"], arch["width_1"]) if w > 0]


def graph(arch: dict):
    builder = GraphBuilder("sk_mlp", (64,), FixedType(8, 1))
    weight = LayerPrecision(result=FixedType(16, 6), weight=FixedType(arch["weight_bits"], 1), bias=FixedType(8, 3))
    for width in widths(arch):
        builder.add("dense", units=width, precision=weight)
        builder.add("activation", function="relu", precision=LayerPrecision(result=FixedType(8, 3)))
    builder.add("dense", units=10, precision=weight)
    return builder.build()


def cost(arch: dict) -> list[dict]:
    """Cheap: every FPGA hardware option's figures, each with the CPU latency estimate."""
    sizes = [64, *widths(arch), 10]
    macs = sum(a * b for a, b in itertools.pairwise(sizes))
    cpu_us = CPU_OVERHEAD_US + macs / CPU_MACS_PER_US
    front = search_hardware(graph(arch), FPGA, MODEL, ("latency_ns", "lut_dsp"))
    return [{**p.totals, "cpu_latency_us": cpu_us} for p in front.points["xc7z020"]]  # [] when nothing fits


def evaluate(arch: dict) -> dict:
    """Expensive: train the network; return its test accuracy and its measured CPU latency."""
    net = MLPClassifier(hidden_layer_sizes=tuple(widths(arch)), max_iter=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X_TRAIN, Y_TRAIN)
    sample = X_TEST[:1]
    times = []
    for _ in range(20):
        start = time.perf_counter()
        net.predict(sample)
        times.append((time.perf_counter() - start) * 1e6)
    return {"accuracy": float(net.score(X_TEST, Y_TEST)), "cpu_latency_us": float(np.median(times))}


def main(out: str | None = None) -> None:
    result = search(
        space=SPACE,
        cost=cost,
        evaluate=evaluate,
        objectives=("accuracy", "latency_ns", "cpu_latency_us"),
        parts=("xc7z020",),
        budgets={"lut": "80%"},
        evaluations=8,
        out=out,
        name="library_example",
    )
    s = result.summary
    print(f"{s.trials} trials, {result.evaluations} evaluations, {len(result.pareto)} Pareto designs")
    for d in sorted(result.pareto, key=lambda d: -d.accuracy)[:5]:
        f = d.figures
        print(f"  {d.arch}  accuracy {d.accuracy:.3f}  FPGA {f['latency_ns']:.0f} ns  CPU {f['cpu_latency_us']:.0f} us")
    if out:
        print(f"report: {out}/report.html")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
