"""Monotonic laws of the analytical cost model, checked with hypothesis on random legal designs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cost_models.analytical import AnalyticalModel
from cost_models.analytical.matvec import constant_widths
from cost_models.ir import GraphBuilder, LayerPrecision
from hw_templates import resolve_part
from hw_templates.config import HardwareConfig, Strategy
from hw_templates.precision import FixedType
from hw_templates.reuse import valid_reuse_factors

MODEL = AnalyticalModel()
HW = HardwareConfig(resolve_part("xcu250"))

sizes = st.sampled_from([1, 2, 3, 4, 5, 8, 10, 16, 24, 32, 64, 100])
bits = st.integers(min_value=2, max_value=32)
strategies = st.sampled_from(list(Strategy))


def _dense(n_in: int, n_out: int, data_bits: int, weight_bits: int, sparsity: float = 0.0):
    b = GraphBuilder("d", (n_in,), FixedType(data_bits, 1))
    precision = LayerPrecision(result=FixedType(data_bits, 1), weight=FixedType(weight_bits, 1))
    b.add("dense", units=n_out, precision=precision, sparsity=sparsity)
    graph = b.build()
    return graph, graph.layers[1]


def _grid(n_in: int, n_out: int, data_bits: int, weight_bits: int, strategy: Strategy, sparsity: float = 0.0):
    graph, layer = _dense(n_in, n_out, data_bits, weight_bits, sparsity)
    rfs = np.array(valid_reuse_factors(n_in, n_out), dtype=float)
    return rfs, MODEL.layer_grid(layer, HW, rfs, strategy, graph=graph)


@settings(max_examples=60, deadline=None)
@given(sizes, sizes, bits, bits, strategies, st.sampled_from([0.0, 0.25, 0.5, 0.9]))
def test_dsp_never_increases_with_reuse_factor(n_in, n_out, data_bits, weight_bits, strategy, sparsity):
    _, grid = _grid(n_in, n_out, data_bits, weight_bits, strategy, sparsity)
    assert np.all(np.diff(grid["dsp"]) <= 0)


@settings(max_examples=60, deadline=None)
@given(sizes, sizes, bits, bits, strategies)
def test_latency_and_interval_never_fall_with_reuse_factor(n_in, n_out, data_bits, weight_bits, strategy):
    _, grid = _grid(n_in, n_out, data_bits, weight_bits, strategy)
    assert np.all(np.diff(grid["latency_cycles"]) >= 0)
    assert np.all(np.diff(grid["ii_cycles"]) >= 0)
    # the interval is the reuse factor, or latency + 1 where the pipeline is shorter (modules.module_interval)
    rfs = np.array(valid_reuse_factors(n_in, n_out), dtype=float)
    assert np.all(grid["ii_cycles"] <= rfs) and np.all(grid["ii_cycles"] <= np.ceil(grid["latency_cycles"]) + 1)


@settings(max_examples=60, deadline=None)
@given(sizes, sizes, bits, st.integers(min_value=2, max_value=31), strategies, st.integers(1, 4))
def test_lut_never_falls_with_bit_width_among_lut_products(n_in, n_out, data_bits, weight_bits, strategy, rf_index):
    """Wider weights never cost fewer LUTs while the products keep their mapping (as many in DSPs: a wider
    constant can move from shift-add logic into a DSP, matvec.constant_widths), unless a memory moved from
    LUTRAM into block RAM (a real HLS trade: a wider leftover ROM column takes a BRAM18 instead of LUTs)."""
    rfs = valid_reuse_factors(n_in, n_out)
    rf = np.array([rfs[min(rf_index, len(rfs) - 1)]], dtype=float)
    low = MODEL.layer_grid(_dense(n_in, n_out, data_bits, weight_bits)[1], HW, rf, strategy)
    high = MODEL.layer_grid(_dense(n_in, n_out, data_bits, weight_bits + 1)[1], HW, rf, strategy)
    same_mapping = (low["dsp"][0] == 0) == (high["dsp"][0] == 0)
    if strategy is Strategy.LATENCY:  # and the same share of constants kept as multiplications (shiftadd.py):
        # a constant that moves into a DSP leaves the shift-add logic even where the rounded count stays
        c = MODEL.constants
        shares = [
            constant_widths(w - 1, w, c.lut_mult_max_bits, c.weight_scale)[0] for w in (weight_bits, weight_bits + 1)
        ]
        same_mapping = same_mapping and shares[0] == shares[1]
    if same_mapping:
        assert high["lut"][0] >= low["lut"][0] or high["bram18"][0] > low["bram18"][0]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([8, 16, 32, 64]), st.sampled_from([8, 16, 32]), st.integers(2, 31))
def test_resource_bram_never_falls_with_weight_bits(n_in, n_out, weight_bits):
    rfs = np.array(valid_reuse_factors(n_in, n_out)[1:], dtype=float)
    low = MODEL.layer_grid(_dense(n_in, n_out, 16, weight_bits)[1], HW, rfs, Strategy.RESOURCE)
    high = MODEL.layer_grid(_dense(n_in, n_out, 16, weight_bits + 1)[1], HW, rfs, Strategy.RESOURCE)
    assert np.all(high["bram18"] >= low["bram18"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from([4, 8, 16, 32]), min_size=1, max_size=4), strategies, st.sampled_from([1, 2, 4]))
def test_resources_add_across_layers(widths, strategy, rf):
    b = GraphBuilder("mlp", (16,), FixedType(16, 6))
    for w in widths:
        b.add("dense", units=w)
        b.add("activation", function="relu")
    graph = b.build()
    hw = HardwareConfig(resolve_part("xcu250"), strategy=strategy, reuse_factor=rf)
    cost = MODEL.estimate(graph, hw)
    for key in ("lut", "ff", "dsp", "bram18"):
        assert getattr(cost, key) == sum(getattr(x, key) for x in cost.layers)
    # Adding a layer never makes the design cheaper.
    b.add("dense", units=8)
    bigger = MODEL.estimate(b.build(), hw)
    for key in ("lut", "ff", "dsp", "bram18"):
        assert getattr(bigger, key) >= getattr(cost, key)
