"""The matrix-vector unit behind Dense and Conv layers, under hls4ml's Latency and Resource strategies.

Every formula works on scalars and on numpy arrays of reuse factors (see :mod:`._num`). The result
is a *terms* dict: direct counts (``dsp``, ``bram18``, ``lut_fixed``, ``ff_fixed``), mechanism
features that fitted coefficients turn into LUTs and FFs (:data:`~.constants.LUT_FEATURES`,
:data:`~.constants.FF_FEATURES`), and the unit's ``latency`` / ``ii`` in cycles.

Latency strategy (hls4ml 1.3 ``nnet_dense_latency.h``, ``backends/vivado/passes/core_templates.py``):

* The loop is pipelined with ``II = reuse_factor``; weights are constants, so zero weights cost
  nothing and a share of the constant products become shift-add LUT logic. Which ones follows the
  constant's own width (:func:`constant_widths`): a product by a constant that needs at most
  ``lut_mult_max_bits`` bits is built as shift-add logic, a wider one stays a multiplication (DSP), as
  for products with a narrow variable operand (:mod:`.multipliers`). The constants' widths come from the
  weight type's fractional bits and half-normal weight magnitudes of one fitted scale
  (:attr:`~.constants.AnalyticalConstants.weight_scale`). Seen in the csynth Latency rows (measured DSPs
  per product with a wide data operand): 0 for ``ap_fixed<8,3>`` / ``<8,5>`` weights (karlis-susters,
  CestMerNeil LeNet), 0.43-0.62 for N-TORC's ``<16,8>``, 0.78-0.89 for ``<16,6>`` (camillaMiao, Thifjj,
  karlis-susters 16-bit, tanvirana pruned); one fitted share (the former ``const_dsp_fraction``, still used
  where the weight type is unknown) could not follow that.
* ``#pragma HLS ALLOCATION operation instances=mul limit=multiplier_limit`` with
  ``multiplier_limit = ceil(n_in * n_out / rf) - floor(n_zeros / rf)`` (``product::limit`` in
  hls4ml v0.5, the pragma itself from v0.6 to v1.3) caps the ``mul`` *operations* only. The products
  HLS keeps as multiplications (DSPs) then take turns on ``multiplier_limit`` DSPs through operand
  multiplexers, ``ceil(mul_ops / limit)`` turns, which is what lengthens the latency; the products by a
  constant that HLS turned into shift-add logic are no ``mul`` operation, so they, the adders and the
  tree stay fully unrolled at any reuse factor. Seen in the Latency rows at RF > 1 of three sources
  (ArgyKokk, Vitis HLS 2021.1, RF 100: LUT and FF within ~10 % of RF 1, DSP = multiplier_limit, latency
  +30..100 cycles, not +rf per layer; karlis-susters RF 8 and Gabriele-bot RF 16-64, Vivado HLS
  2019.2/2020.1: LUT 3-10x what RF 1 + multiplexers predicted).
* One accumulation adder per product (``acc[jj] += mult[index]``, balanced into a tree by HLS).
* Products held across turns (FF feature ``pipe``): when the ``mul`` operations take turns
  (``PIPELINE II=reuse_factor`` with ``ALLOCATION``, above), the products of one input vector are computed
  in different cycles of the ``rf``-cycle schedule, and no output's adder tree can complete before its
  last product exists; every product value crosses at least one cycle boundary before the tree consumes
  it, and the scheduler keeps a value that lives across a cycle boundary in a register (UG1399 / UG902
  "Scheduling": registers at every clock boundary of a pipelined schedule). So at least one register of
  the product's width (``acc_bits``, ``mult[]`` is ``accum_t`` in ``nnet_dense_latency.h``) per product,
  where the clock-driven count (:func:`~.timing.tree_registers`) is lower. Seen in ArgyKokk (Vitis HLS
  2021.1, RF 2 and 100: measured FF 0.66-0.9x their RF-1 design's, far above a count from timing alone) and
  Gabriele-bot (Vivado HLS 2020.1, Latency at RF 16-64: 69,634 FF for 4,256 16-bit products, about one
  register per product).
* A constant product built in LUTs is a shift-add network: a constant with ``d`` non-zero
  canonical-signed-digit (CSD) digits adds ``d`` shifted copies of the data, ``d - 1`` adders ``a + w`` bits
  wide (none for a power of two), ``w`` the mean width of the constants built that way
  (:func:`constant_widths`, :func:`constant_adders`; Hartley, "Subexpression sharing in filters using
  canonic signed digit multipliers", IEEE TCAS-II 1996; the CSD form has the fewest non-zero digits,
  Reitwiesner 1960). Feature ``const_mult``, one LUT per adder bit in the HLS estimate (``adder`` too;
  ``hls_lut_*`` in :data:`~.constants.COEF_BOUNDS`). Counted as ``w / 3`` adders (the average CSD density
  alone) the feature charged one adder too many per constant, ~1.6-2x for the 3-5-bit constants most
  designs have, and the fit halved the LUT per adder bit to make up for it.
* A generic (shared, non-constant) product built in LUTs costs ~``a * b / 2`` LUT6 for small widths:
  the Vivado array multiplier packs two partial-product bits per LUT6 with the carry chain
  (UG474 / UG574 CLB carry logic); FINN-R's estimate ``(2 * ceil((a + b) / 6) - 1) * (a + b)`` per
  multiplier (Blott et al., TRETS 2018, as in finn ``MVAU.lut_estimation``) is the upper bracket
  (~1.25 per bit product at 8 x 8). Feature ``lut_mult`` (bit products ``a * b``).

Resource strategy (``nnet_dense_resource.h``):

* ``block_factor = ceil(n_in * n_out / rf)`` multipliers, each fed by a multiplexer over the
  ``min(rf, n_in)`` inputs it serves; zero weights are *not* dropped.
* Shared multiplexer at ``rf == n_in`` (``dense_resource_rf_leq_nin``, the same ``MultLoop`` index code
  in hls4ml v0.5 to v1.3): multiplier ``im`` reads ``data[in_index]`` with ``in_index = ir + im * rf``,
  reset to ``ir`` once it reaches ``n_in``. At ``rf == n_in`` every multiplier past the first resets, so
  all read ``data[ir]``: one ``n_in``:1 multiplexer, not one per multiplier (below ``n_in`` the reset
  depends on ``ir < rf``, and each multiplier keeps its own ``rf``:1 multiplexer). Seen in the N-TORC
  csynth rows (Vivado HLS 2019.1): a Conv1D at ``rf = n_in`` = 48 builds 784 LUT beyond its multipliers
  where ``rf`` 16 and 24 build ~4,100 (one ~5.3-LUT multiplexer input per product, 768 products);
  leave-one-source-out figures in docs/cost_models.md (``scripts/bench_lut_loso.py``).
* Weights are reshaped by ``block_factor`` into a ROM ``block_factor * weight_bits`` wide and ``rf``
  deep (``ARRAY_RESHAPE ... block factor=block_factor``; ``RESOURCE core=ROM_nP_BRAM`` when rf > 1).
  That is what the HLS estimate counts (``bram18_rom``). After Vivado synthesis the same ROMs are
  distributed ROM in LUTs (64 bits per LUT6, UG474 / UG574; ``rom_lut``) in the post-synthesis rows of the
  calibration data: wa-hls4ml (Vitis HLS / Vivado 2023.2, 2-3 layer MLPs at rf 640-5,376: 16-bit weights of
  300 Kbit take 3-5 BRAM18, the ``outidx`` tables below), nicologhielmetti (Vivado HLS / Vivado 2019.2) and
  uw-acme (Vivado 2020.1). The share that stays block RAM, ``synth_ratio["bram18_rom"]``, is fitted on those
  rows (``scripts/fit_analytical.fit_rom_bram_share``: 0.0, and 0.0 with any one source held out); Vivado
  chooses block or distributed RAM for an inferred ROM by heuristics it does not document (UG901
  "RAM HDL Coding Techniques", UG912 ``RAM_STYLE``/``ROM_STYLE``), so a measured share is what there is.
* ``rf > n_in`` and ``rf % n_in == 0`` (``dense_resource_rf_gt_nin_rem0``, hls4ml v0.5 to v1.3, also the
  Catapult and Libero templates): ``int outidx[rufactor]`` filled by ``IndexLoop`` with ``outstep``
  (``0 .. rf / n_in - 1``) and read at the run-time index ``ir`` of ``ReuseLoop``: a table ``rf`` deep of
  ``ceil(log2(rf / n_in))`` bits, which both HLS and Vivado put in block RAM above
  :attr:`~.constants.AnalyticalConstants.rom_min_bits` (one column of the 4K x 4 / 2K x 9 / 1K x 18 aspect,
  :func:`~.memory.narrow_table_bram18`; term ``bram18_index``, not scaled after synthesis). It is all the
  block RAM of 366 of the 537 wa-hls4ml rows exactly (e.g. rf 1,792 and 2,112 over 112 and 96 inputs:
  16 and 22 values, 1 + 2 = 3 BRAM18).
  The accumulator each multiplier updates, ``acc[outidx[ir] + im * outscale]``, is read at an index that
  comes out of that table, and the csynth estimate prices the read of the partitioned ``acc`` as an
  ``n_out``:1 multiplexer per multiplier (feature ``acc_mux``: the ``n_out - rf / n_in`` inputs beyond the
  reachable ones, priced like ``mux``), while after synthesis only the ``rf / n_in`` reachable inputs remain:
  the table's words are ``ceil(log2(rf / n_in))`` bits wide (the block RAM count above), so the select's
  upper bits are the constant ``im * outscale`` and logic optimisation removes the rest (UG901, constant
  propagation). Seen out of source: the N-TORC Dense / LSTM rows at ``rf > n_in`` (Vivado HLS 2019.1) were
  22-27 % under without it, nicologhielmetti's RF 64 MLPs (Vivado HLS 2019.2) 39 % under; the post-synthesis
  rows (wa-hls4ml, nicologhielmetti) fit best with it at 0. HLS LUT 22 -> 17 % (56 -> 61 % within +-25 %).
* ``ReuseLoop`` runs ``rf`` iterations at II 1: latency ``rf`` + pipeline depth; interval ``rf``.
* ``acc[i] += static_cast<accum_t>(product)``: with a rounding (not ``AP_TRN``) or saturating (not
  ``AP_WRAP``) accumulator type every product cast (rounding over the ``a + w``-bit product, overflow
  detect on its dropped upper bits) and every accumulation (overflow detect + clamp multiplexer over the
  accumulator bits) adds logic (UG1399, "Overflow and Saturation Modes"). Feature ``quant``
  (``(a + w + acc)`` bits x non-default modes); it dominates
  the N-TORC csynth LUTs (``ap_fixed<16,8,AP_RND,AP_SAT>`` throughout).
* Operand registers (FF feature ``operand``): with ``rf > 1`` each multiplier's data operand comes out
  of its ``rf``:1 multiplexer and its weight out of the ROM, one new pair per ``ReuseLoop`` iteration, and
  HLS registers both before the multiplier (the multiplexer output and the ROM read data; with a
  pipelined, multi-cycle multiplier once more at its input), so ``a + w`` register bits per multiplier
  beyond the product/accumulator path that ``pipe`` counts. Under the Latency strategy (and Resource at
  ``rf = 1``) the weights are constants and the data come straight from the partitioned input: no
  operand registers. Seen in the N-TORC csynth rows (Vivado HLS 2019.1, 16-bit operands and
  accumulator): at a fixed layer size their FF fall by ~90-100 per multiplier removed by a larger reuse
  factor, against ~35-50 per multiplier in the Latency rows; the fitted coefficients give
  ``48 * pipe + 32 * operand`` = ~91 (``scripts/fit_analytical.py``).
* ``rf > n_in`` (``dense_resource_rf_gt_nin_rem0``): every multiplier reads the same ``data[in_index]``
  (one ``n_in``:1 multiplexer) but accumulates into ``acc[out_index]`` with a run-time ``out_index``, so
  each of the ``n_out`` partitioned accumulators becomes a read-modify-write register with its own
  write-select and adder input multiplexer. Feature ``acc_dyn`` (accumulator bits); it dominates the
  post-synthesis LUTs of the wa-hls4ml MLPs (RF 1024-4093).

Multiplier registers of Vivado HLS (FF feature ``mult_reg``, both strategies): Vivado HLS (UG902 v2019.1-
v2020.1, "Specifying the Core": ``Mul2S`` .. ``Mul6S`` / ``MulnS``, N-stage pipelined multipliers) builds a
product it maps to DSP slices as a multiplier core whose operand and product registers are fabric
flip-flops in its RTL (``a_reg0``, ``b_reg0``, ``buff0``...), which csynth counts; Vivado synthesis then
absorbs most of them into the DSP48's AREG/BREG/MREG/PREG (UG479 / UG579), so the post-synthesis
coefficient is smaller. Vitis HLS binds the same product to a DSP with its pipeline inside the slice
(UG1399 ``BIND_OP``; its RTL models list ``mul_16s_6ns_21_1_0`` cores at latency 0): no such registers.
``a + w`` bits per DSP multiplier instance (``dsp_units`` under Latency, ``block_factor`` under Resource).

``multiplier_impl`` (``config_op mul -impl``, :class:`hw_templates.config.MultiplierImpl`): ``dsp`` puts
every product in DSP slices (also narrow and constant ones), ``fabric`` every product in LUTs.
"""

from __future__ import annotations

from dataclasses import dataclass

from cost_models.analytical._num import Num, ceil, floor, log2_ceil, maximum, minimum, where
from cost_models.analytical.constants import AnalyticalConstants
from cost_models.analytical.limits import PARTITION_LIMIT, adder_depth
from cost_models.analytical.memory import memory_bram18, narrow_table_bram18
from cost_models.analytical.multipliers import dsp_per_product, is_lut_product
from cost_models.analytical.shiftadd import constant_adders, constant_widths, csd_digits
from cost_models.analytical.timing import cycles, tree_registers

__all__ = [
    "UnitSpec",
    "add_terms",
    "constant_adders",
    "constant_widths",
    "csd_digits",
    "matvec_terms",
    "scale_terms",
    "zero_terms",
]

Terms = dict


@dataclass(slots=True)
class UnitSpec:
    """One ``n_in x n_out`` multiplication unit and its number formats.

    Attributes:
        n_in / n_out: the unit's size (``Layer.mult_units()``).
        a_bits / w_bits / acc_bits: data, weight and accumulator widths.
        sparsity: fraction of zero weights.
        latency: True for the Latency strategy, False for Resource.
        mult_impl: ``"auto"``, ``"dsp"`` or ``"fabric"`` (``MultiplierImpl`` value).
        acc_modes: non-default quantization modes of the accumulator type: 1 for rounding (not TRN),
            1 for saturation (not WRAP); each product cast into it and each accumulation pays that logic.
        vivado_hls: built by Vivado HLS (hls4ml's ``vivado`` backend), whose pipelined multiplier cores
            register their operands and product in fabric flip-flops (feature ``mult_reg``).
    """

    n_in: int
    n_out: int
    a_bits: int
    w_bits: int
    acc_bits: int
    sparsity: float
    latency: bool
    mult_impl: str = "auto"
    acc_modes: int = 0
    vivado_hls: bool = False
    w_frac: int = -1


def _const_dsp_share(u: UnitSpec, c: AnalyticalConstants, logic_only: bool = False) -> tuple[float, float, float]:
    """(DSP share, shift-add width, adders per shift-add product) of the unit's constant products; the fitted
    share where the weight type is unknown. ``logic_only``: the products are LUT logic whatever the constant
    (a narrow data operand, :mod:`.multipliers`), so the width and adders are those of every constant."""
    max_bits = u.w_bits if logic_only else c.lut_mult_max_bits
    adders = constant_adders(u.w_frac, u.w_bits, max_bits, c.weight_scale)
    if u.w_frac < 0:
        return c.const_dsp_fraction, u.w_bits, adders
    return (*constant_widths(u.w_frac, u.w_bits, max_bits, c.weight_scale), adders)


def zero_terms() -> Terms:
    return {
        "dsp": 0, "bram18": 0, "bram18_rom": 0, "rom_lut": 0, "bram18_index": 0, "lut_fixed": 0, "ff_fixed": 0,
        "lut_mult": 0, "const_mult": 0, "adder": 0, "mux": 0, "acc_mux": 0, "acc_dyn": 0, "quant": 0, "compare": 0,
        "control": 0,
        "pipe": 0, "operand": 0, "state": 0, "mult_reg": 0, "channel": 0, "port": 0, "process": 0, "copy": 0, "axis": 0,
        "latency": 0, "ii": 1,
    }  # fmt: skip


_TIMING = frozenset(("latency", "ii"))


def add_terms(into: Terms, other: Terms) -> Terms:
    """Add ``other``'s resources into ``into`` (latency and II are left to the caller)."""
    for key, value in other.items():
        if key not in _TIMING:
            into[key] = into[key] + value
    return into


def scale_terms(terms: Terms, factor: Num) -> Terms:
    """Resources times ``factor`` (replicated units); latency and II unchanged."""
    return {k: (v if k in ("latency", "ii") else v * factor) for k, v in terms.items()}


def matvec_terms(
    unit: UnitSpec,
    rf: Num,
    dsp_a: int,
    dsp_b: int,
    clock_eff_ns: float,
    consts: AnalyticalConstants,
    latency_ns: float | None = None,
) -> Terms:
    """Terms of one multiplication unit at reuse factor(s) ``rf`` (one call computes one vector).

    Example:
        >>> from cost_models.analytical.constants import DEFAULT_CONSTANTS as C
        >>> t = matvec_terms(UnitSpec(16, 64, 16, 16, 32, 0.0, False), 1, 27, 18, 4.0, C)
        >>> int(t["dsp"])  # Resource strategy, RF 1: one DSP per product
        1024
    """
    if unit.latency:
        return _latency_unit(unit, rf, dsp_a, dsp_b, clock_eff_ns, consts, latency_ns or clock_eff_ns)
    return _resource_unit(unit, rf, dsp_a, dsp_b, clock_eff_ns, consts, latency_ns or clock_eff_ns)


def _slices(u: UnitSpec, dsp_a: int, dsp_b: int, c: AnalyticalConstants) -> Num:
    """DSP slices per product under the unit's multiplier mapping (0: built in LUTs)."""
    if u.mult_impl == "fabric":
        return 0
    if u.mult_impl == "dsp":
        wide, narrow = max(u.a_bits, u.w_bits), min(u.a_bits, u.w_bits)
        return ceil(wide / dsp_a) * ceil(narrow / dsp_b)
    return dsp_per_product(u.a_bits, u.w_bits, dsp_a, dsp_b, c)


def _mult_registers(u: UnitSpec, dsp_multipliers: Num) -> Num:
    """Operand and product register bits of the DSP multiplier instances Vivado HLS builds (module docstring)."""
    if not u.vivado_hls:
        return 0
    return dsp_multipliers * (u.a_bits + u.w_bits)


def _latency_unit(
    u: UnitSpec, rf: Num, dsp_a: int, dsp_b: int, clock_eff_ns: float, c: AnalyticalConstants, latency_ns: float
) -> Terms:
    n_mult = u.n_in * u.n_out
    n_zero = floor(n_mult * u.sparsity)
    nnz = n_mult - n_zero
    limit = maximum(ceil(n_mult / rf) - floor(n_zero / rf), 1)
    dpp = _slices(u, dsp_a, dsp_b, c)
    wide = dpp > 0
    # Products HLS keeps as multiplications (DSP): a share of the wide ones; the rest of the constant
    # products become shift-add logic. config_op mul -impl dsp maps narrow products to DSPs too, but HLS
    # still turns part of the constant products into shift-add logic (ArgyKokk's 8-bit Latency designs:
    # same DSP counts under auto and dsp).
    share, const_bits, const_adders = _const_dsp_share(u, c, logic_only=not bool(wide))
    mul_ops = where(wide, minimum(ceil(share * nnz), nnz), 0)
    # reuse factor > 1 (module docstring): ALLOCATION caps the mul operations at multiplier_limit and
    # they take turns; the shift-add products, the adders and the tree stay fully unrolled
    dsp_units = minimum(mul_ops, limit)
    turns = maximum(ceil(mul_ops / maximum(dsp_units, 1)), 1)
    t = zero_terms()
    t["dsp"] = dsp_units * dpp
    t["const_mult"] = (nnz - mul_ops) * (u.a_bits + const_bits) * const_adders
    t["adder"] = nnz * u.acc_bits
    t["quant"] = nnz * (u.a_bits + u.w_bits + u.acc_bits) * u.acc_modes
    t["mux"] = dsp_units * (u.a_bits + u.w_bits) * (turns - 1)
    units = nnz
    fan_in = maximum(nnz / u.n_out, 1) + 1
    levels = log2_ceil(fan_in)
    t_mult = where(wide, c.t_dsp_mult_ns, c.t_lut_mult_ns)
    chain = t_mult + levels * c.t_add_ns
    # pipeline registers where the product + adder-tree chain crosses a cycle (timing.py); the layer's
    # input/output registers only where a cycle ends at the layer boundary (a chain of a fraction of
    # a cycle shares its cycle with the neighbouring layers: inlined into one pipelined function)
    # multipliers taking turns (rf > 1): every product is held in a register until the tree takes it
    # (module docstring, "Products held across turns"). The cuts are where the scheduler ends a cycle, so
    # they follow the same family-scaled delays as the unit's latency (timing.latency_budget_ns, "Where the
    # cuts fall")
    per_product = tree_registers(t_mult, c.t_add_ns, levels, latency_ns)
    t["pipe"] = units * u.acc_bits * where(turns > 1, maximum(per_product, 1.0), per_product)
    t["state"] = (u.n_in * u.a_bits + u.n_out * u.acc_bits) * minimum(chain / clock_eff_ns, 1.0)
    t["mult_reg"] = _mult_registers(u, dsp_units)
    t["control"] = 1
    # fractional here: a layer whose chain fits in one cycle is a combinational instance that chains with
    # its neighbours; past one cycle layers.layer_terms rounds it to the module's whole cycles (modules.py)
    # above the partition limit the accumulation is a chain, not a tree (limits.adder_depth; latency only):
    # it takes one product after the other, so the multipliers' turns overlap it instead of preceding it
    depth = cycles((t_mult + adder_depth(n_mult, fan_in) * c.t_add_ns) / latency_ns)
    turns_taken = _allocation_turns(u, wide, nnz, limit, c) - 1
    depth = where(n_mult > PARTITION_LIMIT, maximum(depth, turns_taken + 1), depth + turns_taken)
    t["latency"] = depth + c.latency_overhead_cycles
    t["ii"] = rf
    return t


def _allocation_turns(u: UnitSpec, wide: Num, nnz: Num, limit: Num, c: AnalyticalConstants) -> Num:
    """Turns the ``mul`` operations take under ``ALLOCATION ... limit=multiplier_limit`` (latency only).

    ``ALLOCATION operation instances=mul`` limits multiplication *operations*, whatever core they bind to
    (UG1399 "ALLOCATION"), so under ``config_op mul -impl fabric`` the products HLS keeps as
    multiplications (the share of wide constant products :func:`_latency_unit` counts as DSPs under the
    default mapping) still take ``ceil(ops / limit)`` turns, now on LUT multipliers. Seen in ArgyKokk's
    fabric rows (Vitis HLS 2021.1, RF 100): CARDIO's first layer instance takes 33 cycles and the jet
    tagger's output layer 45, where their DSP twins take 37 and 47, against 4-7 at RF 1 or 2. (Resources
    are left to :func:`_latency_unit`, which counts no DSP for them.)
    """
    if u.mult_impl == "fabric":  # the products the default mapping keeps as multiplications
        wide = not is_lut_product(u.a_bits, u.w_bits, c)
    ops = where(wide, minimum(ceil(_const_dsp_share(u, c)[0] * nnz), nnz), 0)
    return maximum(ceil(ops / maximum(minimum(ops, limit), 1)), 1)


def _resource_unit(
    u: UnitSpec, rf: Num, dsp_a: int, dsp_b: int, clock_eff_ns: float, c: AnalyticalConstants, latency_ns: float
) -> Terms:
    n_mult = u.n_in * u.n_out
    block = ceil(n_mult / rf)
    dpp = _slices(u, dsp_a, dsp_b, c)
    wide = dpp > 0
    t = zero_terms()
    t["dsp"] = block * dpp
    t["lut_mult"] = where(wide, 0, block * u.a_bits * u.w_bits)
    t["adder"] = block * u.acc_bits
    t["quant"] = block * (u.a_bits + u.w_bits + u.acc_bits) * u.acc_modes
    # rf < n_in: multiplier im reads data[ir + im * rf] over ir < rf (an rf:1 multiplexer each) into a
    # fixed accumulator. rf == n_in: every index past the first wraps to ir, so all multipliers share one
    # n_in:1 multiplexer (module docstring). rf > n_in: one shared n_in:1 data multiplexer, and each
    # multiplier reaches rf / n_in accumulators through a run-time index (acc_dyn, module docstring).
    gt_nin = rf > u.n_in
    out_sources = maximum(rf / u.n_in, 1)
    data_muxes = where(rf >= u.n_in, 1, block)
    t["mux"] = where(
        gt_nin, u.a_bits * (u.n_in - 1) + block * u.acc_bits * (out_sources - 1), data_muxes * u.a_bits * (rf - 1)
    )
    t["acc_dyn"] = where(gt_nin, u.n_out * u.acc_bits, 0)
    # rf % n_in == 0: the csynth estimate prices each multiplier's accumulator read over all n_out accumulators,
    # synthesis only the rf / n_in it reaches (module docstring, outidx; acc_mux is tied to mux in the HLS fit
    # and 0 after synthesis, scripts/fit_analytical.py TIED)
    t["acc_mux"] = where(gt_nin & (rf % u.n_in == 0), block * u.acc_bits * (u.n_out - out_sources), 0)
    bram, rom_lut = memory_bram18(block * u.w_bits, rf, c)
    stored = rf > 1  # rf == 1 keeps the weights as constants (no ROM pragma in nnet_dense_resource.h)
    t["bram18_rom"] = where(stored, bram, 0)
    # the same ROM as distributed ROM (64 bits per LUT6, UG474 / UG574), where synthesis moves it out of block RAM
    t["rom_lut"] = where(stored & (bram > 0), block * u.w_bits * rf * c.lut_per_lutram_bit, 0)
    t["lut_fixed"] = where(stored, rom_lut, 0)
    # rf > n_in, rf % n_in == 0 (dense_resource_rf_gt_nin_rem0): the outidx table (module docstring)
    index_bram, index_lut = narrow_table_bram18(log2_ceil(maximum(rf / u.n_in, 2)), rf, c)
    rem0 = gt_nin & (rf % u.n_in == 0)
    t["bram18_index"] = where(rem0, index_bram, 0)
    t["lut_fixed"] = t["lut_fixed"] + where(rem0, index_lut, 0)
    t_mult = where(wide, c.t_dsp_mult_ns, c.t_lut_mult_ns)
    # one product and one accumulation per ReuseLoop iteration (II 1): registers where that chain crosses
    # a cycle (timing.py), plus the accumulators themselves (``state``)
    t["pipe"] = block * u.acc_bits * tree_registers(t_mult, c.t_add_ns, 1, clock_eff_ns)
    # operand registers (module docstring): the multiplexer outputs (one per multiplier, or the one shared
    # n_in:1 multiplexer when rf > n_in) and the ROM read data, one weight per multiplier.
    data_regs = where(gt_nin, u.a_bits, block * u.a_bits)
    t["operand"] = where(stored, data_regs + block * u.w_bits, 0)
    t["state"] = u.n_in * u.a_bits + u.n_out * u.acc_bits
    t["mult_reg"] = _mult_registers(u, where(wide, block, 0))
    t["control"] = 1
    depth = ceil((t_mult + c.t_add_ns) / latency_ns)
    t["latency"] = rf + depth + c.resource_overhead_cycles
    t["ii"] = rf
    return t
