"""A design's cost from its layers' costs: resources and counters add up; latency and interval follow
the design's schedule.

* io_parallel: latency is the longest path of per-layer latencies through the graph, the interval the
  slowest layer's.
* io_stream: every layer is a DATAFLOW process connected by FIFOs (:func:`~.stream.dataflow_latency`).
* After synthesis, DSPs past the device's count are built in LUTs (:mod:`.device_limits`).

The design's 90 % intervals (``Cost.intervals``, :mod:`cost_models.intervals`) are set here too.
"""

from __future__ import annotations

from collections.abc import Sequence

from cost_models.analytical.constants import AnalyticalConstants
from cost_models.analytical.device_limits import spilled_dsp_luts
from cost_models.analytical.links import GraphIndex
from cost_models.analytical.power import POWER_NOTE
from cost_models.analytical.stream import dataflow_latency
from cost_models.base import CostModel
from cost_models.cost import Cost, LayerCost
from hw_templates.config import HardwareConfig, IoType

__all__ = ["combine_layers", "schedule"]

_NOTES = (POWER_NOTE,)


def schedule(
    hw: HardwareConfig, inputs: Sequence[tuple[int, ...]], output: int, layers: Sequence[LayerCost]
) -> tuple[float, float]:
    """(latency, interval) in cycles of the design whose layers cost ``layers`` (in graph order); ``inputs``
    gives each layer's input positions, ``output`` the output layer's position."""
    if hw.io_type is IoType.STREAM:
        return dataflow_latency(inputs, [c.latency_cycles for c in layers], [c.ii_cycles for c in layers])
    finish: list[float] = []
    for sources, cost in zip(inputs, layers):
        start = finish[sources[0]] if len(sources) == 1 else max((finish[s] for s in sources), default=0.0)
        finish.append(start + cost.latency_cycles)
    # every layer is a pipelined module of the top: whole cycles once its chain spans a cycle, a fraction
    # where it is combinational and chains with its neighbours (modules.py); the sum is the critical path
    return finish[output], max((c.ii_cycles for c in layers), default=1.0)


def combine_layers(
    model: CostModel,
    hw: HardwareConfig,
    layers: tuple[LayerCost, ...],
    index: GraphIndex,
    synthesis: AnalyticalConstants | None = None,
) -> Cost:
    """The design's :class:`Cost` (``index``: the graph's maps): sums, the schedule's latency and interval,
    ``model``'s power and 90 % intervals, and every layer's warnings. With ``synthesis`` (the constants of a
    post-synthesis model) the DSPs past the device's count move to LUTs (:mod:`.device_limits`)."""
    latency, ii = schedule(hw, index.inputs, index.output, layers)
    lut = ff = dsp = bram18 = uram = 0.0
    flops = params = bops = 0
    for c in layers:
        lut, ff, dsp, bram18, uram = lut + c.lut, ff + c.ff, dsp + c.dsp, bram18 + c.bram18, uram + c.uram
        flops, params, bops = flops + c.flops, params + c.params, bops + c.bops
    spill_notes: tuple[str, ...] = ()
    if synthesis is not None and dsp > hw.part.dsp:
        dsp, spilled_lut, note = spilled_dsp_luts(layers, hw, index, synthesis)
        lut, spill_notes = lut + spilled_lut, (note,) if note else ()
    totals = {"lut": lut, "ff": ff, "dsp": dsp, "bram18": bram18, "uram": uram}
    intervals = model.mix_intervals(index.mix, {**totals, "latency_cycles": latency})
    warnings = tuple(n for c in layers for n in c.notes if n.startswith("warning:"))
    return Cost(
        model=model.name, target=model.target, part=hw.part, clock_ns=hw.clock_ns, layers=layers,
        latency_cycles=latency, ii_cycles=ii, power_w=model.power_w(totals, hw), intervals=intervals,
        flops=flops, params=params, bops=bops, notes=warnings + spill_notes + _NOTES, **totals,
    )  # fmt: skip
