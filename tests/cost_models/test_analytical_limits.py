"""Layers HLS does not build as written (issue 11, mechanism 4): priced as the design the tool builds, with
a warning naming the layer and the limit (cost_models/analytical/limits.py; no training, no data files)."""

from __future__ import annotations

import numpy as np
import pytest

from cost_models.analytical import AnalyticalModel
from cost_models.ir import GraphBuilder
from hw_templates import resolve_part
from hw_templates.config import HardwareConfig, LayerHardware, Strategy
from hw_templates.precision import FixedType

Q16 = FixedType(16, 6)


def _dense_design(n_in: int, units: int):
    b = GraphBuilder("d", (n_in,), Q16)
    b.add("dense", name="fc", units=units)
    return b.build()


def _fc(graph, **kw):
    hw = HardwareConfig(resolve_part("xc7z020"), clock_ns=5.0, **kw)
    return next(c for c in AnalyticalModel().estimate(graph, hw).layers if c.name == "fc")


@pytest.mark.parametrize("tool", [{"tool_version": "2019.2"}, {"backend": "vivado"}])
def test_a_latency_layer_vivado_hls_refuses_is_priced_as_the_resource_design_that_builds(tool):
    # hls4ml issue #1013 (Vivado HLS 2019.2): XFORM 203-504, pre-synthesis fails above 4,096 unrolled
    # products; the design that builds is Resource at rf >= n_in * n_out / 4096. 128 x 64 = 8,192 -> rf 2.
    graph = _dense_design(128, 64)
    refused = _fc(graph, strategy=Strategy.LATENCY, reuse_factor=1, **tool)
    # the layer switched to Resource in the same (Latency-wide) design: the top's registers follow the
    # model-wide strategy (cost_models/analytical/dataflow.py), so the layer alone is compared
    as_resource = {"fc": LayerHardware(strategy=Strategy.RESOURCE, reuse_factor=2)}
    built = _fc(graph, strategy=Strategy.LATENCY, reuse_factor=1, layers=as_resource, **tool)
    for metric in ("lut", "ff", "dsp", "bram18", "latency_cycles", "ii_cycles"):
        assert getattr(refused, metric) == getattr(built, metric)
    (note,) = [n for n in refused.notes if n.startswith("warning:")]
    assert "'fc'" in note and "4,096" in note and "refuses" in note and "reuse factor 2" in note
    assert refused.strategy == "latency" and refused.reuse_factor == 1  # the layer as the user set it


def test_vitis_hls_builds_the_layer_as_written_with_a_warning():
    graph = _dense_design(128, 64)
    vitis = _fc(graph, strategy=Strategy.LATENCY, reuse_factor=1, tool_version="2023.1")
    resource = _fc(graph, strategy=Strategy.RESOURCE, reuse_factor=2, tool_version="2023.1")
    assert vitis.dsp > resource.dsp and any("builds it" in n for n in vitis.notes)


def test_layers_within_the_limit_are_priced_as_written_on_every_tool():
    graph = _dense_design(64, 64)  # 4,096 products: at the limit, not above
    for tool in ("2019.2", "2023.1"):
        latency = _fc(graph, strategy=Strategy.LATENCY, reuse_factor=1, tool_version=tool)
        assert latency.ii_cycles == 1 and not any(n.startswith("warning:") for n in latency.notes)


def test_the_reuse_factor_grid_prices_the_refused_layer_like_estimate():
    graph = _dense_design(128, 64)
    hw = HardwareConfig(resolve_part("xc7z020"), clock_ns=5.0, tool_version="2019.2", strategy=Strategy.LATENCY)
    grid = AnalyticalModel().layer_grid(graph.layers[-1], hw, np.array([1.0, 4.0]), Strategy.LATENCY, graph=graph)
    for i, rf in enumerate((2, 4)):  # rf 1 is refused: the serial design, rf 2; rf 4 builds as Resource rf 4
        built = _fc(graph, strategy=Strategy.RESOURCE, reuse_factor=rf, tool_version="2019.2")
        assert grid["dsp"][i] == built.dsp and grid["latency_cycles"][i] == built.latency_cycles
