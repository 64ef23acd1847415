"""Where HLS builds rounding and saturation logic: the casts that carry a type's modes.

Mechanism (AMD UG1399, "Arbitrary Precision Data Types": quantization modes other than ``AP_TRN``
add an incrementer over the kept bits; overflow modes other than ``AP_WRAP`` add an overflow detect
on the dropped upper bits and a clamp multiplexer): the logic exists only where a value is *cast* into
a type that carries the mode and the cast really drops bits. A rounding mode costs nothing when the
target keeps every fractional bit of the source, a saturation mode nothing when it keeps every integer
bit, and HLS folds both away then.

The casts in hls4ml's code (``nnet_dense_latency.h``, ``nnet_dense_resource.h``, ``nnet_conv_stream.h``,
``nnet_activation.h``, ``nnet_batchnorm.h``, ``nnet_pooling.h``; the same from v0.5 to v1.3):

* ``mult[i] = product(data, weight)`` and ``acc[j] += mult[i]`` are in ``accum_t``: every product and
  every accumulation pays the modes of the *accumulator* type (``matvec.py``, feature ``quant``).
* ``res[j] = cast<data_T, res_T>(acc[j])`` (dense/conv), ``res[i] = data[i]`` or a table read
  (activations), ``res[i] = data[i] * scale + bias`` (batchnorm) and the pooled value are one cast per
  output into the *result* type: ``outputs x result width x modes needed`` (:func:`cast_bits`).

Which type ``accum_t`` is: the layer's own accumulator precision if it is set; otherwise hls4ml takes
``config.get_precision(layer, 'accum')`` (``Layer._set_accum_t``, hls4ml/model/layers.py, v0.7-v1.3;
``hls_layers.py`` in v0.5-v0.6), which falls back to the model's default precision. A graph does not
record that default; when a layer's result type equals the graph's input type the design was
evidently built from one default precision (``granularity='model'``, as every N-TORC type
``ap_fixed<16,8,AP_RND,AP_SAT>``) and the accumulator carries the same modes; otherwise (per-layer
result types, e.g. QKeras activations ``ap_ufixed<8,0,AP_RND_CONV,AP_SAT>`` after a plain dense) it is
hls4ml's default ``ap_fixed<16,6>`` (:data:`HLS4ML_DEFAULT`), which carries none. Fitting the old rule
(the result type's modes on every product) charged those designs' dense layers with logic HLS never
built.
"""

from __future__ import annotations

import functools

from hw_templates.precision import FixedType

__all__ = ["HLS4ML_DEFAULT", "accumulator_type", "cast_bits", "mode_count", "quant_logic"]

#: hls4ml's default precision (``config_from_*_model``: ``'fixed<16,6>'``, truncating and wrapping).
HLS4ML_DEFAULT = FixedType(16, 6)


def mode_count(t: FixedType) -> int:
    """Non-default modes of ``t``: 1 for rounding (not TRN), 1 for saturation (not WRAP)."""
    return (t.rounding != "TRN") + (t.saturation != "WRAP")


def accumulator_type(result: FixedType, accum: FixedType | None, design_input: FixedType | None) -> FixedType:
    """The type HLS accumulates in (module docstring): ``accum``, else the design default."""
    if accum is not None:
        return accum
    if design_input is None or result == design_input:
        return result
    return HLS4ML_DEFAULT


def cast_bits(source: FixedType, target: FixedType) -> int:
    """Bits of rounding/saturation logic one cast ``source -> target`` builds (0 when it drops nothing).

    Example:
        >>> from hw_templates.precision import FixedType as F
        >>> cast_bits(F(16, 6), F(8, 0, signed=False, rounding="RND_CONV", saturation="SAT"))  # both
        16
        >>> cast_bits(F(16, 6), F(12, 0, signed=False, rounding="RND_CONV", saturation="SAT"))  # keeps fraction
        12
        >>> cast_bits(F(16, 6), F(16, 6, rounding="RND", saturation="SAT"))  # same bits: folded away
        0
    """
    n = 0
    if target.rounding != "TRN" and source.fractional > target.fractional:
        n += 1
    if target.saturation != "WRAP" and (source.integer > target.integer or (source.signed and not target.signed)):
        n += 1
    return n * target.width


@functools.lru_cache(maxsize=4096)
def quant_logic(
    weighted: bool, result: FixedType, accum: FixedType | None, source: FixedType, design_input: FixedType | None
) -> tuple[int, int]:
    """(modes of the accumulator type, bits of the output cast's rounding/saturation logic); see
    :mod:`.quant`. Weighted layers cast from the accumulator, the others from their input."""
    if not weighted:
        return 0, cast_bits(source, result)
    acc_t = accumulator_type(result, accum, design_input)
    return mode_count(acc_t), cast_bits(acc_t, result)
