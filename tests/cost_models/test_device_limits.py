"""Post-synthesis: Vivado infers at most the device's DSPs and builds the other products in LUTs
(cost_models/analytical/device_limits.py)."""

from __future__ import annotations

from cost_models.analytical import AnalyticalModel
from cost_models.ir import GraphBuilder, LayerPrecision
from hw_templates import resolve_part
from hw_templates.config import HardwareConfig, Strategy
from hw_templates.precision import FixedType


def _wide_dense(strategy: Strategy, reuse_factor: int = 1):
    b = GraphBuilder("w", (64,), FixedType(16, 6))
    b.add("dense", units=64, precision=LayerPrecision(result=FixedType(16, 6), weight=FixedType(16, 6)))
    hw = HardwareConfig(resolve_part("xc7z020"), clock_ns=5.0, strategy=strategy, reuse_factor=reuse_factor)
    return b.build(), hw


def test_synthesis_infers_at_most_the_devices_dsps_hand_checked():
    graph, hw = _wide_dense(Strategy.RESOURCE, 2)  # 64 x 64 / 2 = 2,048 multipliers of 16 x 16 bits, 1 DSP each
    hls = AnalyticalModel("hls").estimate(graph, hw)
    synth_model = AnalyticalModel("synth")
    synth = synth_model.estimate(graph, hw)
    assert hls.dsp == 2048  # csynth reports what the RTL asks for
    assert synth.dsp == hw.part.dsp == 220
    spilled_lut = (2048 - 220) * synth_model.constants.synth_lut_coef["lut_mult"] * 16 * 16
    assert abs(synth.lut - sum(c.lut for c in synth.layers) - spilled_lut) < 1e-6 * spilled_lut
    assert any("-max_dsp" in note for note in synth.notes)


def test_spilled_constant_products_are_shift_add_logic():
    graph, hw = _wide_dense(Strategy.LATENCY)
    synth_model = AnalyticalModel("synth")
    synth = synth_model.estimate(graph, hw)
    asked = sum(c.dsp for c in synth.layers)
    assert asked > 220 and synth.dsp == 220
    per_product = synth_model.constants.synth_lut_coef["const_mult"] * (16 + 16) * 16 / 3
    assert abs(synth.lut - sum(c.lut for c in synth.layers) - (asked - 220) * per_product) < 1e-6 * synth.lut


def test_designs_within_the_device_are_not_capped():
    graph, hw = _wide_dense(Strategy.RESOURCE, 64)  # 64 multipliers
    synth = AnalyticalModel("synth").estimate(graph, hw)
    assert synth.dsp == sum(c.dsp for c in synth.layers) == 64
    assert synth.lut == sum(c.lut for c in synth.layers)
    assert not any("-max_dsp" in note for note in synth.notes)
