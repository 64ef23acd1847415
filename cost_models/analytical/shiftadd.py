"""Products by constant weights (hls4ml's Latency strategy): which ones HLS keeps as multiplications, and
the shift-add logic of the others (used by :mod:`.matvec`; see its module docstring for the sources).

The constants themselves are not known to the model: their widths come from the weight type's fractional
bits and half-normal magnitudes of one fitted scale (:attr:`~.constants.AnalyticalConstants.weight_scale`).
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["constant_adders", "constant_widths", "csd_digits"]

#: Quantiles of the standard half-normal distribution (|z|, z ~ N(0, 1)) at 200 evenly spaced levels.
_HALF_NORMAL_GRID = np.linspace(0.0, 6.0, 6001)
_HALF_NORMAL_Q = np.interp(
    (np.arange(200) + 0.5) / 200, [math.erf(g / math.sqrt(2.0)) for g in _HALF_NORMAL_GRID], _HALF_NORMAL_GRID
)


@functools.lru_cache(maxsize=256)
def constant_widths(w_frac: int, w_bits: int, lut_max_bits: int, scale: float) -> tuple[float, float]:
    """(share of constant weights HLS keeps as DSP multiplications, mean width of the others) for weights of
    ``w_frac`` fractional bits whose magnitudes are half-normal with ``scale`` (module docstring).

    A constant needs ``floor(log2(|w| * 2**w_frac)) + 2`` bits (sign included, at most ``w_bits``); above
    ``lut_max_bits`` the product stays a multiplication, at or below it HLS builds shift-add logic.

    Example:
        >>> share, bits = constant_widths(5, 8, 6, 0.19)  # ap_fixed<8,3>: every constant fits in 6 bits
        >>> share, round(bits, 1)
        (0.0, 3.3)
    """
    width = np.clip(np.floor(np.log2(np.maximum(scale * _HALF_NORMAL_Q, 1e-12) * 2.0**w_frac)) + 2, 1, w_bits)
    wide = width > lut_max_bits
    narrow = width[~wide]
    return float(wide.mean()), float(narrow.mean()) if narrow.size else float(lut_max_bits)


def csd_digits(values: np.ndarray) -> np.ndarray:
    """Non-zero digits of the canonical signed-digit (non-adjacent) form of each non-negative integer.

    Example:
        >>> csd_digits(np.array([0, 1, 3, 7, 11, 85])).tolist()  # 7 = 8 - 1, 11 = 16 - 4 - 1, 85 = 1010101b
        [0, 1, 2, 2, 3, 4]
    """
    m = np.asarray(values, dtype=np.int64).copy()
    count = np.zeros(m.shape, dtype=np.int64)
    while np.any(m):
        odd = (m & 1) == 1
        digit = np.where(odd, 2 - (m & 3), 0)  # +1 where m = 1 mod 4, -1 where m = 3 mod 4
        count += odd
        m = (m - digit) >> 1
    return count


@functools.lru_cache(maxsize=256)
def constant_adders(w_frac: int, w_bits: int, lut_max_bits: int, scale: float) -> float:
    """Mean adders of one shift-add constant product (the constants :func:`constant_widths` leaves to logic).

    A product by a constant whose CSD form has ``d`` non-zero digits is ``d`` shifted copies of the data
    added together: ``d - 1`` adders, none for 0 or a power of two (Hartley, "Subexpression sharing in filters
    using canonic signed digit multipliers", IEEE TCAS-II 1996; the CSD form is the one with fewest non-zero
    digits, Reitwiesner 1960). The constants are the integers ``floor(|w| * 2**w_frac)`` of half-normal
    magnitudes of ``scale`` (as in :func:`constant_widths`); ``w_frac < 0`` (weight type unknown): every
    ``w_bits``-bit magnitude equally likely.

    Example:
        >>> constant_adders(5, 8, 6, 0.19)  # ap_fixed<8,3>: constants 0..31, half of them need one adder
        0.5
    """
    if w_frac < 0:
        magnitudes = np.arange(2 ** (w_bits - 1))
    else:
        magnitudes = np.floor(np.minimum(scale * _HALF_NORMAL_Q * 2.0**w_frac, 2.0 ** (w_bits - 1) - 1))
    width = np.floor(np.log2(np.maximum(magnitudes, 0.5))) + 2
    narrow = magnitudes[width <= lut_max_bits]
    if not narrow.size:
        return 0.0
    return float(np.maximum(csd_digits(narrow) - 1, 0).mean())
