"""A design's cost from its layers' costs: resources and counters add up; latency and interval follow
the design's schedule.

* io_parallel: latency is the longest path of per-layer latencies through the graph, the interval the
  slowest layer's.
* io_stream: every layer is a DATAFLOW process connected by FIFOs (:func:`~.stream.dataflow_latency`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cost_models.analytical.power import POWER_NOTE
from cost_models.analytical.stream import dataflow_latency
from cost_models.cost import Cost, LayerCost, Target
from cost_models.ir import LayerGraph
from hw_templates.config import HardwareConfig, IoType

__all__ = ["combine_layers", "schedule"]

_NOTES = (POWER_NOTE,)


def schedule(graph: LayerGraph, hw: HardwareConfig, layers: Sequence[LayerCost]) -> tuple[float, float]:
    """(latency, interval) in cycles of the design whose layers cost ``layers`` (in graph order)."""
    if hw.io_type is IoType.STREAM:
        index = {x.name: i for i, x in enumerate(graph.layers)}
        inputs = [[index[s] for s in x.inputs] for x in graph.layers]
        return dataflow_latency(inputs, [c.latency_cycles for c in layers], [c.ii_cycles for c in layers])
    finish: dict[str, float] = {}
    for layer, cost in zip(graph.layers, layers):
        start = max((finish[s] for s in layer.inputs), default=0.0)
        finish[layer.name] = start + cost.latency_cycles
    # every layer is a pipelined module of the top: whole cycles once its chain spans a cycle, a fraction
    # where it is combinational and chains with its neighbours (modules.py); the sum is the critical path
    return finish[graph.output.name], max((c.ii_cycles for c in layers), default=1.0)


def combine_layers(
    model: str,
    target: Target,
    graph: LayerGraph,
    hw: HardwareConfig,
    layers: tuple[LayerCost, ...],
    power: Callable[[dict[str, float], HardwareConfig], float | None],
) -> Cost:
    """The design's :class:`Cost`: sums, the schedule's latency and interval, ``power(totals, hw)``, and
    every layer's warnings."""
    latency, ii = schedule(graph, hw, layers)
    lut = ff = dsp = bram18 = uram = 0.0
    flops = params = bops = 0
    for c in layers:
        lut, ff, dsp, bram18, uram = lut + c.lut, ff + c.ff, dsp + c.dsp, bram18 + c.bram18, uram + c.uram
        flops, params, bops = flops + c.flops, params + c.params, bops + c.bops
    totals = {"lut": lut, "ff": ff, "dsp": dsp, "bram18": bram18, "uram": uram}
    warnings = tuple(n for c in layers for n in c.notes if n.startswith("warning:"))
    return Cost(
        model=model, target=target, part=hw.part, clock_ns=hw.clock_ns, layers=layers,
        latency_cycles=latency, ii_cycles=ii, power_w=power(totals, hw),
        flops=flops, params=params, bops=bops, notes=warnings + _NOTES, **totals,
    )  # fmt: skip
