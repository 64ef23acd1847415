"""ArchSpec: pure data, strict validation, JSON round trip, graphs with the precisions hls4ml infers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codesign.models.arch import MAX_BITS, MIN_BITS, ArchLayer, ArchSpec
from codesign.models.precision_rules import accumulator_precision, add_precision, holds, quantizer_type
from hw_templates.errors import SpecError
from hw_templates.precision import FixedType

bits = st.integers(MIN_BITS, MAX_BITS)


@st.composite
def mlps(draw: st.DrawFn) -> ArchSpec:
    layers = []
    for i in range(draw(st.integers(0, 3))):
        layers.append(ArchLayer("dense", name=f"fc{i}", units=draw(st.integers(1, 64)), weight_bits=draw(bits)))
        layers.append(
            ArchLayer("activation", name=f"a{i}", act_bits=draw(bits), act_integer=draw(st.none() | st.integers(0, 4)))
        )
    layers.append(ArchLayer("dense", name="out", units=10, weight_bits=draw(bits), bias_bits=draw(bits)))
    return ArchSpec("mlp", tuple(layers), input_bits=draw(bits), input_integer=draw(st.integers(0, 4)))


@given(mlps())
def test_json_round_trip_is_lossless(spec: ArchSpec) -> None:
    assert ArchSpec.from_json(spec.to_json()) == spec
    assert spec.to_graph((64,)) == ArchSpec.from_json(spec.to_json()).to_graph((64,))


@given(mlps())
def test_every_weighted_result_holds_its_exact_accumulator(spec: ArchSpec) -> None:
    graph = spec.to_graph((64,))
    for layer in graph.weight_layers():
        source = graph.layer(layer.inputs[0]).precision.result
        product_frac = source.fractional + layer.precision.weight.fractional
        assert layer.precision.result.fractional >= product_frac  # no rounding inside the layer
        assert layer.precision.result == accumulator_precision(
            source, layer.precision.weight, layer.precision.bias, layer.n_inputs
        )


def test_reference_mlp_types_match_hls4ml_1_3() -> None:
    """Figures read from hls4ml 1.3.0's conversion of the exported model (Dense_MatMul_0/1)."""
    spec = ArchSpec(
        "mlp",
        (
            ArchLayer("dense", units=32, weight_bits=4),
            ArchLayer("activation", act_bits=4),
            ArchLayer("dense", units=10, weight_bits=4),
        ),
    )
    results = [x.precision.result.to_hls() for x in spec.to_graph((64,)).layers]
    assert results == [
        "ap_fixed<8,3,AP_RND_CONV,AP_SAT>",
        "ap_fixed<19,11>",
        "ap_ufixed<4,2,AP_RND_CONV,AP_SAT>",
        "ap_fixed<14,9>",
    ]


@given(bits, st.integers(-4, 8), bits, st.integers(-4, 8), st.booleans(), st.booleans())
def test_an_add_holds_both_inputs(w1: int, i1: int, w2: int, i2: int, s1: bool, s2: bool) -> None:
    a, b = FixedType(w1, i1, s1), FixedType(w2, i2, s2)
    total = add_precision(a, b)
    assert holds(total, a) and holds(total, b)
    assert total.integer > max(a.integer, b.integer) - 1  # room for the carry


def test_a_one_wide_kernel_is_valid_padding() -> None:
    spec = ArchSpec("c", (ArchLayer("conv1d", filters=2, kernel=(1,), padding="same"),))
    assert spec.to_graph((8, 3)).layers[1].padding == "valid"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ArchLayer("dense", units=4, weight_bits=1), "weight_bits: expected an integer 2..16, got 1"),
        (lambda: ArchLayer("dense", units=4, act_bits=17), "act_bits"),
        (lambda: ArchLayer("dens"), "did you mean 'dense'"),
        (lambda: ArchLayer("activation", function="elu"), "one of relu, linear, sigmoid, tanh, hard_tanh, hard_sig"),
        (lambda: ArchLayer.from_dict({"kind": "dense", "unit": 3}), "did you mean 'units'"),
        (lambda: ArchSpec.from_dict({"name": "x", "layer": []}), "did you mean 'layers'"),
        (lambda: ArchSpec("x", ()), "at least one layer"),
    ],
)
def test_bad_specs_are_one_line_errors(make, message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        make()
    assert "\n" not in str(info.value)


def test_sizes_that_do_not_fit_name_the_layer() -> None:
    spec = ArchSpec("x", (ArchLayer("conv2d", name="c", filters=2, kernel=(9,)),))
    with pytest.raises(SpecError, match=r"layers\[0\].*'c'"):
        spec.to_graph((8, 8, 1))


def test_quantizer_types_saturate_and_round_to_even() -> None:
    assert quantizer_type(4, 2, signed=False).to_hls() == "ap_ufixed<4,2,AP_RND_CONV,AP_SAT>"
    assert quantizer_type(4, 1, narrow=True).saturation == "SAT_SYM"
