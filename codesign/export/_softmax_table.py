"""hls4ml's table softmax as its C model computes it (hls4ml 1.3.0 ``nnet_utils/nnet_activation.h``,
``softmax_stable``; config fields from ``backends/vivado/passes/core_templates.py``), with the types the
toolkit writes into the hls4ml config (:func:`softmax_tables`), so the trained model's softmax, the
verification reference and the built project are one function.

Why the toolkit sets the types: with hls4ml's defaults (every table type ``ap_fixed<18,8>``,
``inp_norm_t`` derived from the input type, e.g. ``ap_ufixed<18,8>``) the exp table is addressed by the
top 10 bits of ``max(x) - x``, in steps of 1/4, and the inverse table by the sum in steps of 1/4: close
logits tie and the outputs differ from a float softmax by up to 0.19 (argmax agreement 91-96 % on four
seeds of the 64-12-10 digits test design). The toolkit's types spend the same 1024-entry tables on the
range that matters: ``max(x) - x`` saturating in ``[0, 16)`` (steps of 1/64), entries and inverses in
``[0, 1]`` with 12 fraction bits, the sum exact, the inverse addressed in steps of ``2^(c+1)/1024``
(``c = ceil(log2(n))``): largest difference from a float softmax 1/64, argmax agreement 98.9-100 %.

What the C model does, for ``N = 2^b`` table entries:

* ``d_i = max(x) - x_i`` is cast to ``inp_norm_t``; the exp table is addressed by its top ``b`` bits;
  entry ``i`` is ``exp(-v)`` for ``v`` the ``inp_norm_t`` value whose top bits are ``i`` (single
  precision), cast to ``exp_table_t``;
* the entries are cast to ``accum_t`` and summed, the sum cast to ``inv_inp_t``, whose top ``b`` bits
  address the inverse table (entry ``j``: ``1 / v`` in single precision, cast to ``inv_table_t``);
* output ``i`` is ``exp_i * inv`` (exact), then cast to the layer's result type (the quantizer that
  follows; :class:`codesign.models.builder.FinalSoftmax` applies it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cost_models.ir import DEFAULT_TABLE_SIZE, SOFTMAX_TABLE_TYPE
from hw_templates.errors import ExportError
from hw_templates.precision import FixedType

__all__ = ["SoftmaxTables", "cast", "check_written_softmax", "softmax_stable", "softmax_tables"]

#: ``max(x) - x`` saturates at 16: exp(-16) ~ 1e-7 is below any output type's step worth building.
_NORM_INTEGER = 4


@dataclass(frozen=True)
class SoftmaxTables:
    """The types and table size of one softmax (the ``*_t`` fields of hls4ml's softmax config)."""

    size: int
    inp_norm: FixedType
    exp_table: FixedType
    accum: FixedType
    inv_inp: FixedType
    inv_table: FixedType

    def hls4ml_settings(self) -> dict[str, object]:
        """The hls4ml layer config that builds these tables (``accum`` goes through ``Precision``:
        hls4ml sets ``accum_t`` before it reads the other ``*_t`` keys)."""
        return {
            "Implementation": "stable",
            "TableSize": self.size,
            "inp_norm_t": self.inp_norm.to_hls(),
            "exp_table_t": self.exp_table.to_hls(),
            "inv_inp_t": self.inv_inp.to_hls(),
            "inv_table_t": self.inv_table.to_hls(),
            "Precision": {"accum": self.accum.to_hls()},
        }


def softmax_tables(n: int, size: int = DEFAULT_TABLE_SIZE) -> SoftmaxTables:
    """The toolkit's tables for a softmax over ``n`` values with ``size`` entries per table."""
    bits, carry = int(math.log2(size)), max(1, math.ceil(math.log2(n)))
    if 2**bits != size or bits < _NORM_INTEGER + 1:
        raise ExportError(f"softmax: table_size must be a power of two >= 32, got {size}")
    # exp(-d) and 1/sum, both in (0, 1], with 12 fraction bits: their products are exact in single
    # precision, in which the trained model computes (so its result quantizer rounds what hls4ml rounds)
    unit = SOFTMAX_TABLE_TYPE  # ap_ufixed<13,1,AP_RND,AP_SAT>; the cost model prices the same type
    return SoftmaxTables(
        size=size,
        inp_norm=FixedType(bits, _NORM_INTEGER, False, "TRN", "SAT"),
        exp_table=unit,
        accum=FixedType(unit.width + carry, 1 + carry, False, "RND", "SAT"),  # n entries <= 1: exact sum
        inv_inp=FixedType(bits, 1 + carry, False, "TRN", "SAT"),
        inv_table=unit,
    )


def cast(values: np.ndarray, t: FixedType) -> np.ndarray:
    """``values`` (exact, float64) converted to ``t`` as ap_fixed does (TRN, RND, RND_CONV; SAT or WRAP)."""
    scaled = np.asarray(values, np.float64) * 2.0**t.fractional
    rounders = {"TRN": np.floor, "RND": lambda s: np.floor(s + 0.5), "RND_CONV": np.round}
    if t.rounding not in rounders or t.saturation not in ("SAT", "WRAP"):
        raise ExportError(f"softmax table model: type {t} is not modelled (rounding TRN/RND/RND_CONV, SAT/WRAP)")
    steps = rounders[t.rounding](scaled)
    low = -(2.0 ** (t.width - 1)) if t.signed else 0.0
    if t.saturation == "WRAP":
        steps = np.mod(steps - low, 2.0**t.width) + low
    else:
        steps = np.clip(steps, low, low + 2.0**t.width - 1)
    return steps / 2.0**t.fractional


def _address(values: np.ndarray, t: FixedType, bits: int) -> np.ndarray:
    """The top ``bits`` bits of the ``t`` bit pattern of ``values`` (already of type ``t``)."""
    raw = np.round(values * 2.0**t.fractional).astype(np.int64) & (2**t.width - 1)
    return raw >> (t.width - bits)


def _entry_inputs(t: FixedType, size: int) -> np.ndarray:
    """The ``t`` value whose top bits are the index, for every index (``softmax_real_val_from_idx``)."""
    bits = int(math.log2(size))
    raw = np.arange(size, dtype=np.int64) << (t.width - bits)
    if t.signed:
        raw = np.where(raw >= 2 ** (t.width - 1), raw - 2**t.width, raw)
    return (raw / 2.0**t.fractional).astype(np.float32)


def _tables(tables: SoftmaxTables) -> tuple[np.ndarray, np.ndarray]:
    x = _entry_inputs(tables.inp_norm, tables.size).astype(np.float64)
    exp = cast(np.exp(-x).astype(np.float32), tables.exp_table)  # a correctly rounded expf
    with np.errstate(divide="ignore"):
        inv = (np.float32(1) / _entry_inputs(tables.inv_inp, tables.size)).astype(np.float64)
    big = 2.0**tables.inv_table.integer
    return exp, cast(np.nan_to_num(inv, posinf=big, neginf=-big), tables.inv_table)


def softmax_stable(logits: np.ndarray, tables: SoftmaxTables) -> np.ndarray:
    """hls4ml's ``softmax_stable`` with ``tables`` over the last axis of ``logits`` (exact fixed-point
    values, float64), before the cast to the result type."""
    bits = int(math.log2(tables.size))
    exp_table, inv_table = _tables(tables)
    d = cast(np.max(logits, axis=-1, keepdims=True) - logits, tables.inp_norm)
    exp = cast(exp_table[_address(d, tables.inp_norm, bits)], tables.accum)
    total = cast(cast(exp.sum(axis=-1, keepdims=True), tables.accum), tables.inv_inp)
    return exp * inv_table[_address(total, tables.inv_inp, bits)]


def check_written_softmax(project: Path) -> None:
    """Refuse a written softmax whose types or sizes differ from :func:`softmax_tables` (what the reference
    model computed): hls4ml would then have picked them itself.

    Raises:
        ExportError: naming the type, before the C simulation runs.
    """
    firmware = project / "firmware"
    params = (firmware / "parameters.h").read_text() if (firmware / "parameters.h").is_file() else ""
    defines = (firmware / "defines.h").read_text() if (firmware / "defines.h").is_file() else ""
    named = {b: a for a, b in re.findall(r"typedef\s+([^;]*?)\s+(\w+);", defines)}
    for body in re.findall(r"struct\s+\w+\s*:\s*nnet::activ_config\s*\{(.*?)\};", params, re.S):
        if "softmax_implementation" in body:
            _check_config(body, named)


def _check_config(body: str, named: dict[str, str]) -> None:
    implementation = re.search(r"softmax_implementation::(\w+)", body)
    if implementation and implementation.group(1) != "stable":
        raise ExportError(f"softmax: hls4ml built the {implementation.group(1)} implementation, not stable")
    fields = dict(re.findall(r"static const unsigned (\w+) = (\d+);", body))
    expected = softmax_tables(int(fields["n_slice"]), int(fields["exp_table_size"]))
    if int(fields["inv_table_size"]) != expected.size:
        raise ExportError(f"softmax: hls4ml wrote inv_table_size {fields['inv_table_size']}, not {expected.size}")
    for field, wanted in vars(expected).items():
        found = re.search(rf"typedef\s+([^;]*?)\s+{field}_t;", body)
        if field == "size" or found is None:
            continue
        written = named.get(found.group(1), found.group(1))
        if FixedType.parse(_spelling(written)) != wanted:
            raise ExportError(
                f"softmax: hls4ml built {field}_t as {written}, the toolkit wrote {wanted} (and its reference "
                "model computes with it); this design cannot be checked"
            )


def _spelling(written: str) -> str:
    """An ap_fixed spelling as the toolkit's parser reads it (hls4ml appends the saturation-bit count)."""
    return re.sub(r",\s*0\s*>$", ">", written.replace(" ", ""))
