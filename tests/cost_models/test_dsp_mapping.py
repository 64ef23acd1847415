"""Where HLS builds a product: the two-narrow-operand LUT rule (multipliers.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cost_models.analytical import AnalyticalModel
from cost_models.analytical.constants import DEFAULT_CONSTANTS
from cost_models.analytical.multipliers import dsp_per_product, is_lut_product
from cost_models.ir import GraphBuilder, LayerPrecision
from hw_templates import resolve_part
from hw_templates.config import HardwareConfig, Strategy
from hw_templates.precision import FixedType

C = DEFAULT_CONSTANTS
bits = st.integers(1, 40)


def _mlp(data_bits: int, weight_bits: int, hidden_bits: int):
    """16 inputs of ``data_bits`` -> 64 -> ReLU of ``hidden_bits`` -> 32, weights of ``weight_bits``."""
    b = GraphBuilder("m", (16,), FixedType(data_bits, 6))
    wide = FixedType(16, 6)
    b.add("dense", units=64, precision=LayerPrecision(result=wide, weight=FixedType(weight_bits, 1)))
    b.add("activation", function="relu", precision=LayerPrecision(result=FixedType(hidden_bits, 1)))
    b.add("dense", units=32, precision=LayerPrecision(result=wide, weight=FixedType(weight_bits, 1)))
    return b.build()


def test_two_narrow_operands_take_no_dsp_hand_checked():
    # nicologhielmetti's jet tagger (Vivado HLS 2019.2, Resource): 16-bit inputs x 7-bit weights use DSPs,
    # 7-bit ReLU outputs x 7-bit weights do not
    hw = HardwareConfig(resolve_part("xc7z020"), clock_ns=5.0, strategy=Strategy.RESOURCE, reuse_factor=64)
    cost = AnalyticalModel().estimate(_mlp(16, 7, 7), hw)
    first, second = (c for c in cost.layers if c.kind == "dense")
    assert first.dsp == 16 * 64 / 64  # block factor 16, one DSP per multiplier
    assert second.dsp == 0  # 7 x 7 bits: a LUT multiplier
    wider = AnalyticalModel().estimate(_mlp(16, 7, 12), hw)
    assert [c.dsp for c in wider.layers if c.kind == "dense"] == [16, 32]  # 12 x 7 bits: DSPs again


def test_pair_threshold_brackets_the_calibration_data():
    assert is_lut_product(7, 7, C) and is_lut_product(8, 8, C)  # nicologhielmetti, karlis-susters: 0 DSPs
    assert not is_lut_product(16, 7, C) and not is_lut_product(16, 8, C)  # nicologhielmetti fc1, ArgyKokk
    assert not is_lut_product(12, 12, C)  # ftsipis' QKeras 12-bit designs use DSPs


@given(bits, bits, bits, bits)
def test_dsp_per_product_never_grows_when_an_operand_narrows(a, b, a2, b2):
    lo_a, lo_b = min(a, a2), min(b, b2)
    assert dsp_per_product(lo_a, lo_b, 27, 18, C) <= dsp_per_product(max(a, a2), max(b, b2), 27, 18, C)


@given(bits, bits)
def test_lut_product_rule_is_symmetric(a, b):
    assert bool(is_lut_product(a, b, C)) == bool(is_lut_product(b, a, C))


def test_fabric_mapping_takes_the_softmax_products_too():
    # config_op mul -impl fabric binds every mul of the design (ArgyKokk's fabric rows: 0 DSPs)
    b = GraphBuilder("s", (16,), FixedType(16, 6))
    b.add("dense", units=10)
    b.add("activation", function="softmax")
    graph = b.build()
    auto = AnalyticalModel().estimate(graph, HardwareConfig(resolve_part("xc7z020")))
    fabric = AnalyticalModel().estimate(graph, HardwareConfig(resolve_part("xc7z020"), multiplier_impl="fabric"))
    softmax_auto, softmax_fabric = auto.layers[-1], fabric.layers[-1]
    assert softmax_auto.dsp == 10  # one 18 x 18-bit product per value
    assert fabric.dsp == softmax_fabric.dsp == 0
    assert softmax_fabric.lut > softmax_auto.lut  # the products moved into LUTs
