"""Recurrent layers (LSTM, GRU) as hls4ml builds them: what one time step instantiates, run once per step.

The mechanism, read from hls4ml's Vivado/Vitis templates (``nnet_utils/nnet_recurrent.h`` and
``backends/vivado/passes/recurrent_templates.py``, the same in v0.8.1 and v1.3.0 apart from the
activations' input types; ``init_lstm`` / ``init_gru`` in ``backends/vivado/vivado_backend.py``):

* ``lstm_stack`` / ``gru_stack`` loop over the ``n_sequence`` time steps (io_stream: one stream read of
  ``n_in`` values per step; io_parallel: a slice of the input array). The loop has no ``PIPELINE``
  pragma (it is commented out in the io_stream version), so the steps run one after the other: the
  layer's latency is ``steps x step latency`` and it takes its next input only when done.
* One step (``lstm_static`` / ``gru_static``, the default ``static: true``) calls two ``nnet::dense``
  products with their own configs: the kernel ``n_in x gates * n_state`` at the layer's reuse factor
  (``mult_config1``) and the recurrent ``n_state x gates * n_state`` at ``recurrent_reuse_factor``
  (``mult_config2``), which hls4ml sets to the layer's reuse factor and, under the Resource strategy,
  moves to the closest legal value for the recurrent sizes (``set_closest_reuse_factor(...,
  attribute='recurrent_reuse_factor')``). Both are built exactly like Dense layers
  (:func:`~.matvec.matvec_terms`: Latency with constant weights, or Resource with weight ROMs); they
  are independent, so HLS schedules them side by side and the slower one sets the step.
* Gate sums ``tmpres + tmpres_state`` (``gates * n_state`` adders), then the recurrent activation
  (sigmoid, ``3 * n_state`` values for LSTM i/f/o, ``2 * n_state`` for GRU z/r) and the activation (tanh)
  as lookup tables (``nnet_activation.h``: a ``table_size`` ROM of ``table_t``, read once per value in
  a function pipelined at II 1). A BRAM18 ROM serves two reads per cycle (its two ports; Vivado HLS
  binds ROMs as dual-port ``ROM_2P``, UG902 "Specifying the Core"), so ``ceil(reads / 2)`` copies per
  table function. LSTM calls the same ``tanh`` instantiation twice (candidate, then the new cell state:
  same template arguments, a data dependence between the calls), so it is one function, built once.
* Element-wise products of two variables: LSTM ``c = g*i + c_old*f`` and ``h = o * tanh(c)``, GRU
  ``r * (W_h h)``, ``h_cand*(1-z)`` and ``h_old*z``: ``3 * n_state`` products (DSPs at 16 bits: neither
  operand is a constant) and the adders between them; the new state is cast into ``res_T``.
* State registers: ``static res_T h_state[n_state]`` (and ``s_state`` for LSTM) inside the step
  function plus the copies ``h_newstate`` / ``s_newstate`` the stack keeps: ``2 x states x res bits``;
  the stack's ``data_in[n_in]`` (one step's input); the step function's partitioned arrays between its
  calls (:data:`STEP_ARRAYS`).
* Every call is a sub-module with its own handshake inside a non-pipelined loop body, so each stage of
  the step takes whole cycles: ``ceil(dense) + ceil(gate add) + table + ceil(product + add) + table +
  ceil(product)`` + one cycle for the step's input read and loop iteration.

Nothing here is fitted on recurrent data: the dense units, tables and operator delays use the model's
constants fitted on Dense/Conv/activation rows (:mod:`.constants`), so the N-TORC LSTM rows are an
out-of-source test of this mechanism.

Not modelled: ``static: false`` (the state lives only in the stack's arrays: ``states x res bits``
fewer registers); a ``recurrent_reuse_factor`` set apart from the layer's (hls4ml's config cannot set it
either, "TODO" in ``init_lstm``); ``resource_unrolled`` and bidirectional layers (hls4ml >= 1.0).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cost_models.analytical._num import Num, ceil, maximum
from cost_models.analytical.matvec import Terms, UnitSpec, add_terms, matvec_terms, zero_terms
from cost_models.analytical.memory import memory_bram18
from cost_models.analytical.quant import cast_bits
from cost_models.analytical.timing import cycles
from cost_models.ir import Layer, LayerKind
from cost_models.kinds import RECURRENT_GATES
from hw_templates.precision import FixedType
from hw_templates.reuse import closest_valid_reuse_factor

if TYPE_CHECKING:
    from cost_models.analytical.layers import LayerContext

__all__ = ["recurrent_notes", "recurrent_reuse_factor", "recurrent_terms"]

#: Element-wise products of two variables per state value and step (module docstring).
PRODUCTS_PER_STATE = 3
#: ``accum_t`` values per state value in the step function's completely partitioned arrays, which hold
#: their values across the states of its (not pipelined) schedule, so they are registers
#: (``nnet_recurrent.h`` v0.8.1-v1.3.0): LSTM ``tmpres`` 4, ``tmpres_state`` 4, ``tmpres_ifo`` 3,
#: ``tmpres_c`` 1, ``inputacc_ifo`` 3, ``inputacc_c`` 1, ``s_actstate`` 1; GRU ``tmpres`` 3,
#: ``tmpres_state_zr`` 3, ``tmpres_zr`` 2, ``tmpres_h`` 1, ``inputacc_zr`` 2, ``inputacc_h`` 1,
#: ``tmpres_state_h`` 1.
STEP_ARRAYS = {LayerKind.LSTM: 17, LayerKind.GRU: 13}
#: hls4ml's table type where a layer sets none (``table_t``, ``vivado_backend.py`` RNN attributes, v0.8-v1.3).
DEFAULT_TABLE_TYPE = FixedType(18, 8)
#: Cycles of a step besides its stages: the step's input read / array slice and the loop iteration.
STEP_IO_CYCLES = 1


def recurrent_reuse_factor(layer: Layer, rf: Num, latency: bool) -> Num:
    """The reuse factor hls4ml gives the recurrent product (module docstring): the layer's under the
    Latency strategy, else the closest legal value for ``n_state x gates * n_state``."""
    if latency:
        return rf
    n_in, n_out = layer.mult_units()[1]
    if isinstance(rf, np.ndarray):
        return np.array([closest_valid_reuse_factor(n_in, n_out, int(v)) for v in rf.ravel()], float).reshape(rf.shape)
    return closest_valid_reuse_factor(n_in, n_out, int(rf))


def recurrent_notes(layer: Layer, rf: int, latency: bool) -> tuple[str, ...]:
    """A note when hls4ml moves the recurrent product's reuse factor away from the layer's."""
    recurrent = recurrent_reuse_factor(layer, rf, latency)
    if recurrent == rf:
        return ()
    n_in, n_out = layer.mult_units()[1]
    return (
        f"recurrent product {n_in}x{n_out} at reuse factor {recurrent}: hls4ml moves the layer's {rf} to the "
        "closest legal value for it (recurrent_reuse_factor)",
    )


def _unit(n_in: int, n_out: int, a_bits: int, layer: Layer, ctx: LayerContext) -> UnitSpec:
    c = ctx
    return UnitSpec(
        n_in, n_out, a_bits, c.w_bits, c.acc_bits, layer.sparsity, c.latency_strategy, c.mult_impl, c.acc_modes,
        c.vivado_hls, c.w_frac,
    )  # fmt: skip


def _tables(reads: int, table_size: int, ctx: LayerContext) -> Terms:
    """One table activation function reading ``reads`` values per call (module docstring)."""
    t = zero_terms()
    bram, lut = memory_bram18(ctx.table_bits, table_size, ctx.consts)
    copies = -(-reads // 2)
    t["bram18"], t["lut_fixed"] = copies * bram, copies * lut
    t["compare"] = reads * ctx.acc_bits  # index range clamp per read (nnet_activation.h)
    t["control"] = 1
    return t


def _plain(width: int, integer: int) -> FixedType:
    return FixedType(width, integer)  # an intermediate sum or product: full precision, no modes


def _casts(layer: Layer, ctx: LayerContext) -> int:
    """Rounding/saturation logic bits (feature ``quant``, :mod:`.quant`) of the casts between a step's
    stages (``nnet_recurrent.h``): every gate sum ``tmpres + tmpres_state`` into ``accum_t``, every table
    read (``table_t``) into the activation's output type (``accum_t`` in v1.3, ``weight_t`` in v0.8),
    and the new state cast into ``res_T`` (LSTM ``c = g*i + c*f`` and ``h = o*tanh(c)``; GRU ``r*(W_h h)``
    into ``accum_t`` and ``h = h_cand*(1-z) + h*z`` into ``res_T``)."""
    acc, res, table = ctx.types or (FixedType(ctx.acc_bits, ctx.acc_bits // 2), FixedType(ctx.res_bits, 0), None)
    table = table or DEFAULT_TABLE_TYPE
    gates, states = RECURRENT_GATES[layer.kind], int(layer.units or 0)
    gate_sum = _plain(acc.width + 1, acc.integer + 1)
    product = _plain(2 * acc.width, 2 * acc.integer)
    two_products = _plain(2 * acc.width + 1, 2 * acc.integer + 1)
    bits = gates * states * (cast_bits(gate_sum, acc) + cast_bits(table, acc))
    if layer.kind is LayerKind.LSTM:
        return bits + states * (cast_bits(two_products, res) + cast_bits(product, res))
    return bits + states * (cast_bits(product, acc) + cast_bits(two_products, res))


def _elementwise(layer: Layer, ctx: LayerContext) -> Terms:
    """Gate sums, the variable x variable products and the state update (module docstring)."""
    gates, states = RECURRENT_GATES[layer.kind], int(layer.units or 0)
    products = PRODUCTS_PER_STATE * states
    unit = UnitSpec(1, products, ctx.acc_bits, ctx.acc_bits, ctx.res_bits, 0.0, False, ctx.mult_impl, 0,
                    ctx.vivado_hls)  # fmt: skip
    mult = matvec_terms(unit, 1, ctx.dsp_a, ctx.dsp_b, ctx.clock_eff_ns, ctx.consts)
    t = zero_terms()
    for key in ("dsp", "lut_mult", "mult_reg"):
        t[key] = mult[key]
    # gate sums (gates x states) + the adds of the state update (LSTM g*i + c*f; GRU the mix and 1 - z)
    t["adder"] = (gates + 1) * states * ctx.acc_bits
    t["quant"] = _casts(layer, ctx)
    # the step function's partitioned arrays (registers: the function is not pipelined)
    t["pipe"] = STEP_ARRAYS[layer.kind] * states * ctx.acc_bits
    return t


def _step_cycles(kernel: Terms, recurrent: Terms, ctx: LayerContext) -> Num:
    c = ctx.consts
    t_mult = c.t_dsp_mult_ns
    dense = ceil(maximum(kernel["latency"], recurrent["latency"]))
    add = ceil(cycles(c.t_add_ns / ctx.clock_eff_ns))
    update = ceil(cycles((t_mult + c.t_add_ns) / ctx.clock_eff_ns))
    output = ceil(cycles(t_mult / ctx.clock_eff_ns))
    return dense + add + c.table_cycles + update + c.table_cycles + output + STEP_IO_CYCLES


def recurrent_terms(layer: Layer, rf: Num, ctx: LayerContext) -> Terms:
    """Terms of an LSTM or GRU layer at reuse factor(s) ``rf`` (module docstring).

    Example:
        >>> from cost_models.ir import GraphBuilder
        >>> from hw_templates.precision import FixedType
        >>> b = GraphBuilder("r", (8, 16), FixedType(16, 8))
        >>> lstm = b.add("lstm", units=8, return_sequences=True)
        >>> lstm.mult_units()  # kernel and recurrent products of one step
        ((16, 32), (8, 32))
    """
    gates, states = RECURRENT_GATES[layer.kind], int(layer.units or 0)
    (k_in, k_out), (r_in, r_out) = layer.mult_units()
    kernel = matvec_terms(_unit(k_in, k_out, ctx.a_bits, layer, ctx), rf, ctx.dsp_a, ctx.dsp_b, ctx.clock_eff_ns,
                          ctx.consts)  # fmt: skip
    r_rf = recurrent_reuse_factor(layer, rf, ctx.latency_strategy)
    recurrent = matvec_terms(_unit(r_in, r_out, ctx.res_bits, layer, ctx), r_rf, ctx.dsp_a, ctx.dsp_b,
                             ctx.clock_eff_ns, ctx.consts)  # fmt: skip
    total = zero_terms()
    for part in (kernel, recurrent, _elementwise(layer, ctx)):
        add_terms(total, part)
    sigmoid_reads = (gates - 1) * states
    add_terms(total, _tables(sigmoid_reads, layer.table_size, ctx))
    # tanh: one function (LSTM calls it twice, one after the other)
    add_terms(total, _tables(states, layer.table_size, ctx))
    n_states = 2 if layer.kind is LayerKind.LSTM else 1
    # h (and c) twice (static state + the stack's copy), and the stack's data_in[n_in] slice of one step
    total["state"] = total["state"] + 2 * n_states * states * ctx.res_bits + k_in * ctx.a_bits
    total["control"] = total["control"] + 2  # the stack's step loop and the step function
    step = _step_cycles(kernel, recurrent, ctx)
    total["latency"] = layer.steps * step + STEP_IO_CYCLES
    total["ii"] = total["latency"] if not ctx.stream else layer.steps * step
    return total
