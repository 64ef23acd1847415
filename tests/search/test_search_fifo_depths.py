"""FIFO depths as a hardware knob: sized io_stream FIFOs in the cost model, the search and the templates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from search_graphs import branched_graph
from test_search_inner import brute_force, solver_front

from codesign.search import search_settings_from_dict
from codesign.search.hardware_space import HardwareRanges, HardwareSpace
from cost_models import GraphBuilder, get_cost_model
from cost_models.analytical.stream import sized_fifo_depth
from cost_models.ir import LayerPrecision
from hw_templates.config import FifoDepths, HardwareConfig, IoType
from hw_templates.errors import SpecError
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType
from hw_templates.templates import get_template


def stream_cnn():
    """Two convolutions on 16x16 images: FIFOs of 256 and 64 pixels, where depth matters."""
    b = GraphBuilder("cnn16", (16, 16, 1), FixedType(8, 3))
    p = LayerPrecision(result=FixedType(16, 6), weight=FixedType(4, 1), bias=FixedType(8, 3))
    b.add("conv2d", filters=4, kernel=(3, 3), padding="same", precision=p)
    b.add("activation", function="relu")
    b.add("maxpool2d", pool=(2, 2))
    b.add("conv2d", filters=4, kernel=(3, 3), precision=p)
    b.add("activation", function="relu")
    b.add("flatten")
    b.add("dense", units=10, precision=p)
    return b.build()


def stream_space(modes, rf_max=4):
    ranges = HardwareRanges(
        io_types=(IoType.STREAM,), reuse_factor_max=rf_max, parallelization_max=2, fifo_depths=modes
    )
    return HardwareSpace.build([resolve_part("xc7z020")], ranges=ranges)


@pytest.fixture(scope="module")
def model():
    return get_cost_model("analytical")


def test_sized_front_equals_brute_force(model) -> None:
    graph, space = stream_cnn(), stream_space((FifoDepths.FULL, FifoDepths.SIZED))
    found, front = solver_front(graph, space, model)
    assert found == brute_force(graph, space, model)
    assert front.exact
    assert any("sized_fifos" in p.family for p in front.points["xc7z020"]), "sized FIFOs should reach the front"


def test_sized_fifos_cost_less_and_keep_the_timing(model) -> None:
    graph = stream_cnn()
    full = HardwareConfig(resolve_part("xc7z020"), io_type=IoType.STREAM)
    sized = HardwareConfig(resolve_part("xc7z020"), io_type=IoType.STREAM, fifo_depths=FifoDepths.SIZED)
    a, b = model.estimate(graph, full), model.estimate(graph, sized)
    assert (b.latency_cycles, b.ii_cycles) == (a.latency_cycles, a.ii_cycles)
    assert b.bram18 + b.lut / 1000 < a.bram18 + a.lut / 1000
    depths_full, depths_sized = model.fifo_depths(graph, full), model.fifo_depths(graph, sized)
    assert depths_full == {"conv2d1": 256, "activation1": 256, "maxpool2d1": 64, "conv2d2": 36, "activation2": 36}
    assert all(depths_sized[k] <= depths_full[k] for k in depths_full)
    assert depths_sized["conv2d1"] == 2  # the relu takes one pixel per cycle: the FIFO never fills


def test_forks_and_joins_keep_one_tensor(model) -> None:
    graph = branched_graph()
    hw = HardwareConfig(resolve_part("xc7z020"), io_type=IoType.STREAM, fifo_depths=FifoDepths.SIZED)
    depths = model.fifo_depths(graph, hw)
    full = model.fifo_depths(graph, HardwareConfig(resolve_part("xc7z020"), io_type=IoType.STREAM))
    fork = graph.layers[1].name  # the first dense feeds both the relu and the add
    join_inputs = next(x for x in graph.layers if x.kind.value == "add").inputs
    assert depths[fork] == full[fork]
    assert all(depths[name] == full[name] for name in join_inputs)


def test_an_explicit_layer_depth_wins(model) -> None:
    graph = stream_cnn()
    hw = HardwareConfig(resolve_part("xc7z020"), io_type=IoType.STREAM, fifo_depths=FifoDepths.SIZED)
    assert model.fifo_depths(graph, hw.with_layer("conv2d1", fifo_depth=100))["conv2d1"] == 100


@given(tokens=st.integers(1, 5000), ii=st.floats(1, 1e7), more=st.floats(1, 100))
def test_depth_bound_is_monotone_and_capped(tokens, ii, more) -> None:
    depth = sized_fifo_depth(tokens, ii)
    assert min(2, tokens) <= depth <= tokens
    assert sized_fifo_depth(tokens, ii * more) >= depth
    grid = sized_fifo_depth(tokens, np.array([ii, ii * more]))
    assert list(grid) == [depth, sized_fifo_depth(tokens, ii * more)]


def test_config_and_templates_open_the_knob() -> None:
    settings = search_settings_from_dict(
        {"parts": ["xc7z020"], "hardware": {"io_types": ["io_stream"], "fifo_depths": ["full", "sized"]}}
    )
    assert [f.label for f in settings.hardware.families] == ["custom/io_stream", "custom/io_stream/sized_fifos"]
    with pytest.raises(SpecError, match=r"hardware\.fifo_depths"):
        search_settings_from_dict({"hardware": {"io_types": ["io_stream"], "fifo_depths": ["tiny"]}})
    assert get_template("streaming_cnn_small_fifos").fixes()["fifo_depths"] == "sized"
    assert "fifo_depths" in get_template("streaming_cnn").opens()
