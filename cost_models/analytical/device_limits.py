"""Post-synthesis: Vivado synthesis infers no more DSP slices than the device has.

Mechanism: ``synth_design -max_dsp`` caps the DSP blocks synthesis may infer; its default (-1) is the
device's own count (UG901, "Synthesis Settings" / ``synth_design`` options: ``-max_dsp``, like
``-max_bram`` and ``-max_uram``). The multiplications past the cap are built in fabric. So a design whose HLS
estimate asks for more DSPs than the part has gets exactly the part's DSPs after synthesis, and LUTs for
the rest. Seen in the calibration data: CestMerNeil's AlexNet (Vitis HLS / Vivado 2022.1, xczu7ev, csynth
6,558 DSPs) has 1,728 DSPs after synthesis, the device's count, and 464 K LUTs (201 % of the device);
Spehic's MNIST CNN (Vivado HLS 2020.1, xc7z020, csynth 330 DSPs) routed with 220, the device's count.

The multiplications past the cap are priced as the model prices a product built in LUTs after synthesis:
under the Latency strategy the weights are constants, so a spilled product is a shift-add network
(feature ``const_mult``, ``(a + w) * w / 3`` with the constant ``w`` bits wide, matvec.py); under the
Resource strategy it is a generic LUT multiplier (feature ``lut_mult``, ``a * w`` bit products). Which
products Vivado moves is not documented: each layer gives up DSPs in proportion to the DSPs it asked for.
On the AlexNet above this prices 9,204 spilled 16 x 16-bit constant products at ~40 LUT each.

The HLS estimate (csynth) has no such cap: it reports what the RTL asks for (CestMerNeil 6,558, Spehic 330).
Block RAM and URAM are capped the same way by ``-max_bram`` / ``-max_uram``; no calibration row reaches
the device's block RAM, so that cap is not modelled.
"""

from __future__ import annotations

from collections.abc import Sequence

from cost_models.analytical.constants import AnalyticalConstants
from cost_models.analytical.links import GraphIndex, merged
from cost_models.cost import LayerCost
from hw_templates.config import HardwareConfig, Strategy

__all__ = ["spilled_dsp_luts"]


def spilled_dsp_luts(
    layers: Sequence[LayerCost], hw: HardwareConfig, index: GraphIndex, consts: AnalyticalConstants
) -> tuple[float, float, str | None]:
    """(DSPs after synthesis, LUTs added for the products past the device's DSPs, note or None).

    Example:
        >>> # a design asking 2,000 DSPs on a 220-DSP xc7z020 keeps 220 and builds 1,780 products in LUTs
        >>> dsp, lut, note = spilled_dsp_luts(layers, hw, index, DEFAULT_CONSTANTS)  # doctest: +SKIP
    """
    asked = sum(c.dsp for c in layers)
    if asked <= hw.part.dsp:
        return asked, 0.0, None
    spilled = asked - hw.part.dsp
    lut = 0.0
    for cost in layers:
        if cost.dsp > 0:
            lut += spilled * cost.dsp / asked * _lut_per_product(cost, hw, index, consts)
    note = (
        f"post-synthesis: the design asks for {asked:,.0f} DSPs and {hw.part.name} has {hw.part.dsp:,}; Vivado "
        f"synthesis infers at most the device's DSPs (UG901 synth_design -max_dsp) and builds the other "
        f"{spilled:,.0f} products in LUTs (~{lut:,.0f} LUT added)"
    )
    return float(hw.part.dsp), lut, note


def _lut_per_product(cost: LayerCost, hw: HardwareConfig, index: GraphIndex, consts: AnalyticalConstants) -> float:
    """Post-synthesis LUTs of one of ``cost``'s DSP products built in fabric (module docstring)."""
    layer = index.by_name[cost.name]
    settings = hw.resolve(layer.name)
    own = merged(layer, settings.precision) if settings.precision else None
    result = own["result"] if own else layer.precision.result
    weight = (own.get("weight") if own else layer.precision.weight) or result
    a_bits = result.width
    if layer.inputs:
        source = index.by_name[layer.inputs[0]]
        override = hw.resolve(source.name).precision
        a_bits = (merged(source, override)["result"] if override else source.precision.result).width
    w_bits = weight.width
    coef = consts.synth_lut_coef
    if cost.strategy == Strategy.RESOURCE.value or not layer.kind.has_weights:  # products of two variables
        return coef["lut_mult"] * a_bits * w_bits
    return coef["const_mult"] * (a_bits + w_bits) * w_bits / 3
