"""What the lookup table is keyed by: a design's discrete key and its continuous coordinates.

A design is described by the weight layer that dominates its cost (the one with the largest analytical
LUT estimate; the first weight layer on a tie) and by two continuous coordinates:

* ``log2_mults``: log2 of the parallel multiplications per clock cycle, summed over the weight layers,
  ``sum(ceil(n_in * n_out / reuse_factor))`` (hls4ml's ``multiplier_limit`` before zero weights are
  removed, hls4ml 1.3 ``backends/vivado/passes/core_templates.py``); the size of the datapath HLS builds.
* ``log2_bits``: log2 of the operand bit product ``weight_bits x input_bits``, averaged over the weight
  layers with the multiplication counts as weights (multiplier area grows with the product of the
  operand widths, e.g. UG479 / UG579 DSP operand limits and LUT multipliers ~ w*a LUTs).

Both are logarithms because the costs follow multiplicative laws in them (resources ~ multipliers x
bits), so the table interpolates linearly in log space. The discrete key holds what changes the
mechanism: target (HLS estimate or post-synthesis), HLS tool (Vivado HLS vs Vitis HLS), io type,
strategy, multiplier mapping (``fabric`` when ``config_op mul -impl fabric`` forces products into LUTs,
else ``auto``: forcing DSPs is what HLS does anyway for products too wide for LUTs, and the analytical
model already accounts for the narrow ones), DSP slice (the part family) and the dominant layer kind.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from cost_models.analytical import DEFAULT_WEIGHT_BITS
from cost_models.cost import Cost, Target
from cost_models.ir import LayerGraph
from hw_templates.config import HardwareConfig, MultiplierImpl

__all__ = [
    "KEY_FIELDS",
    "METRICS",
    "OFFSET",
    "DesignPoint",
    "architecture_group",
    "design_point",
    "log_ratio",
]

#: What the table corrects, in the order of ``Cost.intervals``.
METRICS = ("lut", "ff", "dsp", "bram18", "latency_cycles")
#: Discrete key fields, most important first (the back-off levels drop fields from the end of the
#: optional ones, see :data:`cost_models.lut._table.LEVELS`).
KEY_FIELDS = ("target", "kind", "io_type", "strategy", "multiplier", "dsp_slice", "backend")
#: Offset added before taking logarithms, so designs with 0 DSPs or 0 BRAMs keep a finite ratio:
#: ratios are ``(measured + 1) / (analytical + 1)``. One unit of each count (1 LUT, 1 DSP, 1 BRAM18,
#: 1 cycle) is below the resolution of any report, so the offset does not bias large figures.
OFFSET = 1.0


@dataclass(frozen=True)
class DesignPoint:
    """Where a design sits in the table.

    Attributes:
        key: discrete key, ``{field: value}`` for :data:`KEY_FIELDS`.
        log2_mults: log2 of the parallel multiplications per cycle (>= 0).
        log2_bits: log2 of the mean operand bit product (>= 0).
    """

    key: Mapping[str, str]
    log2_mults: float
    log2_bits: float

    def label(self) -> str:
        """Short text for notes, e.g. ``dense/io_parallel/resource`` (``/fabric`` for LUT multipliers)."""
        fabric = "/fabric" if self.key.get("multiplier") == "fabric" else ""
        return f"{self.key['kind']}/{self.key['io_type']}/{self.key['strategy']}{fabric}"


def log_ratio(measured: float, predicted: float) -> float:
    """``log((measured + OFFSET) / (predicted + OFFSET))``: the correction the table stores."""
    return math.log((measured + OFFSET) / (max(predicted, 0.0) + OFFSET))


def design_point(graph: LayerGraph, hw: HardwareConfig, analytical: Cost, target: Target) -> DesignPoint:
    """Key and coordinates of a design, given the analytical model's estimate of it.

    Args:
        graph: the network.
        hw: its hardware configuration.
        analytical: the analytical estimate of ``graph`` on ``hw`` (for the dominant layer).
        target: what is being predicted.
    """
    by_name = {x.name: x for x in graph.layers}
    costs = {c.name: c for c in analytical.layers}
    weighted = graph.weight_layers()
    mults_total = 0.0
    bits_sum = 0.0
    dominant_kind, dominant_strategy, dominant_lut = "none", hw.strategy.value, -1.0
    multiplier = hw.multiplier_impl
    for layer in weighted:
        settings = hw.resolve(layer.name)
        weight = settings.precision.get("weight") or layer.precision.weight
        w_bits = weight.width if weight else DEFAULT_WEIGHT_BITS
        source = by_name[layer.inputs[0]]
        a_bits = (hw.resolve(source.name).precision.get("result") or source.precision.result).width
        mults = sum(math.ceil(n_in * n_out / settings.reuse_factor) for n_in, n_out in layer.mult_units())
        mults_total += mults
        bits_sum += mults * math.log2(w_bits * a_bits)
        lut = costs[layer.name].lut if layer.name in costs else 0.0
        if lut > dominant_lut:
            dominant_kind, dominant_strategy, dominant_lut = layer.kind.value, settings.strategy.value, lut
            multiplier = settings.multiplier_impl
    key = {
        "target": target.value,
        "kind": dominant_kind,
        "io_type": hw.io_type.value,
        "strategy": dominant_strategy,
        "multiplier": "fabric" if multiplier is MultiplierImpl.FABRIC else "auto",
        "dsp_slice": hw.part.dsp_slice,
        "backend": hw.backend.value,
    }
    log2_mults = math.log2(max(mults_total, 1.0))
    log2_bits = bits_sum / mults_total if mults_total else 0.0
    return DesignPoint(key, log2_mults, log2_bits)


def architecture_group(source: str, graph: LayerGraph) -> str:
    """Group label for cross-validation: the source and the layer structure, ignoring reuse factors,
    strategy and precision, so every hardware variant of one network lands in the same group."""
    parts = [source.split("/")[0]]
    for layer in graph.layers:
        if layer.kind.has_weights:
            shape = "x".join(str(s) for s in layer.input_shape)
            parts.append(f"{layer.kind.value}:{shape}->{layer.output_shape[-1]}")
    return "|".join(parts)
