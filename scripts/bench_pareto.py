"""Benchmark of the non-dominated filter and of the inner hardware search that calls it (issue 15).

1. ``nondominated`` on 20,000 random points with 2 and 3 minimized metrics (median of 5 runs);
2. the inner hardware search (``search_hardware``) on 20 sampled architectures each of the mlp and cnn
   spaces on an xczu7ev (io_parallel + io_stream for the cnn, reuse factors up to 256), cost metrics
   ``latency_ns`` and ``lut_dsp``: total seconds and the share spent in ``nondominated`` (cProfile).

Times are CPU seconds of this process (``time.process_time``), which a busy shared machine disturbs
less than wall time. Usage: ``python scripts/bench_pareto.py`` (prints the figures; run it on the code
before and after a change of ``codesign/search/pareto.py`` to compare). Keep it ``nice`` on shared
machines.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import time

import numpy as np

from codesign.search.pareto import nondominated


def bench_filter() -> None:
    rng = np.random.default_rng(0)
    for d in (2, 3):
        pts = rng.random((20_000, d))
        pts[:, 0] = np.round(pts[:, 0], 3)  # ties, as cost metrics have
        times = []
        for _ in range(5):
            start = time.process_time()
            front = nondominated(pts)
            times.append(time.process_time() - start)
        print(f"nondominated, 20000 points x {d} metrics: {1e3 * statistics.median(times):.1f} ms ({len(front)} kept)")


def bench_inner() -> None:
    import optuna

    from codesign.search.hardware_space import HardwareRanges, HardwareSpace
    from codesign.search.inner import search_hardware
    from codesign.search.problem import space_from_config
    from cost_models import get_cost_model
    from hw_templates.config import IoType
    from hw_templates.parts import resolve_part

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    model = get_cost_model("analytical")
    for name, io in (("mlp", (IoType.PARALLEL,)), ("cnn", (IoType.PARALLEL, IoType.STREAM))):
        space = space_from_config(name)
        ranges = HardwareRanges(io_types=io, reuse_factor_max=256, parallelization_max=4)
        hw = HardwareSpace.build([resolve_part("xczu7ev")], ranges=ranges)
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        graphs = [space.sample(study.ask()).to_graph(tuple(space.input_shape)) for _ in range(20)]
        start = time.process_time()
        fronts = [search_hardware(g, hw, model, ("latency_ns", "lut_dsp")) for g in graphs]
        seconds = time.process_time() - start
        configs = sum(f.configurations for f in fronts)
        print(f"inner search, {name}: 20 architectures, {configs:,} configurations: {seconds:.2f} CPU s")
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for g in graphs:
            search_hardware(g, hw, model, ("latency_ns", "lut_dsp"))
        profile.disable()
        stats = pstats.Stats(profile)
        total = sum(v[2] for v in stats.stats.values())  # own time of every function
        in_filter = sum(v[3] for k, v in stats.stats.items() if k[2] == "nondominated")  # cumulative time
        print(f"inner search, {name}: {100 * in_filter / total:.0f} % of the CPU time in nondominated (profiled)")


if __name__ == "__main__":
    bench_filter()
    bench_inner()
