"""Brevitas quantizers with constant power-of-two scales, one per fixed-point type of the graph.

Why constant scales: hls4ml's QONNX path is bit-exact only with power-of-two scales (``../shared/
STACK.md``), and a constant scale makes the integer bits of every tensor a property of the graph, known
before training, so the cost model and the exported design agree. ``ap_fixed<W,I>`` becomes a ``W``-bit
quantizer with scale ``2^(I-W)``; Brevitas divides its threshold by ``2^(W-1)`` (signed) or ``2^W``
(unsigned) (``PowerOfTwoIntScaling``, brevitas 0.13), so the threshold is ``2^(I-1)`` or ``2^I``.

Rounding maps RND_CONV -> ``ROUND`` (torch rounds half to even, as RND_CONV does) and TRN -> ``FLOOR``.
Saturation maps SAT -> full range, SAT_SYM -> narrow range. Brevitas always saturates, so a WRAP type
(the HLS default) matches the hardware only while no value overflows; the toolkit's own graphs use SAT
for every quantizer.
"""

from __future__ import annotations

from typing import Any

from brevitas.core.scaling import ScalingImplType
from brevitas.inject.enum import FloatToIntImplType
from brevitas.quant.fixed_point import (
    Int8ActPerTensorFixedPoint,
    Int8BiasPerTensorFixedPointInternalScaling,
    Int8WeightPerTensorFixedPoint,
)

from hw_templates.errors import UnsupportedLayerError
from hw_templates.precision import FixedType

__all__ = ["act_quant", "bias_quant", "scale_of", "weight_quant"]

_ROUNDING = {"RND_CONV": FloatToIntImplType.ROUND, "TRN": FloatToIntImplType.FLOOR}


def scale_of(ftype: FixedType) -> float:
    """The value of one least significant bit."""
    return 2.0 ** (ftype.integer - ftype.width)


def _common(ftype: FixedType, where: str) -> dict[str, Any]:
    if ftype.rounding not in _ROUNDING:
        raise UnsupportedLayerError(
            f"{where}: rounding mode {ftype.rounding} of {ftype.to_hls()} cannot be trained with Brevitas "
            f"(supported: {', '.join(_ROUNDING)})"
        )
    narrow = ftype.saturation == "SAT_SYM"
    if narrow and not ftype.signed:
        raise UnsupportedLayerError(f"{where}: SAT_SYM needs a signed type, got {ftype.to_hls()}")
    return {
        "bit_width": ftype.width,
        "signed": ftype.signed,
        "narrow_range": narrow,
        "float_to_int_impl_type": _ROUNDING[ftype.rounding],
        "scaling_impl_type": ScalingImplType.CONST,
    }


def _threshold(ftype: FixedType) -> float:
    return scale_of(ftype) * 2.0 ** (ftype.width - 1 if ftype.signed else ftype.width)


def act_quant(ftype: FixedType, where: str) -> type:
    """An activation quantizer whose output is exactly ``ftype``."""
    threshold = _threshold(ftype)
    low = -threshold if ftype.signed else 0.0
    return Int8ActPerTensorFixedPoint.let(**_common(ftype, where), min_val=low, max_val=threshold)


def weight_quant(ftype: FixedType, where: str) -> type:
    """A per-tensor weight quantizer whose values are exactly ``ftype``."""
    if not ftype.signed:
        raise UnsupportedLayerError(f"{where}: weights need a signed type, got {ftype.to_hls()}")
    return Int8WeightPerTensorFixedPoint.let(**_constant(ftype, where), scaling_init=_threshold(ftype))


def bias_quant(ftype: FixedType, where: str) -> type:
    """A bias quantizer with its own constant scale (no input scale needed, so no QuantTensor plumbing)."""
    if not ftype.signed:
        raise UnsupportedLayerError(f"{where}: biases need a signed type, got {ftype.to_hls()}")
    return Int8BiasPerTensorFixedPointInternalScaling.let(**_constant(ftype, where), scaling_init=_threshold(ftype))


def _constant(ftype: FixedType, where: str) -> dict[str, Any]:
    """Weights and biases are constants: a type's rounding mode does not act in hardware, and the QONNX ->
    hls4ml path rounds them to nearest whatever the Quant node says (measured: an ``ap_fixed<16,6>``
    (TRN) weight quantizer trained with FLOOR differed from hls4ml's weights by one LSB on ~half the
    entries). So they are always quantized to nearest."""
    return {**_common(ftype, where), "float_to_int_impl_type": FloatToIntImplType.ROUND}
