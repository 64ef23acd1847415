"""Arithmetic helpers that work on Python numbers and numpy arrays alike.

The analytical formulas are written once and evaluated either on scalars (``estimate_layer``: one
configuration, where numpy's per-call overhead of ~1 us would dominate) or on arrays
(``layer_grid``: many reuse factors at once). These helpers pick the cheap path for scalars and the
vectorised one for arrays, so both entry points run the same formulas.
"""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np

__all__ = ["Num", "ceil", "floor", "log2_ceil", "maximum", "minimum", "where"]

Num: TypeAlias = "float | int | np.ndarray"


def ceil(x: Num) -> Num:
    """Ceiling; ``-((-x) // 1)`` is exact for ints, floats and arrays."""
    return -((-x) // 1)


def floor(x: Num) -> Num:
    return x // 1


_ARRAY = np.ndarray


def minimum(a: Num, b: Num) -> Num:
    if a.__class__ is _ARRAY or b.__class__ is _ARRAY:
        return np.minimum(a, b)
    return a if a < b else b


def maximum(a: Num, b: Num) -> Num:
    if a.__class__ is _ARRAY or b.__class__ is _ARRAY:
        return np.maximum(a, b)
    return a if a > b else b


def log2_ceil(x: Num) -> Num:
    """``ceil(log2(max(x, 1)))``: levels of a binary reduction tree over ``x`` operands."""
    if x.__class__ is _ARRAY:
        return np.ceil(np.log2(np.maximum(x, 1.0)))
    return math.ceil(math.log2(x)) if x > 1 else 0


def where(cond: bool | np.ndarray, a: Num, b: Num) -> Num:
    # Exact class checks (not isinstance): this runs ~20 times per layer estimate.
    if cond.__class__ is _ARRAY or a.__class__ is _ARRAY or b.__class__ is _ARRAY:
        return np.where(cond, a, b)
    return a if cond else b
