"""Terms of every IR layer kind: weight layers placed for io_parallel / io_stream, and the rest.

Mechanisms of the layers without weights (hls4ml 1.3 ``nnet_activation.h``, ``nnet_pooling.h``,
``nnet_batchnorm.h``, ``nnet_merge.h``, their ``_stream`` variants):

* ReLU / LeakyReLU / hard activations / linear: one comparator (and for LeakyReLU a constant
  multiply) per value; io_parallel handles every value in one pipelined cycle, io_stream one pixel
  (``n_chan`` values) per cycle.
* Sigmoid, tanh, ELU, SELU, softplus, softsign: a ROM of ``table_size`` entries of ``table_t``
  (default 1024 x ``ap_fixed<18,8>``) read once per value; HLS gives every parallel read its own
  copy of the table. Softmax (``softmax_latency`` / ``softmax_stable``): an exp table read per value,
  an adder tree, one inverse-table read and one multiply per value. ArgyKokk's designs show exactly
  ``n`` BRAM18 for an ``n``-way softmax: the exp copies; the single inverse read is counted as LUT ROM.
  Both tables, the adder tree and the multiply are ``table_t`` wide: the toolkit's own designs say
  ``ap_ufixed<13,1,AP_RND,AP_SAT>`` (``SOFTMAX_TABLE_TYPE`` of :mod:`cost_models.ir`, the
  ``exp_table_t`` / ``inv_table_t`` that ``codesign/export/_softmax_table.py`` writes); a softmax
  with no table type (hls4ml's synthesised designs) is priced at hls4ml's ``ap_fixed<18,8>``.
* BatchNorm: ``data * scale + bias`` per value with constant scale (multiplier limit
  ``ceil(n / rf)``, ``core_templates.py``), modelled as a Latency-strategy ``1 x n`` unit.
* Pooling: ``pool - 1`` comparators (max) or adders (average) per output; global pooling reduces
  over all pixels. io_stream 2D pooling keeps ``pool_height - 1`` line buffers; io_stream global
  pooling reads its pixels in an unpipelined loop (:data:`GLOBAL_POOL_CYCLES`).
* Streamed convolutions (io_stream): the matrix-vector unit's input is the kernel-window register array
  of :func:`~.stream.line_buffer_terms`, so its input registers are counted once, there.
* Add: one adder per value. Concat, Flatten, Reshape, ZeroPadding, UpSampling move data only: in
  io_parallel they are wires (no logic: the estimate is 0 and says so), in io_stream a small
  copy loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from cost_models.analytical._num import Num, ceil, floor, log2_ceil, maximum, minimum
from cost_models.analytical.constants import AnalyticalConstants
from cost_models.analytical.copies import stream_copies
from cost_models.analytical.matvec import Terms, UnitSpec, add_terms, matvec_terms, scale_terms, zero_terms
from cost_models.analytical.memory import memory_bram18
from cost_models.analytical.modules import module_cycles, module_interval
from cost_models.analytical.recurrent import recurrent_terms
from cost_models.analytical.stream import line_buffer_terms, stream_conv_timing
from cost_models.analytical.timing import cycles
from cost_models.ir import Activation, Layer, LayerKind
from cost_models.kinds import RECURRENT_KINDS, KindCoverage
from hw_templates.errors import UnsupportedLayerError
from hw_templates.precision import FixedType

__all__ = ["GLOBAL_POOL_CYCLES", "KIND_COVERAGE", "WIRE_KINDS", "LayerContext", "layer_terms", "softmax_stages"]

#: Cycles per pixel of a streamed global pooling layer: ``global_pooling1d_cl`` / ``global_pooling2d_cl``
#: (hls4ml v0.6-v1.3 ``nnet_pooling_stream.h``) read the input in a loop with no ``PIPELINE`` pragma, so
#: every iteration is a stream read then the max/add update, one after the other. Seen in the ftsipis
#: GlobalMaxPooling1D designs (Vitis HLS 2023.2): interval ``2 * in_width`` + 9 (4,329 cycles for 2,160
#: steps) where the line-buffer convolution before it takes ``in_width`` + 3.
GLOBAL_POOL_CYCLES = 2

#: Kinds that are pure data movement in io_parallel.
WIRE_KINDS = frozenset(k for k in LayerKind if k.info.data_only)
_COMPARATOR_FUNCTIONS = frozenset(
    {Activation.LINEAR, Activation.RELU, Activation.LEAKY_RELU, Activation.HARD_SIGMOID, Activation.HARD_TANH}
)


@dataclass(slots=True)
class LayerContext:
    """Everything about one layer's implementation that the formulas read.

    Built for every layer of every estimate, so a plain slotted record (a frozen dataclass costs a
    guarded ``object.__setattr__`` per field); treat it as read-only.

    Attributes:
        a_bits: input activation width; res_bits / w_bits / acc_bits / table_bits: result, weight,
            accumulator and table widths.
        latency_strategy: Latency (True) or Resource (False).
        stream: io_stream (True) or io_parallel.
        pf: parallelization factor; fifo_depth: output FIFO depth override; encoded: encoded conv.
        dsp_a / dsp_b: DSP port widths; clock_eff_ns: clock period minus uncertainty in reference-device
            ns (:func:`~.timing.clock_budget_ns`: longer on faster families and speed grades).
        mult_impl: multiplier mapping (``MultiplierImpl`` value: auto, dsp, fabric).
        acc_modes: rounding / saturation modes of the accumulator type (see ``UnitSpec``).
        out_cast_bits: rounding / saturation logic bits of one output value's cast into the result
            type (:func:`~.quant.cast_bits`).
        vivado_hls: the design is built by Vivado HLS (``backend: vivado``; see ``UnitSpec``).
        dataflow: ``(channel, port, process, axis)`` register terms of the layer in a DATAFLOW top
            (:func:`~.dataflow.dataflow_registers`), ``None`` where there are none.
        types: ``(accumulator, result, table or None)`` types of a recurrent layer, whose casts between
            the stages of a step :mod:`.recurrent` prices; ``None`` for the other kinds.
        latency_budget_ns: :func:`~.timing.latency_budget_ns` (0: ``clock_eff_ns``).
        w_frac: fractional bits of the weight type (-1: unknown; see ``UnitSpec``).
    """

    a_bits: int
    res_bits: int
    w_bits: int
    acc_bits: int
    table_bits: int
    latency_strategy: bool
    stream: bool
    pf: int
    fifo_depth: int | None
    encoded: bool
    dsp_a: int
    dsp_b: int
    clock_eff_ns: float
    consts: AnalyticalConstants
    mult_impl: str = "auto"
    acc_modes: int = 0
    out_cast_bits: int = 0
    vivado_hls: bool = False
    dataflow: tuple[int, int, int] | None = None
    types: tuple[FixedType, FixedType, FixedType | None] | None = None
    latency_budget_ns: float = 0.0
    w_frac: int = -1

    @property
    def latency_ns(self) -> float:
        """The budget latency chains are measured against (:func:`~.timing.latency_budget_ns`)."""
        return self.latency_budget_ns or self.clock_eff_ns


def layer_terms(layer: Layer, rf: Num, ctx: LayerContext) -> Terms:
    """Terms of ``layer`` at reuse factor(s) ``rf``.

    Raises:
        UnsupportedLayerError: a layer kind or activation this model has no formula for.
    """
    if layer.kind in RECURRENT_KINDS:  # LSTM / GRU: recurrent.py
        terms = recurrent_terms(layer, rf, ctx)
        # the stack's per-step data_in copy and output pack (copies.py)
        terms["copy"] = terms["copy"] + stream_copies(layer, ctx.a_bits, ctx.res_bits, ctx.stream, ctx.vivado_hls)
    elif layer.kind.has_weights:
        terms = _weighted(layer, rf, ctx)
    else:
        handler = _HANDLERS.get(layer.kind)
        if handler is None:
            raise UnsupportedLayerError(
                f"layer {layer.name!r}: the analytical model has no formula for kind {layer.kind.value!r}"
            )
        terms = handler(layer, rf, ctx)
    if ctx.dataflow is not None:  # registers of a DATAFLOW top (dataflow.py)
        for key, value in zip(("channel", "port", "process", "axis"), ctx.dataflow):
            terms[key] = terms[key] + value
    if not ctx.stream:  # each layer is a pipelined module of the top: whole cycles past one (modules.py)
        terms["latency"] = module_cycles(terms["latency"])
        terms["ii"] = module_interval(terms["ii"], terms["latency"])
    return terms


def _unit(n_in: int, n_out: int, layer: Layer, ctx: LayerContext, latency: bool) -> UnitSpec:
    c = ctx
    return UnitSpec(
        n_in,
        n_out,
        c.a_bits,
        c.w_bits,
        c.acc_bits,
        layer.sparsity,
        latency,
        c.mult_impl,
        c.acc_modes,
        c.vivado_hls,
        c.w_frac,
    )


def _weighted(layer: Layer, rf: Num, ctx: LayerContext) -> Terms:
    c = ctx.consts
    units = layer.mult_units()
    total = zero_terms() if len(units) > 1 else None
    unit_latency: Num = 0
    unit_ii: Num = 1
    for n_in, n_out in units:
        t = matvec_terms(_unit(n_in, n_out, layer, ctx, ctx.latency_strategy), rf, ctx.dsp_a, ctx.dsp_b,
                         ctx.clock_eff_ns, c, ctx.latency_ns)  # fmt: skip
        unit_latency = unit_latency + t["latency"]
        unit_ii = t["ii"]
        if total is None:  # one unit (all but separable convolutions): its terms are the layer's
            total = t
        else:
            add_terms(total, t)
    total["quant"] = total["quant"] + units[-1][1] * ctx.out_cast_bits  # res = cast<res_T>(acc), per output
    if ctx.stream:  # a dataflow process: whole cycles per layer (io_parallel chains across layers)
        unit_latency = ceil(unit_latency)
    if layer.kind is LayerKind.DENSE:  # io_stream: + the input reads (AnalyticalModel, stream.dense_reads)
        total["latency"], total["ii"] = unit_latency, unit_ii
        # Vivado HLS io_stream: the data/res array copies of the dense() module (copies.py)
        total["copy"] = stream_copies(layer, ctx.a_bits, ctx.res_bits, ctx.stream, ctx.vivado_hls)
        return total
    total = scale_terms(total, ctx.pf)
    if ctx.stream:
        add_terms(total, {**zero_terms(), **line_buffer_terms(layer, ctx.a_bits, ctx.encoded, c)})
        # The first unit's input registers are the kernel window (``kernel_data``, nnet_conv_stream.h) that
        # line_buffer_terms already counts: ``state`` keeps the rest (accumulators, outputs, further units).
        total["state"] = maximum(total["state"] - units[0][0] * ctx.a_bits, 0)
        total["copy"] = stream_copies(layer, ctx.a_bits, ctx.res_bits, True, ctx.vivado_hls, ctx.pf)  # res_out
        total["latency"], total["ii"] = stream_conv_timing(layer, unit_latency, rf, ctx.latency_strategy, ctx.pf, c)
        return total
    partitions = ceil(layer.output_positions / ctx.pf)
    # the per-partition unit, pipelined at II = rf, restarts one cycle after it ends when that is sooner
    # (modules.module_interval; MuhammadAshraful's 3x3 conv at RF 128, Vitis HLS 2024.1: interval 1,354
    # for 676 partitions, 2 cycles each)
    unit_ii = module_interval(unit_ii, unit_latency)
    total["ii"] = partitions * unit_ii
    total["latency"] = total["ii"] + unit_latency - unit_ii
    return total


def _lanes(layer: Layer, ctx: LayerContext) -> tuple[int, int]:
    """(values handled in parallel, cycles per sample) of an element-wise layer."""
    if ctx.stream and len(layer.output_shape) > 1:
        return layer.output_shape[-1], layer.n_outputs // layer.output_shape[-1]
    return layer.n_outputs, 1


def _timed(t: Terms, cycles_per_sample: int, stages: Num) -> Terms:
    t["ii"] = cycles_per_sample
    t["latency"] = cycles_per_sample + stages
    return t


def _chained(t: Terms, ctx: LayerContext, pixels: int, levels: Num, stages: float) -> Terms:
    """Timing of a comparator/adder layer: ``levels`` operator delays. io_parallel chains them into the
    neighbouring layers' cycles (a fraction of a cycle, see ``AnalyticalModel.combine``); io_stream runs
    one pixel per cycle plus ``stages``. Its output is registered where a cycle ends at it, about
    ``chain / budget`` of the time in io_parallel."""
    if ctx.stream:
        return _timed(t, pixels, stages)
    t["ii"] = 1
    chain = cycles(levels * ctx.consts.t_add_ns / ctx.clock_eff_ns)
    t["latency"] = cycles(levels * ctx.consts.t_add_ns / ctx.latency_ns) + stages
    t["pipe"] = t["pipe"] * minimum(chain, 1.0)  # output registers only where a cycle ends here
    return t


def _activation(layer: Layer, rf: Num, ctx: LayerContext) -> Terms:
    c = ctx.consts
    lanes, pixels = _lanes(layer, ctx)
    t = zero_terms()
    t["control"] = 1
    t["pipe"] = lanes * ctx.res_bits
    t["quant"] = lanes * ctx.out_cast_bits
    function = layer.function
    if function in _COMPARATOR_FUNCTIONS:
        t["compare"] = lanes * ctx.a_bits
        if function is Activation.LEAKY_RELU:
            t["const_mult"] = lanes * 2 * ctx.a_bits * ctx.a_bits / 3  # shift-add by the constant alpha
        return _chained(t, ctx, pixels, 1, c.activation_cycles)
    if function is Activation.SOFTMAX:
        return _softmax(layer, t, lanes, pixels, ctx)
    if function is not None and function.uses_table:
        bram, lut = memory_bram18(ctx.table_bits, layer.table_size, c)
        t["bram18"], t["lut_fixed"] = lanes * bram, lanes * lut
        t["compare"] = lanes * ctx.a_bits  # index range clamp
        return _timed(t, pixels, c.table_cycles)
    raise UnsupportedLayerError(f"layer {layer.name!r}: activation {function!r} has no formula in the analytical model")


def _softmax(layer: Layer, t: Terms, lanes: int, pixels: int, ctx: LayerContext) -> Terms:
    c = ctx.consts
    bram, lut = memory_bram18(ctx.table_bits, layer.table_size, c)
    inv_bits = ctx.table_bits * layer.table_size
    t["bram18"] = lanes * bram
    t["lut_fixed"] = lanes * lut + inv_bits * c.lut_per_lutram_bit
    t["adder"] = (lanes - 1) * ctx.table_bits
    t["compare"] = lanes * ctx.a_bits * 2  # max search + subtraction (stable) / index clamp
    # exp_res[i] * inv_exp_sum: ``config_op mul -impl`` binds every mul of the design, these too (UG1399
    # config_op; ArgyKokk's fabric designs, Vitis HLS 2021.1: 0 DSPs with their softmax)
    dpp_unit = UnitSpec(1, lanes, ctx.table_bits, ctx.table_bits, ctx.res_bits, 0.0, False, ctx.mult_impl)
    mult = matvec_terms(dpp_unit, 1, ctx.dsp_a, ctx.dsp_b, ctx.clock_eff_ns, c)
    t["dsp"] = mult["dsp"]
    t["lut_mult"] = mult["lut_mult"]
    return _timed(t, pixels, softmax_stages(lanes, ctx))


def softmax_stages(lanes: int, ctx: LayerContext) -> Num:
    """Pipeline cycles of ``softmax_stable`` (hls4ml v0.7-v1.3 default, ``nnet_activation.h``) over ``lanes``.

    One pipelined function: ``reduce<Op_max>`` (a balanced tree of ``ceil(log2 n)`` compare-select
    levels), ``data[i] - x_max`` in an ``AP_RND, AP_SAT`` type (an adder), the exp-table read,
    ``reduce<Op_add>`` (``ceil(log2 n)`` adder levels), the inverse-table read, then
    ``exp_res[i] * inv_exp_sum`` (one multiplier). The two table reads are synchronous ROM reads and the
    index and saturation logic around them: :attr:`~.constants.AnalyticalConstants.softmax_cycles`,
    fitted. The rest chains at the clock (:mod:`.timing`): a max level is a comparison (a carry chain as
    long as an adder) then a select of the larger value (about one more adder delay), a sum level one
    adder, so ``3 * levels + 1`` adder delays with the subtraction, and one multiplier. Seen in the softmax
    instances of the ArgyKokk csynth reports (Vitis HLS 2021.1, xc7z007s-2): n = 2 / 6 / 10 at 5 ns take
    8 / 12 / 14 cycles and n = 3 / 5 / 16 at 3.33 ns take 13 / 16 / 20: a level (both trees) costs ~2
    cycles at 5 ns and ~3 at 3.33 ns, ~8.7 ns either way, so the depth follows the clock, not a fixed
    cycle per level (the model before this change).
    """
    c = ctx.consts
    levels = log2_ceil(lanes)
    chain_ns = (3 * levels + 1) * c.t_add_ns + c.t_dsp_mult_ns
    return c.softmax_cycles + ceil(chain_ns / ctx.latency_ns)


def _batchnorm(layer: Layer, rf: Num, ctx: LayerContext) -> Terms:
    """``data * scale + bias`` per value under ``ALLOCATION mul limit=multiplier_limit``.

    hls4ml (``core_templates.py`` ``multiplier_limit = DIV_ROUNDUP(n_in, reuse_factor)``, unchanged
    v0.5-v1.3; batchnorm reuse factors are not snapped to legal values) builds at most
    ``ceil(n_in / rf)`` multipliers, so a reuse factor above ``n_in`` gives one multiplier, not more
    cycles: io_stream (``nnet_batchnorm_stream.h``) pipelines its pixel loop at
    ``II = n_in / multiplier_limit`` (integer division), i.e. at most ``n_in`` cycles per image;
    io_parallel (``nnet_batchnorm.h``) pipelines the function at ``II = reuse_factor`` but its
    schedule needs only ``ceil(n_in / multiplier_limit)`` cycles.
    """
    lanes, pixels = _lanes(layer, ctx)
    n_in = layer.n_inputs
    limit = ceil(n_in / rf)
    units = minimum(lanes, limit)
    unit_rf = ceil(lanes / units)  # the reuse of the multipliers one pipeline iteration uses
    unit = UnitSpec(1, lanes, ctx.a_bits, ctx.w_bits, ctx.res_bits, 0.0, True, ctx.mult_impl, 0, ctx.vivado_hls)
    t = matvec_terms(unit, unit_rf, ctx.dsp_a, ctx.dsp_b, ctx.clock_eff_ns, ctx.consts, ctx.latency_ns)
    t["state"] = 0
    # res = (res_T)(data * scale + bias): one cast per value into the result type (quant.py)
    t["quant"] = lanes * ctx.out_cast_bits
    depth = t["latency"] - t["ii"]
    if ctx.stream:
        depth = ceil(depth)
        return _timed(t, pixels * floor(n_in / limit), depth)
    t["ii"] = rf
    t["latency"] = ceil(n_in / limit) + depth
    return t


def _pool(layer: Layer, rf: Num, ctx: LayerContext) -> Terms:
    window = 1
    for p in layer.pool:
        window *= p
    if layer.kind.value.startswith("global"):
        window = layer.n_inputs // max(layer.in_channels, 1)
    lanes, pixels = _lanes(layer, ctx)
    t = zero_terms()
    t["control"] = 1
    ops = lanes * (window - 1) if not ctx.stream else lanes
    key = "compare" if "max" in layer.kind.value else "adder"
    t[key] = ops * ctx.a_bits
    t["quant"] = lanes * ctx.out_cast_bits
    t["pipe"] = lanes * ctx.res_bits
    if ctx.stream:
        in_pixels = layer.n_inputs // max(layer.in_channels, 1)
        if layer.kind.value.startswith("global"):  # an unpipelined read loop: GLOBAL_POOL_CYCLES per pixel
            return _timed(t, in_pixels * GLOBAL_POOL_CYCLES, ctx.consts.activation_cycles + 1)
        if len(layer.pool) == 2:
            buffer = line_buffer_terms(layer, ctx.a_bits, False, ctx.consts, window=layer.pool)
            add_terms(t, {**zero_terms(), **buffer})
        return _timed(t, in_pixels, ctx.consts.activation_cycles + 1)
    return _chained(t, ctx, pixels, log2_ceil(window), ctx.consts.activation_cycles)


def _add(layer: Layer, rf: Num, ctx: LayerContext) -> Terms:
    lanes, pixels = _lanes(layer, ctx)
    t = zero_terms()
    t["control"] = 1
    t["adder"] = lanes * ctx.res_bits * (max(len(layer.inputs), 2) - 1)
    t["pipe"] = lanes * ctx.res_bits
    return _chained(t, ctx, pixels, log2_ceil(max(len(layer.inputs), 2)), ctx.consts.activation_cycles)


def _move(layer: Layer, rf: Num, ctx: LayerContext) -> Terms:
    t = zero_terms()
    if not ctx.stream or layer.kind in (LayerKind.INPUT, LayerKind.FLATTEN, LayerKind.RESHAPE):
        t["latency"] = 0
        return t
    lanes, pixels = _lanes(layer, ctx)
    t["control"] = 1
    t["pipe"] = lanes * ctx.res_bits
    return _timed(t, pixels, ctx.consts.activation_cycles)


_HANDLERS = {
    LayerKind.ACTIVATION: _activation,
    LayerKind.BATCHNORM: _batchnorm,
    LayerKind.ADD: _add,
    **{k: _move for k in WIRE_KINDS},
    **{k: _pool for k in LayerKind if "pool" in k.value},
}
KIND_COVERAGE = KindCoverage("analytical model", frozenset(_HANDLERS) | {k for k in LayerKind if k.has_weights})
