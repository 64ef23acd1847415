"""Mechanisms of the analytical model found on designs from sources nobody calibrated on (issue 11):
each test is a property or a hand-checked case against the hls4ml template it cites."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cost_models.analytical import AnalyticalModel
from cost_models.analytical.constants import DEFAULT_CONSTANTS
from cost_models.analytical.matvec import UnitSpec, constant_adders, constant_widths, csd_digits, matvec_terms
from cost_models.analytical.timing import tree_registers
from cost_models.ir import GraphBuilder, LayerPrecision
from hw_templates import resolve_part
from hw_templates.config import HardwareConfig, IoType, Strategy
from hw_templates.precision import FixedType

Q16 = FixedType(16, 6)


def _hw(**kw) -> HardwareConfig:
    return HardwareConfig(resolve_part(kw.pop("part", "xcu250")), **kw)


def _stream_batchnorm(shape: tuple[int, ...]):
    b = GraphBuilder("bn", shape, Q16)
    b.add("batchnorm", name="bn")
    return b.build()


def _batchnorm_cost(shape: tuple[int, ...], rf: int, io_type: IoType):
    hw = _hw(io_type=io_type, reuse_factor=rf, strategy=Strategy.LATENCY)
    graph = _stream_batchnorm(shape)
    return next(c for c in AnalyticalModel().estimate(graph, hw).layers if c.name == "bn")


def test_streamed_batchnorm_interval_follows_hls4ml_multiplier_limit():
    # nnet_batchnorm_stream.h: II = n_in / DIV_ROUNDUP(n_in, rf) per pixel, n_in / size pixels.
    # 8x8x4 = 256 values, 64 pixels of 4: rf 4 -> limit 64, II 4 -> 256 cycles; rf >= 256 -> II 256.
    assert _batchnorm_cost((8, 8, 4), 4, IoType.STREAM).ii_cycles == 64 * 4
    assert _batchnorm_cost((8, 8, 4), 100_000, IoType.STREAM).ii_cycles == 64 * 256
    # a flat 32-value stream (one transfer of 32) at rf 10,000: one multiplier, 32 cycles, not 10,000
    assert _batchnorm_cost((32,), 10_000, IoType.STREAM).ii_cycles == 32


@pytest.mark.parametrize("io_type", [IoType.STREAM, IoType.PARALLEL])
def test_batchnorm_latency_stops_growing_once_rf_exceeds_its_size(io_type):
    at_size = _batchnorm_cost((16, 8), 128, io_type)
    for rf in (129, 1000, 100_000):
        beyond = _batchnorm_cost((16, 8), rf, io_type)
        assert beyond.latency_cycles == at_size.latency_cycles
        assert beyond.dsp == at_size.dsp and beyond.lut == at_size.lut


@pytest.mark.parametrize("rf", [1, 7, 100_000])
def test_batchnorm_bops_count_its_multiplies_at_any_reuse_factor(rf):
    # 128 values x (16 x 16 + 16 + 16) bit operations: scale multiply and bias add per value
    assert _batchnorm_cost((16, 8), rf, IoType.STREAM).bops == 128 * (16 * 16 + 32)


def test_batchnorm_layer_grid_matches_estimate_beyond_its_size():
    model, hw = AnalyticalModel(), _hw(io_type=IoType.STREAM)
    graph = _stream_batchnorm((16, 8))
    rfs = np.array([1, 4, 128, 5000])
    grid = model.layer_grid(graph.layers[-1], hw, rfs, Strategy.LATENCY, graph=graph)
    for i, rf in enumerate(rfs):
        one = _batchnorm_cost((16, 8), int(rf), IoType.STREAM)
        assert grid["ii_cycles"][i] == one.ii_cycles and grid["latency_cycles"][i] == one.latency_cycles


# --- clock- and family-aware pipelining (timing.py) -------------------------------------------------


def _mlp():
    b = GraphBuilder("mlp", (16,), Q16)
    for units in (32, 16):
        b.add("dense", units=units)
        b.add("activation", function="relu")
    b.add("dense", units=5)
    return b.build()


def test_tree_registers_hand_checked():
    # product 1 ns, adders 1 ns, 4 levels: a 1.5 ns budget cuts after the product and every level
    assert tree_registers(1.0, 1.0, 4, 1.5) == pytest.approx(1 + 1 / 2 + 1 / 4 + 1 / 8)
    # a 3.5 ns budget holds the product and 2 levels, then 3 levels per cycle: one cut at level 2
    assert tree_registers(1.0, 1.0, 4, 3.5) == pytest.approx(1 / 4)
    assert tree_registers(1.0, 1.0, 4, 5.0) == 0.0  # the whole chain fits
    # a product longer than the budget is registered inside it once per extra cycle
    assert tree_registers(3.0, 1.0, 0, 1.0) == pytest.approx(2.0)


@pytest.mark.parametrize("part", ["xc7z020clg400-1", "xcu250-figd2104-2L-e"])
def test_ff_and_latency_never_grow_as_the_clock_relaxes(part):
    model, graph = AnalyticalModel(), _mlp()
    costs = [model.estimate(graph, _hw(part=part, clock_ns=ns)) for ns in (2.5, 3.33, 5.0, 10.0, 25.0)]
    for faster, slower in itertools.pairwise(costs):
        assert slower.ff <= faster.ff and slower.latency_cycles <= faster.latency_cycles


def test_faster_family_and_speed_grade_need_fewer_registers_at_the_same_clock():
    model, graph = AnalyticalModel(), _mlp()
    slow = model.estimate(graph, _hw(part="xc7z020clg400-1", clock_ns=4.0))
    fast = model.estimate(graph, _hw(part="xczu7ev-ffvc1156-2-e", clock_ns=4.0))
    assert fast.ff < slow.ff and fast.latency_cycles <= slow.latency_cycles


def test_relaxed_clock_on_ultrascale_plus_is_one_combinational_cycle():
    # at 25 ns the budget (25 - 12.5 % uncertainty) x 775/550 holds every product and adder tree of
    # the MLP: HLS schedules it in about one cycle, and its dense layers get no pipeline registers
    model, graph = AnalyticalModel(), _mlp()
    cost = model.estimate(graph, _hw(part="xcu250", clock_ns=25.0))
    assert cost.latency_cycles <= 2
    hw = _hw(part="xcu250", clock_ns=25.0)
    assert model.design_terms(graph, hw)["pipe"] <= model.design_terms(graph, _hw(part="xcu250"))["pipe"] / 10


# --- Latency strategy at reuse factor > 1 (matvec.py) -----------------------------------------------


def _dense_graph(n_in: int, n_out: int):
    b = GraphBuilder("d", (n_in,), Q16)
    b.add("dense", units=n_out, name="fc")
    return b.build()


def test_latency_rf_caps_only_the_dsp_multiplications_hand_checked():
    # 16 x 64 = 1024 constant products; HLS keeps the ceil(f * 1024) wide ones as mul operations (DSPs),
    # the rest are shift-add logic (f for hls4ml's default ap_fixed<16,6> weights, matvec.constant_widths).
    # RF 8: multiplier_limit 128 DSPs, the mul operations take ceil(mul_ops / 128) turns.
    model, graph = AnalyticalModel(), _dense_graph(16, 64)
    c = DEFAULT_CONSTANTS
    mul_ops = math.ceil(constant_widths(10, 16, c.lut_mult_max_bits, c.weight_scale)[0] * 1024)
    one = model.estimate(graph, _hw(reuse_factor=1)).layers[-1]
    eight = model.estimate(graph, _hw(reuse_factor=8)).layers[-1]
    assert one.dsp == mul_ops and eight.dsp == 128
    assert eight.latency_cycles - one.latency_cycles == pytest.approx(math.ceil(mul_ops / 128) - 1)
    # II = 8 asked, but a pipeline shorter than its interval restarts one cycle after it ends (modules.py)
    assert eight.ii_cycles == min(8, math.ceil(eight.latency_cycles) + 1)


@pytest.mark.parametrize("rf", [2, 8, 100, 1024])
def test_latency_rf_keeps_the_shift_add_logic_and_adders_unrolled(rf):
    model, graph = AnalyticalModel(), _dense_graph(16, 64)
    one = model.design_terms(graph, _hw(reuse_factor=1))
    shared = model.design_terms(graph, _hw(reuse_factor=rf))
    for key in ("const_mult", "adder"):
        assert shared[key] == one[key]
    assert shared["dsp"] <= one["dsp"] and shared["mux"] >= one["mux"]
    # the products taking turns are each held in a register (matvec.py): never fewer than at rf 1
    assert shared["pipe"] >= max(one["pipe"], 16 * 64 * 16)


# --- rounding / saturation logic only where a cast builds it (quant.py) --------------------------------

RND_SAT = FixedType(16, 6, rounding="RND", saturation="SAT")


def _quant_terms(result: FixedType, accum: FixedType | None = None, act: FixedType | None = None):
    b = GraphBuilder("q", (16,), Q16)
    b.add("dense", units=8, precision=LayerPrecision(result=result, weight=FixedType(8, 1), accum=accum))
    b.add("activation", function="relu", precision=LayerPrecision(result=act or result))
    graph = b.build()
    hw = _hw(strategy=Strategy.RESOURCE, reuse_factor=4)
    return AnalyticalModel().design_terms(graph, hw)


def test_result_modes_after_a_plain_accumulator_cost_one_cast_per_output_not_per_product():
    # dense result ap_fixed<16,6,RND,SAT> after hls4ml's default accumulator ap_fixed<16,6> (input type
    # differs: per-layer types): the 16 x 8 products pay nothing, the 8 output casts drop no bits of
    # ap_fixed<16,6> either (same format): no logic. QKeras-style activation ap_ufixed<8,0,RND_CONV,SAT>
    # after a 16,6 input: rounding and saturation on its 8 outputs, 8 x 8 x 2 bits.
    act = FixedType(8, 0, signed=False, rounding="RND_CONV", saturation="SAT")
    plain = _quant_terms(FixedType(16, 6), act=act)
    assert plain["quant"] == 8 * 8 * 2


def test_a_single_default_precision_with_modes_charges_every_product_and_accumulation():
    # every type ap_fixed<16,6,RND,SAT> (granularity 'model', as N-TORC): the accumulator carries the modes
    uniform_in = GraphBuilder("u", (16,), RND_SAT)
    uniform_in.add("dense", units=8, precision=LayerPrecision(result=RND_SAT, weight=FixedType(8, 1)))
    graph = uniform_in.build()
    terms = AnalyticalModel().design_terms(graph, _hw(strategy=Strategy.RESOURCE, reuse_factor=4))
    block = 16 * 8 // 4
    assert terms["quant"] == block * (16 + 8 + 16) * 2  # products + accumulations, 2 modes, no output cast


def test_an_explicit_accumulator_with_modes_is_priced_and_one_without_is_not():
    acc_rnd = FixedType(24, 10, rounding="RND", saturation="SAT")
    with_modes = _quant_terms(RND_SAT, accum=acc_rnd)
    without = _quant_terms(RND_SAT, accum=FixedType(24, 10))
    assert with_modes["quant"] > without["quant"] > 0  # the output cast 24,10 -> 16,6 rounds and saturates


# --- layers the tool does not build as priced (limits.py) and the tool-version table ----------------


@pytest.mark.parametrize(
    ("tool_version", "phrase"),
    [("2019.2", "Vivado HLS 2019.2 refuses"), ("2023.2", "Vitis HLS builds it without a balanced adder tree"),
     (None, "Vitis HLS builds it without a balanced adder tree")],
)  # fmt: skip
def test_a_latency_layer_above_the_partition_limit_is_flagged_by_name(tool_version, phrase):
    graph = _dense_graph(128, 64)  # 8,192 products > 4,096
    cost = AnalyticalModel().estimate(graph, _hw(tool_version=tool_version))
    (warning,) = [n for n in cost.notes if n.startswith("warning:")]
    assert "'fc'" in warning and "4,096" in warning and "8,192" in warning and phrase in warning
    assert warning in cost.layers[-1].notes


def test_no_partition_warning_under_resource_or_below_the_limit():
    model = AnalyticalModel()
    big = model.estimate(_dense_graph(128, 64), _hw(strategy=Strategy.RESOURCE, reuse_factor=64))
    small = model.estimate(_dense_graph(64, 64), _hw(tool_version="2019.2"))  # exactly 4,096
    assert not [n for n in big.notes + small.notes if n.startswith("warning:")]


# --- shift-add constant products: d - 1 adders per constant (matvec.constant_adders) --------------------------


def test_csd_digits_hand_checked():
    # 3 = 4 - 1, 5 = 4 + 1, 7 = 8 - 1, 11 = 16 - 4 - 1, 23 = 32 - 8 - 1, 85 = 1010101b (no adjacent ones to merge)
    assert csd_digits(np.array([0, 1, 3, 5, 7, 11, 23, 85])).tolist() == [0, 1, 2, 2, 2, 3, 3, 4]


@given(st.integers(min_value=0, max_value=2**20))
def test_csd_never_has_more_digits_than_binary_nor_more_than_half_the_bits_plus_one(m):
    digits = int(csd_digits(np.array([m]))[0])
    assert digits <= bin(m).count("1")
    assert digits <= (m.bit_length() + 2) // 2  # non-adjacent: at most every other digit of n + 1


def test_a_power_of_two_constant_is_a_shift_without_adders():
    assert set(csd_digits(2 ** np.arange(40)).tolist()) == {1}


def test_constant_adders_of_uniform_magnitudes_hand_checked():
    # weight type unknown, 4-bit weights: magnitudes 0..7 equally likely, CSD digits 0 1 1 2 1 2 2 2,
    # adders (d - 1, none for 0) 0 0 0 1 0 1 1 1: half an adder per constant product
    assert constant_adders(-1, 4, 6, 0.25) == 0.5


def test_shift_add_feature_is_adder_bits_of_the_constants_csd_form():
    c = DEFAULT_CONSTANTS
    # ap_fixed<8,3> weights (5 fractional bits): every constant is at most 6 bits, so all 32 products are
    # shift-add logic; each costs (d - 1) adders of a + w bits
    unit = UnitSpec(8, 4, 8, 8, 16, 0.0, True, w_frac=5)
    terms = matvec_terms(unit, 1, 27, 18, 4.0, c)
    share, bits = constant_widths(5, 8, c.lut_mult_max_bits, c.weight_scale)
    assert share == 0.0 and terms["dsp"] == 0
    adders = constant_adders(5, 8, c.lut_mult_max_bits, c.weight_scale)
    assert 0 < adders < bits / 3  # fewer than the average CSD density alone counted (one per constant too many)
    assert terms["const_mult"] == pytest.approx(32 * (8 + bits) * adders)
