"""Memories: weight ROMs, lookup tables, FIFOs and line buffers, as BRAM18 or LUTs.

Mechanisms:

* An 18 Kb block RAM has the port aspect ratios 16K x 1, 8K x 2, 4K x 4, 2K x 9, 1K x 18 and
  512 x 36 (simple dual port); UG473 (7 Series Memory Resources, RAMB18E1) and UG573 (UltraScale
  Memory Resources, RAMB18E2). A ``width x depth`` memory takes, for the best aspect ratio
  ``(w, d)``, ``ceil(width / w) * ceil(depth / d)`` blocks. HLS slices a wide word into columns; a
  narrow leftover column goes to LUTRAM (:attr:`AnalyticalConstants.rom_lutram_remainder_bits`).
* Small memories are not worth a block: below :attr:`AnalyticalConstants.rom_min_bits` they are
  LUTRAM (64 bits per LUT6, UG474/UG574).
* FIFOs (``hls::stream`` with ``#pragma HLS STREAM depth=N``) and ``ap_shift_reg`` line buffers are
  SRL32 shift registers up to :attr:`AnalyticalConstants.fifo_srl_max_depth`, block RAM above.
"""

from __future__ import annotations

import math

import numpy as np

from cost_models.analytical._num import Num, ceil, floor, minimum, where
from cost_models.analytical.constants import AnalyticalConstants

__all__ = ["BRAM18_ASPECTS", "fifo_cost", "memory_bram18", "narrow_table_bram18"]

#: (width bits, depth) of the RAMB18 port configurations, UG473 table 1-3 / UG573 table 1-6.
BRAM18_ASPECTS = ((36, 512), (18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384))


def memory_bram18(width: Num, depth: Num, consts: AnalyticalConstants) -> tuple[Num, Num]:
    """Block RAMs and LUTs of a ``width``-bit, ``depth``-word memory (ROM or RAM).

    Returns:
        ``(bram18, lut)``: 18 Kb blocks and the LUTs of what stays in LUTRAM.

    Example:
        >>> from cost_models.analytical.constants import DEFAULT_CONSTANTS as C
        >>> [float(x) for x in memory_bram18(1024, 16, C)]  # 29 columns of 36 bits; 16-bit leftover in a BRAM
        [29.0, 0.0]
    """
    if width.__class__ is not np.ndarray and depth.__class__ is not np.ndarray:
        return _memory_scalar(width, depth, consts)
    best_bram: Num = float("inf")
    best_lut_bits: Num = 0
    for aspect_width, aspect_depth in BRAM18_ASPECTS:
        columns = floor(width / aspect_width)
        leftover = width - columns * aspect_width
        own_column = leftover > consts.rom_lutram_remainder_bits
        rows = ceil(depth / aspect_depth)
        bram = (columns + where(own_column, 1, 0)) * rows
        lut_bits = where(own_column, 0, leftover * depth)
        better = bram < best_bram
        best_lut_bits = where(better, lut_bits, best_lut_bits)
        best_bram = minimum(bram, best_bram)
    small = width * depth < consts.rom_min_bits
    bram18 = where(small, 0, best_bram)
    lut = where(small, width * depth, best_lut_bits) * consts.lut_per_lutram_bit
    return bram18, lut


def _memory_scalar(width: float, depth: float, consts: AnalyticalConstants) -> tuple[float, float]:
    """:func:`memory_bram18` for plain numbers (same rule, without numpy's per-call overhead)."""
    if width * depth < consts.rom_min_bits:
        return 0, width * depth * consts.lut_per_lutram_bit
    best_bram, best_lut_bits = math.inf, 0
    for aspect_width, aspect_depth in BRAM18_ASPECTS:
        columns = width // aspect_width
        leftover = width - columns * aspect_width
        own_column = leftover > consts.rom_lutram_remainder_bits
        bram = (columns + own_column) * -(-depth // aspect_depth)
        if bram < best_bram:
            best_bram, best_lut_bits = bram, 0 if own_column else leftover * depth
    return best_bram, best_lut_bits * consts.lut_per_lutram_bit


def narrow_table_bram18(width: Num, depth: Num, consts: AnalyticalConstants) -> tuple[Num, Num]:
    """Block RAMs and LUTs of a narrow (at most 18 bits), deep table read at a run-time address.

    One column of the deepest RAMB18 aspect ratio that holds a word (UG473 table 1-3 / UG573 table 1-6:
    4K x 4, 2K x 9, 1K x 18), ``ceil(depth / aspect depth)`` blocks, and LUTRAM below
    :attr:`~AnalyticalConstants.rom_min_bits`. Unlike :func:`memory_bram18` there is no wide word
    to slice, so no leftover column goes to LUTRAM. Seen after Vivado synthesis (wa-hls4ml rows, Vivado 2023.2):
    the 5- to 7-bit ``outidx`` tables of ``dense_resource_rf_gt_nin_rem0`` (matvec.py) take
    ``ceil(rf / 2048)`` RAMB18 each (e.g. rf 1,792 and 2,112 -> 1 + 2 = 3 BRAM18, as measured).

    Example:
        >>> from cost_models.analytical.constants import DEFAULT_CONSTANTS as C
        >>> [float(x) for x in narrow_table_bram18(5, 3584, C)]  # 2K x 9 aspect: 2 blocks
        [2.0, 0.0]
    """
    aspect_depth = where(width <= 4, 4096, where(width <= 9, 2048, 1024))
    small = width * depth < consts.rom_min_bits
    bram18 = where(small, 0, ceil(depth / aspect_depth))
    lut = where(small, width * depth * consts.lut_per_lutram_bit, 0)
    return bram18, lut


def fifo_cost(width: Num, depth: Num, consts: AnalyticalConstants) -> tuple[Num, Num, Num]:
    """BRAM18, LUT and FF of a FIFO (or shift register) ``width`` bits wide and ``depth`` deep.

    Shallow ones are SRL32 chains (``width * ceil(depth / 32)`` LUTs, plus an output register);
    deep ones a block-RAM FIFO with pointer logic.
    """
    shallow = depth <= consts.fifo_srl_max_depth
    bram, lut_ram = memory_bram18(width, depth, consts)
    srl_lut = width * ceil(depth / 32)
    bram18 = where(shallow, 0, bram)
    lut = where(shallow, srl_lut, lut_ram)
    ff = width
    return bram18, lut, ff
