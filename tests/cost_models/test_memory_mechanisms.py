"""Hand-checked cases of the memory and multiplier mechanisms: where memories go (block RAM, LUTs) in the estimate
and after synthesis, the accumulator read of the rf > n_in unit, and which constant products stay multiplications."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cost_models.analytical import AnalyticalModel
from cost_models.analytical.constants import DEFAULT_CONSTANTS as C
from cost_models.analytical.matvec import UnitSpec, constant_widths, matvec_terms
from cost_models.analytical.memory import narrow_table_bram18
from cost_models.cost import Target
from cost_models.ir import GraphBuilder, LayerPrecision
from hw_templates import resolve_part
from hw_templates.config import HardwareConfig, Strategy
from hw_templates.precision import FixedType


def test_outidx_table_takes_one_block_per_aspect_depth_hand_checked():
    """dense_resource_rf_gt_nin_rem0 keeps rf entries of 0..rf/n_in-1: rf 1,792 over 112 inputs is 16
    values (4 bits, 4K x 4: one block), rf 3,584 is 32 values (5 bits, 2K x 9: two blocks)."""
    unit = UnitSpec(112, 96, 16, 16, 32, 0.0, False)
    assert matvec_terms(unit, 1792, 27, 18, 5.0, C)["bram18_index"] == 1
    assert matvec_terms(unit, 3584, 27, 18, 5.0, C)["bram18_index"] == 2
    assert matvec_terms(unit, 112, 27, 18, 5.0, C)["bram18_index"] == 0  # rf <= n_in: no table
    assert matvec_terms(unit, 200, 27, 18, 5.0, C)["bram18_index"] == 0  # rf % n_in != 0: dense_resource_rf_gt_nin
    grid = matvec_terms(unit, np.array([112.0, 1792.0, 3584.0]), 27, 18, 5.0, C)
    assert list(grid["bram18_index"]) == [0, 1, 2]


@pytest.mark.parametrize("width", [1, 3, 4, 5, 9, 12, 18])
def test_narrow_table_blocks_never_decrease_with_depth(width):
    depths = np.arange(1, 20_000, 97, dtype=float)
    bram, _ = narrow_table_bram18(float(width), depths, C)
    assert np.all(np.diff(bram) >= 0)
    assert narrow_table_bram18(float(width), 64.0, C) == (0, width * 64 * C.lut_per_lutram_bit)  # LUTRAM


def _resource_dense() -> tuple:
    b = GraphBuilder("d", (64,), FixedType(16, 6))
    b.add("dense", units=32, precision=LayerPrecision(result=FixedType(16, 6), weight=FixedType(8, 1)))
    hw = HardwareConfig(resolve_part("xcu250"), strategy=Strategy.RESOURCE, reuse_factor=4)
    return b.build(), hw


def test_weight_rom_is_block_ram_in_the_estimate_and_distributed_rom_after_synthesis():
    """64 x 32 at rf 4: block factor 512, 8-bit weights, a 4,096-bit-wide, 4-deep ROM (114 BRAM18 of
    36-bit columns). The HLS estimate counts them; after synthesis (share 0, fitted on the
    post-synthesis rows) they are LUTs, 64 bits per LUT6."""
    graph, hw = _resource_dense()
    hls = AnalyticalModel(Target.HLS).estimate(graph, hw)
    synth = AnalyticalModel(Target.SYNTH).estimate(graph, hw)
    kept = AnalyticalModel(Target.SYNTH, C.with_values(synth_ratio={**C.synth_ratio, "bram18_rom": 1.0}))
    kept_cost = kept.estimate(graph, hw)
    assert hls.bram18 == 114 and C.synth_ratio["bram18_rom"] == 0.0
    assert synth.bram18 == 0 and kept_cost.bram18 == 114
    assert synth.lut - kept_cost.lut == pytest.approx(64 * 32 * 8 / 64)


def test_accumulator_read_over_every_output_is_priced_in_the_estimate_only():
    """rf 64 over 16 inputs, 32 outputs (rem0): 8 multipliers, each reaching rf / n_in = 4 accumulators. The csynth
    estimate prices each one's read of the partitioned acc as a 32:1 multiplexer, so 8 * 16 bits * (32 - 4)
    inputs beyond the reachable ones (``acc_mux``, priced like ``mux``); after synthesis they are gone."""
    unit = UnitSpec(16, 32, 16, 16, 16, 0.0, False)  # 16-bit accumulator: the result type, as in the graph below
    t = matvec_terms(unit, 64, 27, 18, 5.0, C)
    assert t["acc_mux"] == 8 * 16 * (32 - 4)
    assert t["mux"] == 16 * 15 + 8 * 16 * (4 - 1)  # the shared 16:1 data and the reachable 4:1 accumulator reads
    assert matvec_terms(unit, 16, 27, 18, 5.0, C)["acc_mux"] == 0  # rf <= n_in: fixed accumulators
    assert C.lut_coef["acc_mux"] == C.lut_coef["mux"] and C.synth_lut_coef["acc_mux"] == 0.0
    b = GraphBuilder("d", (16,), FixedType(16, 6))
    b.add("dense", units=32, precision=LayerPrecision(result=FixedType(16, 6), weight=FixedType(8, 1)))
    graph, hw = b.build(), HardwareConfig(resolve_part("xcu250"), strategy=Strategy.RESOURCE, reuse_factor=64)
    hls = AnalyticalModel(Target.HLS).estimate(graph, hw).lut
    without = AnalyticalModel(Target.HLS, C.with_values(lut_coef={**C.lut_coef, "acc_mux": 0.0})).estimate(graph, hw)
    assert hls - without.lut == pytest.approx(C.lut_coef["mux"] * t["acc_mux"])


def test_constants_narrow_enough_for_shift_add_logic_follow_the_weight_type():
    """matvec.constant_widths: a constant that needs more than lut_mult_max_bits bits stays a multiplication.
    ap_fixed<8,3> weights (5 fractional bits) never do at the fitted scale (karlis-susters, CestMerNeil LeNet: 0
    DSPs); the share grows with the fractional bits (N-TORC <16,8>: 0.43-0.62 measured, <16,6>: 0.78-0.89)."""
    scale, lut_max = C.weight_scale, C.lut_mult_max_bits
    assert constant_widths(5, 8, lut_max, scale)[0] == 0.0
    shares = [constant_widths(frac, 16, lut_max, scale)[0] for frac in range(0, 16)]
    assert all(b >= a for a, b in itertools.pairwise(shares))
    assert 0.35 <= constant_widths(8, 16, lut_max, scale)[0] <= 0.7 <= constant_widths(10, 16, lut_max, scale)[0]
    assert all(1 <= constant_widths(frac, 16, lut_max, scale)[1] <= lut_max for frac in range(0, 16))
