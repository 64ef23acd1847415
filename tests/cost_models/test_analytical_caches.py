"""The analytical model's caches (per-layer contexts and terms, per-graph maps) never change an estimate."""

from __future__ import annotations

from dataclasses import replace

from cost_models.analytical import AnalyticalModel
from cost_models.cost import Target
from cost_models.ir import GraphBuilder, LayerGraph
from hw_templates import resolve_part
from hw_templates.config import FifoDepths, HardwareConfig, IoType, LayerHardware, Strategy
from hw_templates.precision import FixedType


def _net(name: str, widths: tuple[int, ...], bits: int) -> LayerGraph:
    b = GraphBuilder(name, (16,), FixedType(bits, bits // 2))
    for units in widths:
        b.add("dense", units=units)
        b.add("activation", function="relu")
    b.add("dense", units=5)
    b.add("activation", function="softmax")
    return b.build()


def _configs() -> list[HardwareConfig]:
    base = HardwareConfig(resolve_part("xcu250"), reuse_factor=4)
    rounded = FixedType(12, 6, rounding="RND", saturation="SAT")
    narrow = {"dense1": LayerHardware(precision={"result": FixedType(6, 3, rounding="RND"), "accum": rounded})}
    return [
        base,
        replace(base, strategy=Strategy.RESOURCE),
        replace(base, clock_ns=10.0),
        replace(base, layers={"dense1": LayerHardware(reuse_factor=8)}),
        replace(base, layers=narrow),
        replace(base, io_type=IoType.STREAM, fifo_depths=FifoDepths.SIZED),
        replace(base, part=resolve_part("xc7a200t"), strategy=Strategy.RESOURCE, reuse_factor=16),
    ]


def _figures(model: AnalyticalModel, graph: LayerGraph, hw: HardwareConfig) -> tuple:
    cost = model.estimate(graph, hw)
    layers = [(x.lut, x.ff, x.dsp, x.bram18, x.latency_cycles, x.ii_cycles, x.notes) for x in cost.layers]
    return (*cost.totals().values(), cost.power_w, dict(cost.intervals), layers, model.fifo_depths(graph, hw))


def test_a_model_that_has_priced_other_designs_gives_what_a_fresh_model_gives():
    graphs = [_net("a", (64, 32), 16), _net("b", (64, 32), 8), _net("c", (32,), 16)]
    for target in Target:
        warm = AnalyticalModel(target)
        for _ in range(2):  # second round: every context and term comes from the caches
            for graph in graphs:
                for hw in _configs():
                    assert _figures(warm, graph, hw) == _figures(AnalyticalModel(target), graph, hw)


def test_equal_configurations_built_twice_price_alike_and_a_changed_clock_is_seen():
    graph = _net("a", (64, 32), 16)
    model = AnalyticalModel()
    first = _figures(model, graph, _configs()[0])
    assert _figures(model, graph, _configs()[0]) == first  # new, equal objects
    relaxed = model.estimate(graph, replace(_configs()[0], clock_ns=20.0))
    assert relaxed.latency_cycles < first[5]  # not served the 5 ns terms
