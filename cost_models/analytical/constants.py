"""Every constant of the analytical model, with its source.

Two kinds: *mechanism* constants read from vendor guides or hls4ml's source (not fitted), and *free*
constants fitted on the shared calibration data (``../shared/data/synth/calibration``) by
``scripts/fit_analytical.py``, which prints the values written here. The fitted values are therefore
reproducible: run the script on the same data and compare. The rows themselves are never copied
into the project (licences, see the data README).

Fitted LUT / FF coefficients multiply mechanism *features* (bit-products of LUT multipliers, shift-add
bits of constant multipliers, adder bits, multiplexer input bits, run-time-indexed accumulator bits,
comparator bits, register bits; see :mod:`cost_models.analytical.matvec`). They are fitted by bounded
least squares of the relative error, each source weighted equally, and every coefficient is held inside
the physically plausible range in :data:`COEF_BOUNDS` (with its source), so a fit cannot trade one
mechanism for another (the previous unbounded fit gave 7.4 LUT per comparator bit and 0 per constant
multiplier bit).

FF coefficients are fitted last, after the operator delays (the pipeline-register features depend on
them), with each row's error scaled by the geometric mean of measured and predicted value
(``fit_linear(symmetric=True)``): the error relative to the measured value alone leaned the FF fit low
(every source's estimate / measured ratio was ~0.4 in-sample before). FF features since 2026-12-02 also
count Vivado HLS's multiplier-core registers (``mult_reg``, matvec.py), io_parallel DATAFLOW ping-pong
channels and top-level port buffers (``channel``, ``port``) and one module's control per DATAFLOW process
(``process``, dataflow.py); later that day the ``data``/``res`` array copies of a Vivado HLS io_stream Dense
module (``copy``, copies.py), whose HLS coefficient is tied to ``state``'s and whose post-synthesis one is 0
(``TIED`` in the fitting script); ``copy`` was added without a refit (its shipped value is ``state``'s).
In-sample the HLS fit puts ``channel`` at 0 and ``port`` at its bound 3; the post-synthesis fit (wa-hls4ml
dominates) ``channel`` at its bound 3, ``process`` at 0.
FF refitted on 2026-12-03 (``fit_resource_coefs`` on every readable row, the other constants unchanged) after
the Latency unit's pipeline registers were cut at the latency budget (:func:`.timing.latency_budget_ns`) and
the HLS ``mult_reg`` coefficient was bounded below by 1 (``hls_ff_mult_reg`` in :data:`COEF_BOUNDS`): ``pipe``
0.98 -> 0.79, ``mult_reg`` at its new bound 1, ``port`` at its bound 3. Later that day the HLS coefficients
of the register-bit features (``pipe``, ``operand``, ``state``, ``copy``, ``mult_reg``) were pinned at one FF per
bit (:data:`COEF_BOUNDS` ``hls_ff_*``) and the rest refitted: ``control`` 0, ``channel`` 0.13, ``process`` 333.
Then the register slices of the io_stream top's AXI-Stream ports (``axis``, dataflow.py; one FF per bit in
HLS) were added and FF refitted: ``process`` 333 -> 163 (it had been absorbing them), ``channel`` 0.55;
post-synthesis ``axis`` at its bound 2.

Two coefficient sets: ``lut_coef`` / ``ff_coef`` predict the HLS C-synthesis estimate (fitted on the
csynth rows); ``synth_lut_coef`` / ``synth_ff_coef`` predict post-synthesis utilisation. The post-synthesis
set is the HLS set times the paired csynth->synth medians of the data README (LUT 0.47, FF 0.76, over 64
pairs: HLS over-estimates LUTs, mostly constant multipliers and LUTRAM/ROM), except the features that
dominate the only post-synthesis-only data (wa-hls4ml Resource MLPs at RF 1024-4093: ``acc_dyn``, ``mux``,
``state``, ``pipe``, and ``operand``, which only Resource designs have), which are fitted on those rows
directly.

Fit of 2026-12-02 (after the issue-11 mechanisms: clock/family-aware pipelining with delays in
reference-device ns, Latency-strategy reuse as HLS builds it, rounding/saturation only where a cast
builds it; on the calibration reader that reads every CSV of the folder): every constant refitted on
all readable rows (``fit_analytical.fit_constants``, two latency rounds). Bounds reached: ``lut_mult``
(1.25), ``acc_dyn`` (8), ``quant`` (3), ``compare`` (0.3), ``control`` (0), ``operand`` (2), and for
post-synthesis ``pipe`` (0.2); ``table_cycles`` sits at the edge of its search grid. (The io_stream
Resource convolution's former ``stream_resource_rf_factor`` and the streamed Dense layer's former
``stream_dense_pack`` are now mechanisms, :mod:`.stream`.)
Out-of-source accuracy (each source held out, constants refitted without it) is what
``scripts/bench_cost_model.py`` prints; :data:`FIT_SUMMARY` gives the in-sample latency figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType

__all__ = [
    "COEF_BOUNDS",
    "DEFAULT_CONSTANTS",
    "FF_FEATURES",
    "FIT_PROVENANCE",
    "FIT_SUMMARY",
    "LUT_FEATURES",
    "PAIRED_SYNTH_RATIO",
    "AnalyticalConstants",
]

#: LUT features, in the order of :attr:`AnalyticalConstants.lut_coef`.
LUT_FEATURES = ("lut_mult", "const_mult", "adder", "mux", "acc_mux", "acc_dyn", "quant", "compare", "control")
#: FF features, in the order of :attr:`AnalyticalConstants.ff_coef`.
FF_FEATURES = ("pipe", "operand", "state", "control", "mult_reg", "channel", "port", "process", "copy", "axis")

#: Plausible range of each coefficient (per feature unit); the fit stays inside it.
COEF_BOUNDS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        # LUT6 per bit product: a*b/2 (two partial-product bits per LUT6 + carry chain, UG574 CLB) up to
        # FINN-R's (2*ceil((a+b)/6)-1)*(a+b) per multiplier (Blott et al. 2018; ~1.25 at 8x8).
        "lut_mult": (0.5, 1.25),
        # LUT per shift-add adder bit (one LUT6 + carry per bit, UG574); HLS csynth counts up to ~2.
        "const_mult": (0.5, 2.0),
        # LUT per accumulator adder bit: one LUT6 per bit on the carry chain (UG474 / UG574), up to 2 for
        # the HLS estimate (it counts the adder and its operand registers' input logic).
        "adder": (0.5, 2.0),
        # LUT per multiplexer input bit: 4:1 per LUT6 (0.25), 2:1 per LUT (0.5); F7/F8 muxes lower it.
        "mux": (0.1, 0.6),
        # LUT per accumulator-read multiplexer input bit that the csynth estimate counts and synthesis removes
        # (matvec.py, outidx): priced like ``mux`` in the HLS estimate (tied to it in the fit), 0 after synthesis.
        "acc_mux": (0.0, 0.6),
        # LUT per run-time-indexed accumulator bit: adder bit (1) + write-select/hold mux (1) + share of the
        # n_out:1 read mux; bounded 1..8.
        "acc_dyn": (1.0, 8.0),
        # LUT per (product + accumulator) bit per non-default mode: rounding = an incrementer (~1 LUT/bit on
        # the carry chain), saturation = overflow detect + clamp mux (~1-2 LUT/bit); UG1399 "Overflow and
        # Saturation Modes".
        "quant": (0.5, 3.0),
        # LUT per comparator bit: a magnitude compare is ~1 LUT/bit on the carry chain; ReLU (sign test +
        # AND) less. UG574.
        "compare": (0.3, 1.5),
        # LUT per layer of loop/handshake control (FSM, ap_ctrl): tens to a few hundred.
        "control": (0.0, 300.0),
        # FF per pipeline-register bit: each stage registers its operands at most about once or twice.
        "pipe": (0.2, 2.0),
        # FF per operand register bit of a Resource-strategy multiplier (rf:1 multiplexer output, ROM read
        # data; matvec.py): registered once (1), or once more at the input of a multi-cycle multiplier (2).
        "operand": (0.5, 2.0),
        # FF per input/output register bit (partitioned arrays, accumulators).
        "state": (0.5, 4.0),
        "ff_control": (0.0, 300.0),
        # FF per operand bit (a + w) of a DSP multiplier built by Vivado HLS: its pipelined multiplier cores
        # (UG902 v2019.1 "Specifying the Core": Mul2S..Mul6S / MulnS, N-stage pipelined multipliers) register
        # both operands (a + w bits) and the product (a + w bits) once per extra stage, in fabric flip-flops
        # that csynth counts: 1 = operands only, 2 = operands + one product stage, 3 = two product stages.
        # Vivado synthesis moves them into the DSP48's AREG/BREG/MREG/PREG (UG479 / UG579), so the
        # post-synthesis coefficient may fall to 0. Vitis HLS (UG1399 BIND_OP) keeps them inside the DSP.
        "mult_reg": (0.0, 3.0),
        # HLS estimate: one flip-flop per register bit the features count (pipe, operand, state and, tied to state,
        # copy; mult_reg; axis), not fitted. csynth's FF estimate adds up the widths of the registers of the RTL it
        # writes (its report lists every register with its bit width; UG1399 "Synthesis Summary"), and each of these
        # features counts a register once: pipeline registers where a cycle ends (timing.py), operand registers of a
        # Resource multiplier, partitioned input / accumulator arrays, and the operands of Vivado HLS's multiplier
        # cores (UG902 v2019.1 "Specifying the Core": every MulnS core registers both operands). Fitted, these
        # coefficients moved with the held-out source and traded for one another: without N-TORC, mult_reg fell to
        # 0-0.4 and operand to 0.76 (N-TORC then 0.56x its measured FF); the pipe coefficient sat at its lower bound
        # 0.2 in every fold. Pinned at 1 (issue 11, 2026-12-03), HLS FF out of source went 38.5 -> 31.3 % pooled and
        # 42.6 -> 38.1 % with sources weighted equally on the FF-only leave-one-source-out check (post-synthesis
        # unchanged: these stay fitted there, where synthesis absorbs registers into DSP48 / block-RAM pipeline stages
        # and merges equivalent ones, UG901).
        # ``scripts/fit_analytical.py`` reads ``<target>_<metric>_<feature>`` keys before the others.
        "hls_ff_pipe": (1.0, 1.0),
        "hls_ff_operand": (1.0, 1.0),
        "hls_ff_state": (1.0, 1.0),
        "hls_ff_mult_reg": (1.0, 1.0),
        "hls_ff_axis": (1.0, 1.0),
        # HLS estimate: one LUT per adder bit, not fitted (accumulation adders, ``adder``, and the adders of the
        # shift-add constant products, ``const_mult``). csynth prices an n-bit add as n LUTs (its report lists
        # each adder with its width; a ripple-carry adder is one LUT6 per bit feeding the CARRY4 / CARRY8 chain,
        # UG474 / UG574 "Carry Logic"). Fitted, both sat at the lower bound 0.5 in every fold, half the LUTs of
        # any adder: ftsipis' streamed Conv1D designs (over-estimated for another reason) pulled them down, and
        # every source whose LUTs are mostly adders was ~0.4-0.6x its measured LUTs (camillaMiao, tanvirana,
        # k-diep, Lrozzy, CestMerNeil, alex-yang, Alezander9, Thifjj). Pinned at 1 with the shift-add products
        # counted as d - 1 adders (shiftadd.constant_adders; w / 3 before): HLS LUT out of source 37 -> 29 % with
        # sources weighted equally, pooled 18 -> 18 % (scripts/bench_cost_model.py; docs/cost_models.md).
        "hls_lut_adder": (1.0, 1.0),
        "hls_lut_const_mult": (1.0, 1.0),
        # FF per bit of an io_parallel DATAFLOW channel (dataflow.py): a ping-pong channel holds two copies
        # of the array (2), plus a register at a process's output (3); 0 where the tool keeps it elsewhere
        # (memory, or merged with the producer's output registers).
        "channel": (0.0, 3.0),
        # FF per bit of the design's input array in an io_parallel DATAFLOW top (dataflow.py): the
        # registered ap_vld port (1) and the buffer the dataflow region reads it into (2-3).
        "port": (0.0, 3.0),
        # FF per DATAFLOW process (dataflow.py): handshake and FSM registers, loop counters, pipeline valid
        # bits and registered stream ports of one layer module; tens to a few thousand.
        "process": (0.0, 2000.0),
        # FF per register-slice bit of an io_stream design's top-level AXI-Stream ports (dataflow.py: a data
        # word and its skid copy per port); one per bit in the HLS estimate (below), fitted after synthesis
        # (up to 2: the port's own register on top; 0 where synthesis trims them).
        "axis": (0.0, 2.0),
        # FF per bit of the data/res array copies of a Vivado HLS io_stream Dense module (copies.py): tied to
        # ``state`` in the HLS fit (the same kind of partitioned-array register) and 0 post-synthesis (merged
        # with the registers they copy, UG901 equivalent-register removal); the bound is not reached.
        "copy": (0.0, 4.0),
    }
)

#: Post-synthesis / csynth medians over the 64 paired designs of the data README
#: (../shared/data/synth/README.md, "How to use": LUT 0.47 (10-90 %: 0.25-0.65), FF 0.76 (0.46-1.01),
#: DSP 1.0). Used for the features no post-synthesis-only row constrains.
PAIRED_SYNTH_RATIO: Mapping[str, float] = MappingProxyType({"lut": 0.47, "ff": 0.76, "dsp": 1.0, "bram18": 1.0})

#: What the fitted numbers below were fitted on (printed by scripts/fit_analytical.py).
FIT_PROVENANCE = (
    "fitted on ../shared/data/synth/calibration (every CSV of the folder as of 2026-12-02, 13 sources) by "
    "scripts/fit_analytical.py (fit_constants, latency_rounds=2)"
)
#: Median |relative error| of the fit (in-sample and leave-one-source-out), as the script printed it.
FIT_SUMMARY = (
    "in-sample latency: mean over sources of median |error| 30.8 % (at most 60 rows per source); "
    "out-of-source figures: "
    "scripts/bench_cost_model.py (docs/cost_models.md, Accuracy)"
)


def _proxy(data: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(data))


@dataclass(frozen=True)
class AnalyticalConstants:
    """Constants of the analytical model (see the module docstring for how each kind is sourced).

    Attributes:
        lut_mult_max_bits: a product whose narrower operand has at most this many bits is built in
            LUTs, not in a DSP. Bracketed by the data: wa-hls4ml rows (Vitis HLS 2023.2) with 2-6-bit
            weights x 16-bit data use 0 DSPs, with 8..16-bit weights they use DSPs; ArgyKokk's 8 x 8-bit
            products (Vitis HLS 2021.1) use DSPs (16-bit data x 8-bit weights).
        lut_mult_pair_max_bits: a product whose operands both have at most this many bits is built in
            LUTs (``multipliers.py``): 7 x 7 and 8 x 8 bits take no DSP in the csynth rows of
            nicologhielmetti and karlis-susters, 12 x 12 bits do (ftsipis). Refitted per held-out source in
            the benchmark (``scripts/fit_analytical.fit_pair_bits``).
        const_dsp_fraction: under the Latency strategy weights are compile-time constants
            (``#pragma HLS function_instantiate variable=weights`` in nnet_dense_latency.h), and HLS
            builds a share of constant-coefficient products as shift-add LUT logic instead of DSPs.
            Fitted share of wide constant products that land in a DSP.
        weight_scale: scale of the half-normal weight magnitudes from which the constant products' widths are
            drawn (``matvec.constant_widths``: which constants HLS builds as shift-add logic), fitted like
            ``const_dsp_fraction`` on the csynth Latency rows (``scripts/fit_analytical.fit_weight_scale``).
        rom_min_bits: memories (weight ROMs, tables, FIFOs) with fewer bits than this are built in
            LUTRAM/registers, not BRAM. Bracketed by N-TORC rows (Vivado HLS 2019.1): 1,024-bit weight
            ROMs took no BRAM, 1,536-bit ones did.
        rom_lutram_remainder_bits: when a wide ROM is sliced over 36-bit BRAM18 columns, a leftover
            slice of at most this many bits goes to LUTRAM. N-TORC rows: 4- and 8-bit leftovers never
            took a BRAM (e.g. 256-bit words -> 7 BRAM18, not 8), 16- and 20-bit leftovers did.
        fifo_srl_max_depth: io_stream FIFOs up to this depth are shift registers (SRL32) in LUTs;
            deeper ones go to BRAM. Vivado/Vitis HLS map small streams to SRLs by default (UG1399,
            "Specifying Arrays as FIFOs" / config_dataflow); the threshold is an assumption.
        lut_per_lutram_bit: a LUT6 holds 64 bits as distributed RAM/ROM (UG474 7-series CLB,
            UG574 UltraScale CLB: "64 x 1 single-port distributed RAM per LUT").
        lut_per_srl_bit: a LUT6 shifts 32 bits as an SRL32 (UG474 / UG574).
        lut_coef / ff_coef: fitted coefficients of :data:`LUT_FEATURES` / :data:`FF_FEATURES` (HLS estimate).
        synth_lut_coef / synth_ff_coef: the same for post-synthesis utilisation (module docstring).
        t_dsp_mult_ns / t_lut_mult_ns / t_add_ns: combinational delays HLS schedules with, fitted on
            csynth latencies (Vivado/Vitis HLS characterise operators per device; UG1399 "Scheduling").
        latency_overhead_cycles: fixed cycles per weight layer (input registering, output cast) under
            the Latency strategy, fitted.
        resource_overhead_cycles: fixed cycles per weight layer under the Resource strategy (loop
            entry/exit, accumulator reset, output cast), fitted.
        activation_cycles / table_cycles / softmax_cycles: pipeline cycles of a comparator activation,
            a table lookup, and the fixed part of a softmax (its two table reads), fitted.
        ultrascale_logic_speedup: how much shorter the operator delays HLS schedules latency with are on
            UltraScale / UltraScale+ parts (DSP48E2 devices) than the DSP-FMAX scaling alone gives
            (:func:`~.timing.latency_budget_ns`), fitted on csynth latencies.
        synth_ratio: post-synthesis / HLS-estimate ratio of DSP and BRAM18 (:data:`PAIRED_SYNTH_RATIO`);
            ``bram18_rom``: the share of the Resource strategy's weight-ROM block RAMs still block RAM after
            synthesis (the rest becomes distributed ROM, matvec.py), fitted on the post-synthesis rows by
            ``scripts/fit_analytical.fit_rom_bram_share`` (0.0; 0.0 with any one source held out).
        power_*: first-order power figures, see :mod:`cost_models.analytical.power` (not fitted).
    """

    lut_mult_max_bits: int = 6
    # fitted: scripts/fit_analytical.fit_pair_bits (grid 6..12 on every row with a DSP count, 2026-12-03)
    lut_mult_pair_max_bits: int = 9
    # fitted: const_dsp_fraction (grid search on the csynth Latency rows, scripts/fit_analytical.py); used only
    # where the weight type is unknown since weight_scale (same grid search, 2026-12-03)
    const_dsp_fraction: float = 0.57
    weight_scale: float = 0.25
    rom_min_bits: int = 1280
    rom_lutram_remainder_bits: int = 8
    fifo_srl_max_depth: int = 64
    lut_per_lutram_bit: float = 1 / 64
    lut_per_srl_bit: float = 1 / 32
    # fitted (bounded least squares, relative error, csynth rows, sources weighted equally) inside
    # COEF_BOUNDS; scripts/fit_analytical.py prints these. LUT (both sets) refitted on 2026-12-03 with acc_mux
    # (fit_resource_coefs on every readable row), again after the HLS adder / shift-add coefficients were pinned
    # at one LUT per adder bit and shift-add products counted with d - 1 adders (matvec.constant_adders).
    lut_coef: Mapping[str, float] = field(
        default_factory=lambda: _proxy(
            {"lut_mult": 1.25, "const_mult": 1.0, "adder": 1.0, "mux": 0.3451, "acc_mux": 0.3451, "acc_dyn": 8.0,
             "quant": 2.8218, "compare": 0.3, "control": 191.9914}
        )
    )  # fmt: skip
    ff_coef: Mapping[str, float] = field(
        default_factory=lambda: _proxy(
            {"pipe": 1.0, "operand": 1.0, "state": 1.0, "control": 0.0, "mult_reg": 1.0,
             "channel": 0.5481, "port": 2.9496, "process": 163.0191, "copy": 1.0,
             "axis": 1.0}
        )
    )  # fmt: skip
    # post-synthesis: HLS coefficient x PAIRED_SYNTH_RATIO, except acc_dyn and mux (LUT) and every FF feature
    # but control, fitted on the post-synthesis rows (wa-hls4ml dominates; see the module docstring); acc_dyn
    # refitted on 2026-12-03 once the weight ROMs count as distributed ROM after synthesis (matvec.py), mux
    # fitted on those rows since then (scripts/fit_analytical.py SYNTH_FITTED).
    synth_lut_coef: Mapping[str, float] = field(
        default_factory=lambda: _proxy(
            {"lut_mult": 0.5875, "const_mult": 0.47, "adder": 0.47, "mux": 0.1006, "acc_mux": 0.0, "acc_dyn": 6.5256,
             "quant": 1.3262, "compare": 0.141, "control": 90.236}
        )
    )  # fmt: skip
    synth_ff_coef: Mapping[str, float] = field(
        default_factory=lambda: _proxy(
            {"pipe": 0.3829, "operand": 0.6927, "state": 1.0807, "control": 0.0, "mult_reg": 0.124,
             "channel": 2.9982, "port": 0.9308, "process": 22.7209, "copy": 0.0,
             "axis": 2.0}
        )
    )  # fmt: skip
    # fitted (coordinate descent on median |latency error|, mean over sources), refitted after the io_parallel
    # module, softmax-depth and family-speed mechanisms (modules.py, layers.softmax_stages,
    # timing.latency_budget_ns): fit_analytical.fit_latency, 2 rounds, on at most 60 rows per source
    t_dsp_mult_ns: float = 2.0
    t_lut_mult_ns: float = 1.75
    t_add_ns: float = 2.6
    latency_overhead_cycles: float = 0.0
    resource_overhead_cycles: float = 4.0
    activation_cycles: float = 0.0
    table_cycles: float = 6.0
    softmax_cycles: float = 2.0
    ultrascale_logic_speedup: float = 2.5
    # DSP and BRAM18 post-synthesis / HLS: the paired medians (README: DSP 1.0); BRAM is left at 1.0
    # (no paired median given; Keb-L pairs drop BRAM a lot, but 4 designs are too few to learn from), except
    # the Resource weight ROMs (bram18_rom, fitted: see the docstring)
    synth_ratio: Mapping[str, float] = field(
        default_factory=lambda: _proxy({"dsp": 1.0, "bram18": 1.0, "bram18_rom": 0.0})
    )
    power_static_w_per_klut: float = 2.1e-3
    power_uw_per_mhz: Mapping[str, float] = field(
        default_factory=lambda: _proxy({"lut": 0.03, "ff": 0.008, "dsp": 3.0, "bram18": 8.0})
    )
    power_toggle_rate: float = 0.125

    def __post_init__(self) -> None:
        for name in ("lut_coef", "ff_coef", "synth_lut_coef", "synth_ff_coef", "synth_ratio", "power_uw_per_mhz"):
            object.__setattr__(self, name, _proxy(getattr(self, name)))

    def with_values(self, **changes: object) -> AnalyticalConstants:
        """A copy with some constants replaced (used by the fitting script)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = dict(value) if isinstance(value, Mapping) else value
        return out


DEFAULT_CONSTANTS = AnalyticalConstants()
