"""The matrix-vector unit behind Dense and Conv layers, under hls4ml's Latency and Resource strategies.

Every formula works on scalars and on numpy arrays of reuse factors (see :mod:`._num`). The result
is a *terms* dict: direct counts (``dsp``, ``bram18``, ``lut_fixed``, ``ff_fixed``), mechanism
features that fitted coefficients turn into LUTs and FFs (:data:`~.constants.LUT_FEATURES`,
:data:`~.constants.FF_FEATURES`), and the unit's ``latency`` / ``ii`` in cycles.

Latency strategy (hls4ml 1.3 ``nnet_dense_latency.h``, ``backends/vivado/passes/core_templates.py``):

* The loop is pipelined with ``II = reuse_factor``; weights are constants, so zero weights cost
  nothing and a share of the constant products become shift-add LUT logic
  (:attr:`~.constants.AnalyticalConstants.const_dsp_fraction`).
* ``#pragma HLS ALLOCATION operation instances=mul limit=multiplier_limit`` with
  ``multiplier_limit = ceil(n_in * n_out / rf) - floor(n_zeros / rf)`` caps the multipliers. A
  shared multiplier sees ``rf`` different constants through a multiplexer, so it is a generic
  multiplier (a DSP when wide).
* One accumulation adder per product (``acc[jj] += mult[index]``, balanced into a tree by HLS).

Resource strategy (``nnet_dense_resource.h``):

* ``block_factor = ceil(n_in * n_out / rf)`` multipliers, each fed by a multiplexer over the
  ``min(rf, n_in)`` inputs it serves; zero weights are *not* dropped.
* Weights are reshaped by ``block_factor`` into a ROM ``block_factor * weight_bits`` wide and ``rf``
  deep (``ARRAY_RESHAPE ... block factor=block_factor``; ``RESOURCE core=ROM_nP_BRAM`` when rf > 1).
* ``ReuseLoop`` runs ``rf`` iterations at II 1: latency ``rf`` + pipeline depth; interval ``rf``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cost_models.analytical._num import Num, ceil, floor, log2_ceil, maximum, minimum, where
from cost_models.analytical.constants import AnalyticalConstants
from cost_models.analytical.memory import memory_bram18
from cost_models.analytical.multipliers import dsp_per_product

__all__ = ["UnitSpec", "add_terms", "matvec_terms", "scale_terms", "zero_terms"]

Terms = dict


@dataclass(frozen=True)
class UnitSpec:
    """One ``n_in x n_out`` multiplication unit and its number formats.

    Attributes:
        n_in / n_out: the unit's size (``Layer.mult_units()``).
        a_bits / w_bits / acc_bits: data, weight and accumulator widths.
        sparsity: fraction of zero weights.
        latency: True for the Latency strategy, False for Resource.
    """

    n_in: int
    n_out: int
    a_bits: int
    w_bits: int
    acc_bits: int
    sparsity: float
    latency: bool


def zero_terms() -> Terms:
    return {
        "dsp": 0, "bram18": 0, "lut_fixed": 0, "ff_fixed": 0,
        "lut_mult": 0, "const_mult": 0, "adder": 0, "mac_lane": 0, "mux": 0, "compare": 0, "control": 0,
        "pipe": 0, "state": 0, "latency": 0, "ii": 1,
    }  # fmt: skip


def add_terms(into: Terms, other: Terms) -> Terms:
    """Add ``other``'s resources into ``into`` (latency and II are left to the caller)."""
    for key, value in other.items():
        if key not in ("latency", "ii"):
            into[key] = into[key] + value
    return into


def scale_terms(terms: Terms, factor: Num) -> Terms:
    """Resources times ``factor`` (replicated units); latency and II unchanged."""
    return {k: (v if k in ("latency", "ii") else v * factor) for k, v in terms.items()}


def matvec_terms(
    unit: UnitSpec, rf: Num, dsp_a: int, dsp_b: int, clock_eff_ns: float, consts: AnalyticalConstants
) -> Terms:
    """Terms of one multiplication unit at reuse factor(s) ``rf`` (one call computes one vector).

    Example:
        >>> from cost_models.analytical.constants import DEFAULT_CONSTANTS as C
        >>> t = matvec_terms(UnitSpec(16, 64, 16, 16, 32, 0.0, False), 1, 27, 18, 4.0, C)
        >>> int(t["dsp"])  # Resource strategy, RF 1: one DSP per product
        1024
    """
    if unit.latency:
        return _latency_unit(unit, rf, dsp_a, dsp_b, clock_eff_ns, consts)
    return _resource_unit(unit, rf, dsp_a, dsp_b, clock_eff_ns, consts)


def _latency_unit(u: UnitSpec, rf: Num, dsp_a: int, dsp_b: int, clock_eff_ns: float, c: AnalyticalConstants) -> Terms:
    n_mult = u.n_in * u.n_out
    n_zero = floor(n_mult * u.sparsity)
    nnz = n_mult - n_zero
    limit = ceil(n_mult / rf) - floor(n_zero / rf)
    units = maximum(minimum(nnz, limit), 1)
    dpp = dsp_per_product(u.a_bits, u.w_bits, dsp_a, dsp_b, c)
    wide = dpp > 0
    dsp_units = where(wide, minimum(ceil(c.const_dsp_fraction * nnz), units), 0)
    lut_units = units - dsp_units
    shared_sources = ceil(nnz / units)
    t = zero_terms()
    t["dsp"] = dsp_units * dpp
    t["const_mult"] = lut_units * u.a_bits * u.w_bits
    t["adder"] = units * u.acc_bits
    t["mux"] = units * (u.a_bits + u.w_bits) * (shared_sources - 1)
    t["pipe"] = units * (u.a_bits + u.w_bits + u.acc_bits)
    t["state"] = u.n_in * u.a_bits + u.n_out * u.acc_bits
    t["control"] = 1
    fan_in = maximum(nnz / u.n_out, 1) + 1
    t_mult = where(wide, c.t_dsp_mult_ns, c.t_lut_mult_ns)
    depth = ceil((t_mult + log2_ceil(fan_in) * c.t_add_ns) / clock_eff_ns)
    t["latency"] = depth + c.latency_overhead_cycles + (rf - 1)
    t["ii"] = rf
    return t


def _resource_unit(u: UnitSpec, rf: Num, dsp_a: int, dsp_b: int, clock_eff_ns: float, c: AnalyticalConstants) -> Terms:
    n_mult = u.n_in * u.n_out
    block = ceil(n_mult / rf)
    dpp = dsp_per_product(u.a_bits, u.w_bits, dsp_a, dsp_b, c)
    wide = dpp > 0
    t = zero_terms()
    t["dsp"] = block * dpp
    t["lut_mult"] = where(wide, 0, block * u.a_bits * u.w_bits)
    # A Resource MAC lane: accumulator adder plus the read-modify-write of acc[out_index] and its
    # pipeline registers; its LUT cost per bit is fitted separately from the Latency adder tree.
    t["mac_lane"] = block * u.acc_bits
    # Multiplier im reads data[(ir + im * rf) % n_in] over ir < rf: min(rf, n_in) sources; for
    # rf > n_in it also accumulates into rf / n_in different outputs.
    in_sources = minimum(rf, u.n_in)
    out_sources = maximum(rf / u.n_in, 1)
    t["mux"] = block * (u.a_bits * (in_sources - 1) + u.acc_bits * (out_sources - 1))
    bram, rom_lut = memory_bram18(block * u.w_bits, rf, c)
    stored = rf > 1  # rf == 1 keeps the weights as constants (no ROM pragma in nnet_dense_resource.h)
    t["bram18"] = where(stored, bram, 0)
    t["lut_fixed"] = where(stored, rom_lut, 0)
    t["pipe"] = block * (u.a_bits + u.w_bits + u.acc_bits)
    t["state"] = u.n_in * u.a_bits + u.n_out * u.acc_bits
    t["control"] = 1
    t_mult = where(wide, c.t_dsp_mult_ns, c.t_lut_mult_ns)
    depth = ceil((t_mult + c.t_add_ns) / clock_eff_ns)
    t["latency"] = rf + depth + c.resource_overhead_cycles
    t["ii"] = rf
    return t
