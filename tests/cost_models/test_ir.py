"""The layer-graph IR: shape inference, structure checks, JSON round trip."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cost_models.ir import GraphBuilder, LayerGraph, LayerKind, LayerPrecision
from hw_templates.errors import ShapeError, SpecError
from hw_templates.precision import FixedType

P8 = FixedType(8, 1)


def _cnn() -> LayerGraph:
    b = GraphBuilder("cnn", (8, 8, 1), P8)
    b.add("conv2d", name="c1", filters=4, kernel=(3,), padding="same")
    b.add("batchnorm")
    b.add("activation", function="relu", name="r1")
    b.add("conv2d", name="c2", filters=4, kernel=(3,), padding="same")
    b.add("add", inputs=["r1", "c2"], name="skip")
    b.add("maxpool2d", pool=(2,))
    b.add("concat", inputs=["maxpool2d1", "maxpool2d1"], name="cat")
    b.add("separable_conv2d", filters=6, kernel=(3, 1))
    b.add("global_avgpool2d")
    b.add("dense", units=10, sparsity=0.25, precision=LayerPrecision(FixedType(16, 6), P8, P8))
    b.add("activation", function="softmax")
    return b.build()


def test_shapes_are_inferred_channels_last() -> None:
    g = _cnn()
    shapes = {x.name: x.output_shape for x in g}
    assert shapes["c1"] == (8, 8, 4)
    assert shapes["skip"] == (8, 8, 4)
    assert shapes["maxpool2d1"] == (4, 4, 4)
    assert shapes["cat"] == (4, 4, 8)
    assert shapes["separable_conv2d1"] == (2, 4, 6)
    assert g.output.output_shape == (10,)


def test_consumers_are_the_layers_reading_a_layer_in_graph_order() -> None:
    g = _cnn()
    assert [x.name for x in g.consumers("r1")] == ["c2", "skip"]  # a fork: the skip and the next conv
    assert [x.name for x in g.consumers("maxpool2d1")] == ["cat"]  # one layer reading it twice
    assert g.consumers(g.output.name) == ()


def test_mult_units_match_hls4ml_sizes() -> None:
    g = _cnn()
    assert g.layer("c1").mult_units() == ((9, 4),)
    assert g.layer("separable_conv2d1").mult_units() == ((3, 8), (8, 6))
    assert g.layer("dense1").mult_units() == ((6, 10),)
    assert g.layer("dense1").weight_count == 60
    assert g.layer("c1").output_positions == 64


def test_json_round_trip_is_lossless() -> None:
    g = _cnn()
    again = LayerGraph.from_json(g.to_json(indent=2))
    assert again == g
    assert again.layer("dense1").precision.weight == P8


@given(widths=st.lists(st.integers(1, 128), min_size=1, max_size=6), bits=st.integers(2, 16))
@settings(max_examples=50, deadline=None)
def test_mlp_round_trip_property(widths: list[int], bits: int) -> None:
    b = GraphBuilder("mlp", (widths[0],), FixedType(bits, 1))
    for w in widths:
        b.add("dense", units=w, precision=LayerPrecision(FixedType(bits + 8, 6), FixedType(bits, 1)))
        b.add("activation", function="relu")
    g = b.build()
    assert LayerGraph.from_dict(g.to_dict()) == g
    assert [x.kind for x in g.weight_layers()] == [LayerKind.DENSE] * len(widths)


@pytest.mark.parametrize(
    ("build", "error", "text"),
    [
        (lambda b: b.add("dense", units=4, inputs=["nope"]), ShapeError, "nope"),
        (lambda b: b.add("conv2d", filters=2, kernel=(3,)), ShapeError, "height, width, channels"),
        (lambda b: b.add("dense", units=0), SpecError, "units"),
        (lambda b: b.add("transformer", units=4), SpecError, "layer type"),
        (lambda b: b.add("lstm", units=4), ShapeError, "steps, features"),
        (lambda b: b.add("add", inputs=["input"]), ShapeError, "at least 2 inputs"),
        (lambda b: b.add("reshape", target_shape=(5, 5)), ShapeError, "16 values"),
    ],
)
def test_bad_layers_raise_one_line_errors(build, error: type[Exception], text: str) -> None:
    b = GraphBuilder("bad", (16,), P8)
    with pytest.raises(error, match=text) as err:
        build(b)
    assert "\n" not in str(err.value)


def test_window_larger_than_input_is_refused() -> None:
    b = GraphBuilder("bad", (4, 4, 1), P8)
    with pytest.raises(ShapeError, match="larger than the input"):
        b.add("conv2d", filters=2, kernel=(5,))


def test_graph_rejects_duplicate_names_and_forward_references() -> None:
    g = _cnn()
    with pytest.raises(SpecError, match="used twice"):
        LayerGraph("dup", (*g.layers, g.layers[1]))
    with pytest.raises(ShapeError, match="not an earlier layer"):
        LayerGraph("fwd", (g.layers[0], g.layers[2]))


def test_layer_cost_fast_builds_the_same_record_and_checks_fields() -> None:
    from cost_models.cost import LayerCost

    values = dict(
        name="fc1", kind="dense", lut=10.0, ff=20.0, dsp=1.0, bram18=0.0, latency_cycles=3.0, ii_cycles=1.0,
        uram=0.0, reuse_factor=2, strategy="latency", flops=4, params=5, bops=6, notes=("n",),
    )  # fmt: skip
    fast = LayerCost.fast(**values)
    assert fast == LayerCost(**values) and hash(fast) == hash(LayerCost(**values))
    with pytest.raises(TypeError, match="expected the fields"):
        LayerCost.fast(**{k: v for k, v in values.items() if k != "uram"})
    with pytest.raises(AttributeError):
        fast.lut = 1.0  # still frozen
