"""Hand-checkable values, error paths and golden checks of the analytical cost model."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from cost_models import get_cost_model
from cost_models.analytical import GRID_KEYS, AnalyticalModel
from cost_models.analytical.constants import COEF_BOUNDS, DEFAULT_CONSTANTS
from cost_models.analytical.matvec import constant_widths
from cost_models.analytical.memory import memory_bram18
from cost_models.analytical.multipliers import dsp_per_product
from cost_models.analytical.stream import dataflow_latency
from cost_models.cost import Target
from cost_models.ir import GraphBuilder, LayerPrecision
from hw_templates import resolve_part
from hw_templates.config import HardwareConfig, IoType, MultiplierImpl, Strategy
from hw_templates.errors import ReuseFactorError, UnsupportedLayerError
from hw_templates.precision import FixedType

C = DEFAULT_CONSTANTS


def _dense(n_in: int, n_out: int, bits: int = 16, weight_bits: int = 16, sparsity: float = 0.0):
    b = GraphBuilder("d", (n_in,), FixedType(bits, bits // 2))
    precision = LayerPrecision(result=FixedType(bits, bits // 2), weight=FixedType(weight_bits, 1))
    b.add("dense", units=n_out, precision=precision, sparsity=sparsity)
    return b.build()


def _jet():
    b = GraphBuilder("jet", (16,), FixedType(16, 6))
    for units in (64, 32, 32):
        b.add("dense", units=units)
        b.add("activation", function="relu")
    b.add("dense", units=5)
    b.add("activation", function="softmax")
    return b.build()


def _hw(**kw) -> HardwareConfig:
    return HardwareConfig(resolve_part(kw.pop("part", "xcu250")), **kw)


def test_dsp_slices_follow_port_widths():
    assert dsp_per_product(16, 16, 27, 18, C) == 1
    assert dsp_per_product(18, 27, 27, 18, C) == 1
    assert dsp_per_product(24, 24, 27, 18, C) == 2  # narrow side 24 > 18 bits: split
    assert dsp_per_product(26, 18, 25, 18, C) == 2  # DSP48E1: 26 > 25
    assert dsp_per_product(4, 16, 27, 18, C) == 0  # narrow product in LUTs


def test_resource_dense_uses_one_dsp_per_block_factor_product():
    model = AnalyticalModel()
    graph = _dense(16, 64)
    for rf in (1, 2, 4, 8, 16, 64, 1024):
        cost = model.estimate(graph, _hw(strategy=Strategy.RESOURCE, reuse_factor=rf))
        assert cost.dsp == math.ceil(16 * 64 / rf)
        assert cost.ii_cycles == rf


def test_latency_dense_dsp_is_capped_by_multiplier_limit_and_drops_zero_weights():
    model = AnalyticalModel()
    graph = _dense(16, 64, sparsity=0.5)
    nnz = 512
    rf1 = model.estimate(graph, _hw(reuse_factor=1)).dsp
    share, _ = constant_widths(15, 16, C.lut_mult_max_bits, C.weight_scale)  # ap_fixed<16,1> weights
    assert rf1 == math.ceil(share * nnz)  # constant products: the wide ones land in DSPs
    for rf in (32, 64, 100):
        limit = math.ceil(1024 / rf) - math.floor(512 / rf)  # hls4ml multiplier_limit
        assert model.estimate(graph, _hw(reuse_factor=rf)).dsp == min(limit, rf1)


def test_four_bit_products_use_no_dsp():
    model = AnalyticalModel()
    for strategy in Strategy:
        cost = model.estimate(_dense(16, 64, bits=16, weight_bits=4), _hw(strategy=strategy, reuse_factor=4))
        assert cost.dsp == 0
        assert cost.lut > 0


def test_bram18_of_wide_rom_uses_36_bit_columns():
    assert memory_bram18(1024, 16, C)[0] == 29  # N-TORC dense 64x16 RF16: 29 BRAM18
    assert memory_bram18(8192, 2, C)[0] == 228  # N-TORC dense 32x32 RF2: 228
    assert memory_bram18(256, 16, C)[0] == 7  # 4-bit leftover column goes to LUTRAM
    assert memory_bram18(16, 8, C)[0] == 0  # 128 bits: LUTRAM
    assert memory_bram18(18, 1024, C)[0] == 1  # a default activation table


def test_resource_weights_take_bram_only_when_stored():
    model = AnalyticalModel()
    graph = _dense(32, 32)
    assert model.estimate(graph, _hw(strategy=Strategy.RESOURCE, reuse_factor=1)).bram18 == 0
    assert model.estimate(graph, _hw(strategy=Strategy.RESOURCE, reuse_factor=2)).bram18 == 228


def test_softmax_tables_take_one_bram_per_value():
    cost = AnalyticalModel().estimate(_jet(), _hw())
    softmax = cost.layers[-1]
    assert softmax.bram18 == 5
    assert softmax.dsp == 5


def test_illegal_resource_reuse_factor_is_refused_not_snapped():
    model = AnalyticalModel()
    with pytest.raises(ReuseFactorError, match=r"reuse_factor 7 is not legal for a 16x64 layer.*would silently use 8"):
        model.estimate(_dense(16, 64), _hw(strategy=Strategy.RESOURCE, reuse_factor=7))


def test_latency_strategy_takes_any_reuse_factor_like_hls4ml():
    # no snapping: RF 7 is priced as asked; the interval is 7, or latency + 1 where the layer's
    # pipeline is shorter than that (modules.module_interval)
    cost = AnalyticalModel().estimate(_dense(16, 64), _hw(reuse_factor=7))
    assert cost.ii_cycles == min(7, cost.layers[-1].latency_cycles + 1)
    assert cost.layers[-1].reuse_factor == 7


def test_unknown_activation_function_raises():
    b = GraphBuilder("g", (8,), FixedType(16, 6))
    b.add("activation", function="selu")
    graph = b.build()
    layer = graph.layers[1]
    object.__setattr__(layer, "function", None)  # a malformed layer the IR would normally reject
    with pytest.raises(UnsupportedLayerError, match="activation"):
        AnalyticalModel().estimate(graph, _hw())


def test_layer_grid_matches_estimate_layer():
    model = AnalyticalModel()
    graph = _dense(16, 64)
    hw = _hw(strategy=Strategy.RESOURCE)
    rfs = np.array([1, 2, 4, 8, 16, 32, 64, 128])
    grid = model.layer_grid(graph.layers[1], hw, rfs, Strategy.RESOURCE, graph=graph)
    assert set(grid) == set(GRID_KEYS)
    for i, rf in enumerate(rfs):
        hw_rf = _hw(strategy=Strategy.RESOURCE, reuse_factor=int(rf))
        one = model.estimate_layer(graph.layers[1], hw_rf.resolve("dense1"), hw_rf, graph)
        for key in ("lut", "ff", "dsp", "bram18", "latency_cycles", "ii_cycles"):
            assert grid[key][i] == pytest.approx(getattr(one, key))


def test_synth_target_predicts_fewer_luts_than_hls_for_a_latency_mlp():
    """Post-synthesis LUTs of constant-multiplier logic are about half the HLS estimate (paired medians)."""
    graph, hw = _jet(), _hw(reuse_factor=2)
    hls = AnalyticalModel(Target.HLS).estimate(graph, hw)
    synth = AnalyticalModel(Target.SYNTH).estimate(graph, hw)
    assert 0.2 * hls.lut < synth.lut < 0.9 * hls.lut
    assert synth.dsp == hls.dsp
    assert synth.latency_cycles == hls.latency_cycles


def test_fitted_coefficients_stay_inside_their_physical_bounds():
    for coef, prefix in ((C.lut_coef, ""), (C.ff_coef, "ff_"), (C.synth_lut_coef, ""), (C.synth_ff_coef, "ff_")):
        for key, value in coef.items():
            low, high = COEF_BOUNDS.get(prefix + key, COEF_BOUNDS[key])
            if coef in (C.synth_lut_coef, C.synth_ff_coef):
                low *= 0.2  # post-synthesis: HLS value x paired ratio (>= 0.25 at the 10th percentile)
            assert low <= value <= high, key


def test_fabric_multipliers_use_no_dsp_and_more_luts():
    graph = _dense(16, 64)
    for strategy in Strategy:
        auto = AnalyticalModel().estimate(graph, _hw(strategy=strategy, reuse_factor=4))
        fabric = AnalyticalModel().estimate(graph, _hw(strategy=strategy, reuse_factor=4, multiplier_impl="fabric"))
        assert auto.dsp > 0 and fabric.dsp == 0
        assert fabric.lut > auto.lut


def test_dsp_multipliers_put_narrow_products_in_dsps():
    graph = _dense(16, 64, weight_bits=4)
    hw = _hw(strategy=Strategy.RESOURCE, reuse_factor=4, multiplier_impl=MultiplierImpl.DSP)
    assert AnalyticalModel().estimate(graph, hw).dsp == 16 * 64 / 4


def test_rounding_saturating_accumulators_cost_luts():
    plain = _dense(16, 16)
    b = GraphBuilder("d", (16,), FixedType(16, 8))
    sat = FixedType(16, 8, rounding="RND", saturation="SAT")
    b.add("dense", units=16, precision=LayerPrecision(result=sat, weight=FixedType(16, 1)))
    model, hw = AnalyticalModel(), _hw(strategy=Strategy.RESOURCE, reuse_factor=4)
    assert model.estimate(b.build(), hw).lut > model.estimate(plain, hw).lut


def test_estimate_sums_layer_counters():
    cost = AnalyticalModel().estimate(_jet(), _hw())
    assert cost.params == sum(x.params for x in cost.layers) == 16 * 64 + 64 + 64 * 32 + 32 + 32 * 32 + 32 + 32 * 5 + 5


def test_stream_latency_overlaps_layers():
    b = GraphBuilder("cnn", (16, 16, 3), FixedType(16, 6))
    b.add("conv2d", filters=8, kernel=[3], padding="same")
    b.add("activation", function="relu")
    b.add("conv2d", filters=8, kernel=[3], padding="same")
    graph = b.build()
    cost = AnalyticalModel().estimate(graph, _hw(io_type=IoType.STREAM))
    assert cost.latency_cycles < sum(x.latency_cycles for x in cost.layers)
    assert cost.ii_cycles == max(x.ii_cycles for x in cost.layers)
    assert cost.layers[1].bram18 > 0  # the conv output FIFO: 256 pixels x 128 bits


def test_dataflow_latency_is_slowest_interval_plus_fills():
    assert dataflow_latency([[], [0], [1]], [0, 110, 60], [1, 100, 50]) == (120.0, 100.0)


def test_power_is_positive_and_labelled_rough():
    cost = get_cost_model("analytical").estimate(_jet(), _hw())
    assert cost.power_w > 0
    assert cost.energy_uj > 0
    assert any("rough" in n for n in cost.notes)
    json.dumps(cost.to_dict())


def test_import_cost_models_does_not_import_torch():
    code = (
        "import sys, cost_models, cost_models.analytical; "
        "bad = [m for m in ('torch', 'brevitas', 'hls4ml', 'qonnx', 'optuna') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- golden checks against real synthesis results (skipped without the calibration folder) ---

#: Tolerances the fitted model meets on the named rows (median over the rows).
GOLDEN = {
    # N-TORC per-layer Resource rows: DSP and BRAM18 follow the mechanism exactly.
    ("HeRCLab/N-TORC", "dsp"): 0.02,
    ("HeRCLab/N-TORC", "bram18"): 0.05,
    # wa-hls4ml: csynth latency of Resource MLPs = sum of reuse factors + pipeline depth.
    ("jdweitz/wa-hls4ml", "latency_cycles"): 0.02,
    ("jdweitz/wa-hls4ml", "dsp"): 0.05,
}


def test_golden_rows_within_tolerance(calibration_path):
    from cost_models.synth_data import load_synth_dir

    records, _ = load_synth_dir(calibration_path)
    for (source, metric), tolerance in GOLDEN.items():
        chosen = [r for r in records if r.source.startswith(source) and r.measured.get(metric, 0) > 0]
        errors = []
        for r in chosen[:200]:
            try:
                cost = AnalyticalModel(r.target).estimate(r.graph, r.hw)
            except ReuseFactorError:
                continue
            errors.append(abs(getattr(cost, metric) - r.measured[metric]) / r.measured[metric])
        assert errors, f"no representable {source} rows with {metric}"
        assert np.median(errors) <= tolerance, f"{source} {metric}: median error {np.median(errors):.3f}"


def test_resource_data_multiplexers_are_shared_when_the_reuse_factor_equals_n_in():
    """nnet_dense_resource.h: at rf == n_in every in_index past the first wraps to ir, so all multipliers
    read data[ir] through one n_in:1 multiplexer; below n_in each multiplier has its own rf:1 one."""
    from cost_models.analytical.matvec import UnitSpec, matvec_terms

    unit = UnitSpec(16, 8, 16, 16, 32, 0.0, False)
    shared = matvec_terms(unit, 16, 27, 18, 4.0, C)
    own = matvec_terms(unit, 8, 27, 18, 4.0, C)
    assert shared["dsp"] == 8 and shared["mux"] == 1 * 16 * 15  # one 16:1 multiplexer of 16-bit data
    assert own["dsp"] == 16 and own["mux"] == 16 * 16 * 7  # 16 multipliers, each an 8:1 multiplexer
    grid = matvec_terms(unit, np.array([8.0, 16.0]), 27, 18, 4.0, C)  # the same on arrays of reuse factors
    assert list(grid["mux"]) == [own["mux"], shared["mux"]]
