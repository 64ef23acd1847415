"""hls4ml's reuse-factor legality rule, as pure functions.

A layer's multiplication unit has ``n_in`` inputs and ``n_out`` outputs, so ``n_in * n_out``
multiplications (Dense: ``n_in``/``n_out``; Conv1D: ``n_chan * filt_width`` / ``n_filt``; Conv2D:
``n_chan * filt_height * filt_width`` / ``n_filt``; the IR computes these). hls4ml 1.3.0 accepts a reuse
factor ``rf`` in ``1 .. n_in * n_out`` when all three conditions of
``FPGABackend._validate_reuse_factor`` (``hls4ml/backends/fpga/fpga_backend.py``) hold::

    (n_in * n_out) % rf == 0                                       # "QoR and execution time"
    rf % n_in == 0  or  rf < n_in                                  # functional correctness
    ceil(n_in * n_out / min(n_in, rf)) % n_out == 0  or  rf >= n_in

For ``rf < n_in`` the first and third reduce to "``rf`` divides ``n_in``"; for ``rf >= n_in`` the
second and first reduce to "``rf = n_in * d`` with ``d`` dividing ``n_out``". So the legal set is
``divisors(n_in) | {n_in * d for d in divisors(n_out)}``, which this module builds directly instead of
testing every candidate as ``get_valid_reuse_factors`` does (the oracle test checks they agree).

When the value is not legal, ``set_closest_reuse_factor`` prints a warning and silently replaces it by
``get_closest_reuse_factor``: the nearest legal value, the smaller one on a tie, 1 below the range and
``n_in * n_out`` above it. :func:`closest_valid_reuse_factor` reproduces that snap;
:func:`check_reuse_factor` turns it into an error instead.

Where hls4ml 1.3.0 applies the rule (``init_*`` layer optimizers of each backend):

* Vivado and Vitis (``VitisBackend`` subclasses ``VivadoBackend`` and overrides nothing here), also
  Catapult and Libero (Dense only): only under ``Strategy: Resource`` (and ``resource_unrolled``). The
  default ``Latency`` strategy takes any reuse factor unchecked; ``distributed_arithmetic`` requires 1.
* ``resource_unrolled`` excludes the largest value ``n_in * n_out`` (``include_max_rf=False``); with
  a reuse factor of 1, or for Conv1D/Conv2D under ``io_parallel``, it falls back to ``Resource`` and the
  full set. Pass ``include_max_rf=False`` here for that strategy.
* Quartus and oneAPI: Dense (unless compressed) and Conv1D/Conv2D are always resource-style and always
  checked, whatever the configured strategy.
* ``io_parallel`` vs ``io_stream`` does not change ``n_in``/``n_out`` or the rule. Recurrent layers
  check ``recurrent_reuse_factor`` with the same rule on their recurrent sizes.
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_left
from numbers import Integral

from hw_templates.errors import ReuseFactorError, ShapeError, bad_value

__all__ = [
    "check_reuse_factor",
    "closest_valid_reuse_factor",
    "is_valid_reuse_factor",
    "valid_reuse_factors",
]

_NEIGHBOURS = 3


def valid_reuse_factors(n_in: int, n_out: int, *, include_max_rf: bool = True) -> tuple[int, ...]:
    """All reuse factors hls4ml 1.3.0 accepts for an ``n_in`` x ``n_out`` multiplication unit, sorted.

    Args:
        n_in: inputs of the multiplication unit.
        n_out: outputs of the multiplication unit.
        include_max_rf: False drops ``n_in * n_out``, as hls4ml does for ``resource_unrolled``.

    Returns:
        The legal values in increasing order (may be empty only for a 1x1 unit without the maximum).

    Example:
        >>> valid_reuse_factors(16, 64)[:6]
        (1, 2, 4, 8, 16, 32)
    """
    values = _valid(_size("n_in", n_in), _size("n_out", n_out))
    return values if include_max_rf else values[:-1]


def is_valid_reuse_factor(n_in: int, n_out: int, reuse_factor: int, *, include_max_rf: bool = True) -> bool:
    """Whether hls4ml 1.3.0 keeps ``reuse_factor`` unchanged for an ``n_in`` x ``n_out`` unit.

    Example:
        >>> is_valid_reuse_factor(16, 64, 7), is_valid_reuse_factor(16, 64, 32)
        (False, True)
    """
    n_in, n_out = _size("n_in", n_in), _size("n_out", n_out)
    rf = _reuse("reuse_factor", reuse_factor)
    if rf > n_in * n_out or (not include_max_rf and rf == n_in * n_out):
        return False
    if rf <= n_in:
        return n_in % rf == 0
    return rf % n_in == 0 and n_out % (rf // n_in) == 0


def closest_valid_reuse_factor(n_in: int, n_out: int, reuse_factor: int, *, include_max_rf: bool = True) -> int:
    """The reuse factor hls4ml 1.3.0 silently uses instead of ``reuse_factor`` (itself when legal).

    Mirrors ``FPGABackend.get_closest_reuse_factor``: nearest legal value, the smaller on a tie.

    Raises:
        ReuseFactorError: no legal value exists (a 1x1 unit with ``include_max_rf=False``; hls4ml
            itself fails with an IndexError there).

    Example:
        >>> closest_valid_reuse_factor(16, 64, 7)
        8
    """
    valid = valid_reuse_factors(n_in, n_out, include_max_rf=include_max_rf)
    rf = _reuse("reuse_factor", reuse_factor)
    if not valid:
        raise ReuseFactorError(
            f"reuse_factor: no legal value for a {n_in}x{n_out} layer under resource_unrolled "
            "(it excludes the only value, 1); use the Resource or Latency strategy"
        )
    pos = bisect_left(valid, rf)
    if pos == 0:
        return valid[0]
    if pos == len(valid):
        return valid[-1]
    before, after = valid[pos - 1], valid[pos]
    return after if after - rf < rf - before else before


def check_reuse_factor(
    layer_name: str, n_in: int, n_out: int, reuse_factor: int, *, include_max_rf: bool = True
) -> int:
    """Return ``reuse_factor`` if hls4ml would keep it, else raise instead of letting hls4ml snap it.

    Args:
        layer_name: how the message names the layer, printed as given (e.g. ``"layers[1] 'fc1'"``).
        n_in: inputs of the layer's multiplication unit.
        n_out: outputs of the layer's multiplication unit.
        reuse_factor: the requested value.
        include_max_rf: False for the ``resource_unrolled`` strategy.

    Raises:
        ReuseFactorError: one line naming the layer, the bad value, hls4ml's snap and nearby legal
            values, e.g. ``"layers[1] 'fc1': reuse_factor 7 is not legal for a 16x64 layer (hls4ml
            would silently use 8); valid values near it: 4, 8, 16"``.

    Example:
        >>> check_reuse_factor("fc1", 16, 64, 8)
        8
    """
    if is_valid_reuse_factor(n_in, n_out, reuse_factor, include_max_rf=include_max_rf):
        return int(reuse_factor)
    snap = closest_valid_reuse_factor(n_in, n_out, reuse_factor, include_max_rf=include_max_rf)
    valid = valid_reuse_factors(n_in, n_out, include_max_rf=include_max_rf)
    near = ", ".join(str(v) for v in _neighbours(valid, int(reuse_factor)))
    raise ReuseFactorError(
        f"{layer_name}: reuse_factor {reuse_factor} is not legal for a {n_in}x{n_out} layer "
        f"(hls4ml would silently use {snap}); valid values near it: {near}"
    )


@functools.lru_cache(maxsize=8192)
def _valid(n_in: int, n_out: int) -> tuple[int, ...]:
    # Closed form of hls4ml's three conditions, derived in the module docstring.
    below = _divisors(n_in)
    above = (n_in * d for d in _divisors(n_out))
    return tuple(sorted(set(below).union(above)))


@functools.lru_cache(maxsize=8192)
def _divisors(n: int) -> tuple[int, ...]:
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return tuple(sorted(set(small) | {n // d for d in small}))


def _neighbours(valid: tuple[int, ...], rf: int) -> tuple[int, ...]:
    """Up to three legal values around ``rf``: the one below it and the ones from it upwards."""
    start = max(0, min(bisect_left(valid, rf) - 1, len(valid) - _NEIGHBOURS))
    return valid[start : start + _NEIGHBOURS]


def _size(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ShapeError(bad_value(field, value, "a positive integer (size of the multiplication unit)"))
    return int(value)


def _reuse(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ReuseFactorError(bad_value(field, value, "a positive integer"))
    return int(value)
