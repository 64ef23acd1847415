"""The analytical FPGA cost model of hls4ml 1.3 designs (registered as ``"analytical"``).

It models the mechanisms hls4ml's HLS templates build (see the submodules: :mod:`.multipliers`,
:mod:`.matvec`, :mod:`.memory`, :mod:`.layers`, :mod:`.stream`, :mod:`.power`), with every free
constant fitted on real synthesis results (:mod:`.constants`, ``scripts/fit_analytical.py``). The model
class is in :mod:`.model`; a layer's context in :mod:`.context`; the design's links and FIFOs in
:mod:`.links`; the design's totals in :mod:`.combine`.

``Target.HLS`` predicts the Vivado/Vitis HLS C-synthesis estimate; ``Target.SYNTH`` post-synthesis
utilisation, with its own LUT/FF coefficients per mechanism (see :mod:`.constants`).

Example:
    >>> from hw_templates import resolve_part
    >>> from hw_templates.config import HardwareConfig
    >>> from hw_templates.precision import FixedType
    >>> from cost_models.ir import GraphBuilder
    >>> b = GraphBuilder("jet", (16,), FixedType(16, 6))
    >>> _ = b.add("dense", units=64)
    >>> cost = AnalyticalModel().estimate(b.build(), HardwareConfig(resolve_part("xcu250"), reuse_factor=4))
    >>> cost.ii_cycles
    4.0
"""

from __future__ import annotations

from cost_models.analytical.constants import DEFAULT_CONSTANTS, AnalyticalConstants
from cost_models.analytical.context import DEFAULT_TABLE_BITS, DEFAULT_WEIGHT_BITS
from cost_models.analytical.model import GRID_KEYS, AnalyticalModel
from cost_models.base import register_cost_model

__all__ = [
    "DEFAULT_CONSTANTS",
    "DEFAULT_TABLE_BITS",
    "DEFAULT_WEIGHT_BITS",
    "GRID_KEYS",
    "AnalyticalConstants",
    "AnalyticalModel",
]

register_cost_model("analytical", lambda target, arg: AnalyticalModel(target))
