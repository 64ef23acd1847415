"""Benchmark building a layer graph and estimating it, by number of layers (linear, not quadratic).

Usage::

    python scripts/bench_graph_build.py [--layers 1000 10000 100000] [--skip-estimate]

Builds a chain of alternating dense(16) and ReLU layers with ``cost_models.ir.GraphBuilder`` and prints
the build time, the time per layer and the analytical estimate's time. Before the builder kept a name
index, every ``add`` rebuilt a dict and a set of all layers: 10^4 layers took 6 s and 10^5 took 824 s.
Specs refuse more than ``codesign.spec.MAX_LAYERS`` layers; this measures the IR itself.
"""

from __future__ import annotations

import argparse
import time

from cost_models import get_cost_model
from cost_models.ir import GraphBuilder
from hw_templates.config import HardwareConfig
from hw_templates.parts import resolve_part
from hw_templates.precision import parse_precision


def build(n_layers: int) -> tuple[object, float]:
    start = time.perf_counter()
    builder = GraphBuilder("chain", (16,), parse_precision("ap_fixed<16,6>"))
    for i in range(n_layers):
        if i % 2 == 0:
            builder.add("dense", units=16)
        else:
            builder.add("activation", function="relu")
    graph = builder.build()
    return graph, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--skip-estimate", action="store_true")
    args = parser.parse_args()
    model = get_cost_model("analytical")
    hw = HardwareConfig(resolve_part("xcu250"))
    print(f"{'layers':>8}  {'build s':>8}  {'us/layer':>8}  {'estimate s':>10}")
    for n in args.layers:
        graph, seconds = build(n)
        estimate = ""
        if not args.skip_estimate:
            start = time.perf_counter()
            model.estimate(graph, hw)
            estimate = f"{time.perf_counter() - start:10.2f}"
        print(f"{n:>8}  {seconds:8.2f}  {1e6 * seconds / n:8.1f}  {estimate}")


if __name__ == "__main__":
    main()
