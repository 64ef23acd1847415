"""The number formats hls4ml 1.3 infers for layer outputs, so a LayerGraph can state them up front.

When hls4ml converts a QONNX model (``config_from_onnx_model`` sets every inferable type to ``auto``),
``InferPrecisionTypes`` (hls4ml 1.3.0, ``model/optimizer/passes/infer_precision.py``) gives each
Dense/Conv the exact accumulator of its inputs, each Add the exact sum, and each pooling layer its input
type. These functions repeat those rules, so:

* :meth:`codesign.models.arch.ArchSpec.to_graph` writes the precisions the exported design computes in
  (what the cost models must see), and
* :func:`codesign.models.builder.build_model` knows where a graph's stated type is narrower than the exact
  value, which is where the Brevitas model must round to match the hardware.

Quantizer-produced types (Brevitas ``Quant`` nodes, ``QuantToActivation`` / ``FuseQuantWithConstant`` in
``quant_opt.py``) carry ``RND_CONV`` rounding and ``SAT`` saturation (``SAT_SYM`` when narrow); inferred
accumulator types carry the ``TRN``/``WRAP`` defaults.
"""

from __future__ import annotations

import math

from hw_templates.precision import FixedType

__all__ = [
    "accumulator_precision",
    "add_precision",
    "concat_precision",
    "holds",
    "quantizer_type",
    "tight_accumulator",
    "wraps_only",
]


def quantizer_type(width: int, integer: int, signed: bool = True, narrow: bool = False) -> FixedType:
    """The type hls4ml gives a Brevitas power-of-two quantizer's output (round-half-even, saturating)."""
    return FixedType(width, integer, signed, rounding="RND_CONV", saturation="SAT_SYM" if narrow else "SAT")


def accumulator_precision(inp: FixedType, weight: FixedType, bias: FixedType | None, n_ops: int) -> FixedType:
    """Exact type of ``sum(n_ops products) + bias``, as hls4ml 1.3 infers it for Dense/Conv.

    Follows ``InferPrecisionTypes._infer_common_precision`` (hls4ml 1.3.0): width and integer bits of
    input and weight add, plus ``ceil(log2(n_ops))`` for the sum; a bias adds one integer bit and may
    widen the fraction. No ``maximum`` precision is applied (the toolkit never sets one).

    Example:
        >>> accumulator_precision(FixedType(8, 3), FixedType(4, 1), FixedType(8, 3), 64).to_hls()
        'ap_fixed<19,11>'
    """
    grow = math.ceil(math.log2(n_ops)) if n_ops > 1 else 0
    width = weight.width + inp.width + grow
    integer = weight.integer + inp.integer + grow
    signed = weight.signed or inp.signed
    if bias is not None:
        frac = width - integer
        integer = max(integer + (bias.signed and not signed), bias.integer + (signed and not bias.signed)) + 1
        width = integer + max(frac, bias.width - bias.integer)
        signed = signed or bias.signed
    return FixedType(width, integer, signed)


def add_precision(a: FixedType, b: FixedType) -> FixedType:
    """Exact type of ``a + b`` (hls4ml 1.3 ``_infer_merge_precision``, op ``add``)."""
    signed = a.signed or b.signed
    integer = max(a.integer + (b.signed and not a.signed), b.integer + (a.signed and not b.signed)) + 1
    return FixedType(integer + max(a.fractional, b.fractional), integer, signed)


def concat_precision(a: FixedType, b: FixedType) -> FixedType:
    """A type holding both inputs exactly (hls4ml 1.3 ``_infer_cat_precision``)."""
    if a == b:
        return a
    signed = a.signed or b.signed
    integer = max(a.integer + (signed and not a.signed), b.integer + (signed and not b.signed))
    return FixedType(integer + max(a.fractional, b.fractional), integer, signed)


def holds(container: FixedType, value: FixedType) -> bool:
    """True when every number of type ``value`` is exactly representable in ``container``."""
    if value.signed and not container.signed:
        return False
    need_integer = value.integer + (1 if container.signed and not value.signed else 0)
    return container.fractional >= value.fractional and container.integer >= need_integer


def tight_accumulator(exact: FixedType, bound: float) -> FixedType:
    """The narrowest type with ``exact``'s fraction bits that holds every value in ``[-bound, bound]``.

    For an accumulator whose sums provably stay within ``bound`` (see
    :func:`codesign.models.tighten.tighten_accumulators`): hls4ml's accumulators add with ``AP_WRAP``
    (two's-complement, modulo ``2**width``), so partial sums may wrap and the final sum is still exact
    whenever it fits; only integer (top) bits are dropped, never fraction bits. Returns ``exact`` when
    the bound needs as many integer bits (or ``exact`` is unsigned).

    Example:
        >>> tight_accumulator(FixedType(19, 11), 80.0).to_hls()
        'ap_fixed<16,8>'
    """
    if not exact.signed:
        return exact
    lsb = 2.0**-exact.fractional
    integer = 1
    while 2.0 ** (integer - 1) - lsb < bound:
        integer += 1
    if integer >= exact.integer:
        return exact
    return FixedType(integer + exact.fractional, integer, True)


def wraps_only(narrow: FixedType, exact: FixedType) -> bool:
    """True when ``narrow`` is ``exact`` without some top integer bits, wrapping (``TRN``/``WRAP``): the
    same number on every value that fits, which a tightened accumulator guarantees."""
    return (
        narrow.signed == exact.signed
        and narrow.fractional == exact.fractional
        and narrow.integer < exact.integer
        and (narrow.rounding, narrow.saturation) == ("TRN", "WRAP")
    )
