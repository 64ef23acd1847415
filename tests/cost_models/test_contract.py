"""Contract suite: every registered cost model goes through the same checks (generated from the registry)."""

from __future__ import annotations

import json
import math

import pytest

from cost_models import get_cost_model, list_cost_models
from cost_models.cost import RESOURCES, Target
from cost_models.ir import GraphBuilder, LayerGraph, LayerKind
from hw_templates import resolve_part
from hw_templates.config import HardwareConfig, IoType, Strategy
from hw_templates.errors import UnsupportedLayerError
from hw_templates.precision import FixedType


def _every_kind_graph() -> LayerGraph:
    """One graph holding every IR layer kind (activations: a comparator and two tables)."""
    b = GraphBuilder("all", (16, 16, 4), FixedType(16, 6))
    b.add("zeropadding2d", pad=[1])
    b.add("conv2d", filters=4, kernel=[3])
    b.add("batchnorm")
    skip = b.add("activation", function="relu").name
    b.add("depthwise_conv2d", kernel=[3], padding="same")
    b.add("add", inputs=[skip, b.last.name])
    b.add("separable_conv2d", filters=4, kernel=[3], padding="same")
    b.add("maxpool2d", pool=[2])
    b.add("upsampling2d", scale=[2])
    b.add("avgpool2d", pool=[2])
    pooled = b.last.name
    b.add("global_maxpool2d", inputs=[pooled])
    gmax = b.last.name
    b.add("global_avgpool2d", inputs=[pooled])
    b.add("concat", inputs=[gmax, b.last.name])
    b.add("reshape", target_shape=[8, 1])
    b.add("lstm", units=2, return_sequences=True)
    b.add("gru", units=1, return_sequences=True)
    b.add("conv1d", filters=2, kernel=[3], padding="same")
    b.add("depthwise_conv1d", kernel=[3], padding="same")
    b.add("separable_conv1d", filters=2, kernel=[3], padding="same")
    b.add("zeropadding1d", pad=[1])
    b.add("upsampling1d", scale=[2])
    b.add("maxpool1d", pool=[2])
    pooled1 = b.add("avgpool1d", pool=[2]).name
    b.add("global_maxpool1d", inputs=[pooled1])
    b.add("global_avgpool1d", inputs=[pooled1])
    b.add("flatten")
    b.add("dense", units=8)
    b.add("activation", function="sigmoid")
    b.add("activation", function="softmax")
    return b.build()


GRAPH = _every_kind_graph()
CONFIGS = {
    f"{io.value}-{s.value}": HardwareConfig(resolve_part("xcu250"), io_type=io, strategy=s, reuse_factor=1)
    for io in IoType
    for s in Strategy
}


def test_the_graph_covers_every_kind():
    assert {x.kind for x in GRAPH.layers} == set(LayerKind)


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("target", list(Target))
@pytest.mark.parametrize("name", list_cost_models())
def test_cost_model_contract(name, target, config):
    model = get_cost_model(name, target)
    hw = CONFIGS[config]
    estimated = []
    for layer in GRAPH.layers:
        try:
            cost = model.estimate_layer(layer, hw.resolve(layer.name), hw, GRAPH)
        except UnsupportedLayerError:
            continue
        estimated.append(cost)
        values = [cost.lut, cost.ff, cost.dsp, cost.bram18, cost.uram, cost.latency_cycles, cost.ii_cycles]
        assert all(math.isfinite(v) and v >= 0 for v in values), layer.name
        logic = cost.lut + cost.ff + cost.dsp + cost.bram18
        if logic == 0 and layer.kind is not LayerKind.INPUT:
            # zero is allowed only where the model says why (pure data movement)
            assert cost.notes or hw.io_type is IoType.STREAM, f"{layer.name}: 0 resources without a note"
        if layer.kind.has_weights:
            assert cost.dsp + cost.lut > 0, layer.name
    total = model.estimate(GRAPH, hw)
    for key in RESOURCES:
        assert getattr(total, key) == pytest.approx(sum(getattr(c, key) for c in total.layers))
    assert total.latency_cycles >= max(c.ii_cycles for c in total.layers) - 1e-9
    json.dumps(total.to_dict())
