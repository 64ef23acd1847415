"""Where a product lands: DSP slices or LUTs, and how many of each.

Mechanisms:

* A DSP slice multiplies a signed ``A x B`` pair: 25 x 18 bits on the 7-series DSP48E1 (UG479) and
  27 x 18 on the UltraScale DSP48E2 (UG579). HLS puts the wider operand on the A port; an operand
  wider than its port is split, so a product costs ``ceil(wide / A) * ceil(narrow / B)`` slices
  (e.g. 16 x 16 bits: 1; 24 x 24 bits on DSP48E2: 2).
* Narrow products are built in LUTs: below :attr:`AnalyticalConstants.lut_mult_max_bits` on the
  narrower operand, Vivado/Vitis HLS infers a LUT multiplier (cost ~ a * b LUT bit-products).
* Products of two narrow operands are built in LUTs too: when *both* operands have at most
  :attr:`AnalyticalConstants.lut_mult_pair_max_bits` bits (9, fitted), HLS builds a LUT multiplier although
  either one alone is above ``lut_mult_max_bits``. The csynth DSP counts bracket it, and the
  post-synthesis counts are the same (Vivado keeps the HLS core's mapping): nicologhielmetti's jet
  tagger (Vivado HLS 2019.2, Resource, 7-bit weights): 21 DSPs = the 16 multipliers of its first layer
  (16-bit inputs x 7 bits) + 5 of the softmax, where the layers fed by 7-bit ReLU outputs (7 x 7 bits,
  53 multipliers) take none; karlis-susters' 8-bit designs (Vivado HLS 2019.2, every type
  ``ap_fixed<8,3>``, 8 x 8 bits): 0 DSPs under both strategies; ArgyKokk (Vitis HLS 2021.1, 16 x 8 bits)
  and wa-hls4ml (Vitis HLS 2023.2, 16 x 8 bits) use DSPs, ftsipis' QKeras 12-bit designs (Vitis HLS
  2023.2, 12 x 12 bits) too. So the threshold lies between 8 and 11 bits; it is refitted per
  held-out source by ``scripts/fit_analytical.fit_pair_bits`` (9 on all rows, 8 with Lrozzy's HGQ
  designs held out).
* DSP packing of two narrow products in one slice (the INT8 technique of AMD WP486) is **not** done
  by Vivado/Vitis HLS on its own: hls4ml's ``nnet::product::mult`` is a plain ``a * w`` and HLS maps
  each product to its own slice or to LUTs. The model therefore packs nothing (factor 1); the
  calibration data agree (N-TORC 16-bit Resource layers use exactly one DSP per unrolled product).
* Binary / ternary weights (hls4ml ``weight_binary`` / ``weight_ternary`` products, 1- and 2-bit
  weights) are sign flips / selects: LUT only, which the narrow-operand rule already gives.
"""

from __future__ import annotations

import numpy as np

from cost_models.analytical._num import Num, ceil, maximum, minimum, where
from cost_models.analytical.constants import AnalyticalConstants

__all__ = ["dsp_per_product", "is_lut_product"]


def is_lut_product(a_bits: Num, b_bits: Num, consts: AnalyticalConstants) -> bool | np.ndarray:
    """True where HLS builds an ``a_bits x b_bits`` product in LUTs rather than a DSP: one narrow operand,
    or two operands of at most ``lut_mult_pair_max_bits`` bits each (module docstring).

    Example:
        >>> from cost_models.analytical.constants import DEFAULT_CONSTANTS as C
        >>> [bool(is_lut_product(a, b, C)) for a, b in ((16, 6), (16, 7), (7, 7), (8, 8), (12, 12))]
        [True, False, True, True, False]
    """
    narrow = minimum(a_bits, b_bits) <= consts.lut_mult_max_bits
    return narrow | (maximum(a_bits, b_bits) <= consts.lut_mult_pair_max_bits)


def dsp_per_product(a_bits: Num, b_bits: Num, dsp_a: int, dsp_b: int, consts: AnalyticalConstants) -> Num:
    """DSP slices one ``a_bits x b_bits`` product takes (0 when it is built in LUTs).

    Args:
        a_bits, b_bits: operand widths.
        dsp_a, dsp_b: the part's DSP port widths (``FpgaPart.dsp_a_bits`` / ``dsp_b_bits``).
        consts: model constants (the LUT-mapping threshold).

    Example:
        >>> from cost_models.analytical.constants import DEFAULT_CONSTANTS as C
        >>> [int(dsp_per_product(a, b, 27, 18, C)) for a, b in ((16, 16), (24, 24), (4, 16))]
        [1, 2, 0]
    """
    wide = maximum(a_bits, b_bits)
    narrow = minimum(a_bits, b_bits)
    slices = ceil(wide / dsp_a) * ceil(narrow / dsp_b)
    return where(is_lut_product(a_bits, b_bits, consts), 0, slices)
