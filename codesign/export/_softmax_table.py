"""hls4ml's table softmax as its C model computes it (hls4ml 1.3.0 ``nnet_utils/nnet_activation.h``,
``softmax_stable``, the default implementation; types from ``backends/fpga/fpga_backend.py`` and
``backends/vivado/passes/core_templates.py``), for the verification of designs ending in a softmax.

Facts reproduced, for the default types (all ``ap_fixed<18,8,AP_RND,AP_SAT>``: ``exp_table_t``,
``inv_table_t``, ``accum_t``, ``inv_inp_t``; ``inp_norm_t`` ``ap_ufixed<18,8>``) and ``N`` = table size
(1024, 10 address bits):

* ``d_i = max(x) - x_i`` is stored as ``inp_norm_t`` (truncated to 10 fraction bits, wrapping above 256);
* the exp table is addressed by the top 10 bits of ``d_i`` (so ``index = floor(4 d_i)``); entry ``i`` is
  ``exp(-i / 4)`` in single precision, rounded (``AP_RND``: half up) to 10 fraction bits;
* the entries are summed exactly (``accum_t``), the sum addresses the inverse table by the top 10 bits
  of its 18-bit two's-complement pattern (``index = floor(4 sum)``); entry ``j`` is ``1 / (j / 4)`` in
  single precision (``j >= 512`` are negative patterns), rounded to 10 fraction bits, saturating at
  ``2^7 - 2^-10``;
* output ``i`` is ``exp_i * inv`` (exact), then cast to the layer's result type (the quantizer that
  follows; :class:`codesign.models.builder.FinalSoftmax` applies it).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from cost_models.ir import DEFAULT_TABLE_SIZE
from hw_templates.errors import ExportError

__all__ = ["check_written_softmax", "softmax_stable"]

_FRAC = 10  # fraction bits of the 18-bit, 8-integer-bit table types
_MAX = 2.0**7 - 2.0**-_FRAC


def _round_half_up(value: np.ndarray) -> np.ndarray:
    return np.clip(np.floor(value * 2.0**_FRAC + 0.5) / 2.0**_FRAC, -(2.0**7), _MAX)


def _exp_table(size: int) -> np.ndarray:
    step = 2.0 ** (8 - int(np.log2(size)))  # value of one index step of the 18-bit ap_ufixed<18,8>
    x = (np.arange(size) * step).astype(np.float32)
    return _round_half_up(np.exp(-x).astype(np.float64))


def _inv_table(size: int) -> np.ndarray:
    bits = int(np.log2(size))
    raw = np.arange(size, dtype=np.int64) << (18 - bits)
    raw = np.where(raw >= 2**17, raw - 2**18, raw)  # the top bit is the sign of ap_fixed<18,8>
    x = (raw / 2.0**_FRAC).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = (np.float32(1) / x).astype(np.float64)
    return _round_half_up(np.nan_to_num(inv, posinf=_MAX, neginf=-(2.0**7)))


def softmax_stable(logits: np.ndarray, size: int = DEFAULT_TABLE_SIZE) -> np.ndarray:
    """hls4ml's ``softmax_stable`` over the last axis of ``logits`` (exact fixed-point values, float64),
    before the cast to the result type."""
    bits = int(np.log2(size))
    d = np.max(logits, axis=-1, keepdims=True) - logits
    d = np.mod(np.floor(d * 2.0**_FRAC) / 2.0**_FRAC, 256.0)  # ap_ufixed<18,8>: truncate, wrap
    exp = _exp_table(size)[np.floor(d * 2.0 ** (bits - 8)).astype(np.int64)]
    total = np.clip(exp.sum(axis=-1, keepdims=True), -(2.0**7), _MAX)  # accum_t saturates
    index = (np.floor(total * 2.0**_FRAC).astype(np.int64) >> (18 - bits)) & (size - 1)
    return exp * _inv_table(size)[index]


def check_written_softmax(project: Path) -> None:
    """Refuse a written softmax whose types differ from what :func:`softmax_stable` models: hls4ml derives
    ``inp_norm_t`` from the softmax input's type when it writes the project (e.g. ``ap_ufixed<18, 6>``
    behind a tanh layer, ``ap_ufixed<18, 8>`` behind a relu one in the measured designs).

    Raises:
        ExportError: naming the type, before the C simulation runs.
    """
    path = project / "firmware" / "parameters.h"
    text = path.read_text() if path.is_file() else ""
    for found in re.findall(r"typedef\s+([^;]*?)\s+inp_norm_t;", text):
        if found.replace(" ", "") != "ap_ufixed<18,8>":
            raise ExportError(
                f"softmax: hls4ml built it with inp_norm_t {found} (derived from its input's type); the "
                "verification models only ap_ufixed<18,8> (steps of 1/4), so this design cannot be checked yet; "
                "end the design with the logits to export it"
            )
    for found in re.findall(r"softmax_implementation::(\w+)", text):
        if found != "stable":
            raise ExportError(f"softmax: hls4ml built the {found} implementation; the verification models stable only")
