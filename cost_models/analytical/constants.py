"""Every constant of the analytical model, with its source.

Two kinds: *mechanism* constants read from vendor guides or hls4ml's source (not fitted), and *free*
constants fitted on the shared calibration data (``../shared/data/synth/calibration``) by
``scripts/fit_analytical.py``, which prints the values written here. The fitted values are therefore
reproducible: run the script on the same data and compare. The rows themselves are never copied
into the project (licences, see the data README).

Fitted LUT / FF coefficients multiply mechanism *features* (bit-products of LUT multipliers, adder
bits, multiplexer input bits, register bits, ...; see :mod:`cost_models.analytical.matvec`). They are
non-negative least-squares coefficients of the relative error over the csynth rows, each source
weighted equally. A physically expected magnitude is given next to each so a reader can judge them.

Fit of 2026-11-26 (``scripts/fit_analytical.py``): 790 of 819 reader records representable.
Leave-one-source-out median |error| of the LUT fit: ArgyKokk 190 %, N-TORC 85 %, Keb-L 440 %; of the
FF fit: 76 %, 26 %, 117 %. The LUT/FF coefficients are therefore weak; DSP, BRAM18 and latency come
from mechanisms and are much better (see ``scripts/bench_cost_model.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType

__all__ = ["DEFAULT_CONSTANTS", "FF_FEATURES", "FIT_PROVENANCE", "LUT_FEATURES", "AnalyticalConstants"]

#: LUT features, in the order of :attr:`AnalyticalConstants.lut_coef`.
LUT_FEATURES = ("lut_mult", "const_mult", "adder", "mac_lane", "mux", "compare", "control")
#: FF features, in the order of :attr:`AnalyticalConstants.ff_coef`.
FF_FEATURES = ("pipe", "state", "control")

#: What the fitted numbers below were fitted on (printed by scripts/fit_analytical.py).
FIT_PROVENANCE = (
    "fitted on ../shared/data/synth/calibration (README of 2026-11-26: ntorc_layer_costs.csv, "
    "argykokk_hls4ml_mlp_estimator.csv, kebl_hls4ml_data.csv, wa_hls4ml_jdweitz_sample.csv) by "
    "scripts/fit_analytical.py"
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
            products (Vitis HLS 2021.1) use DSPs.
        const_dsp_fraction: under the Latency strategy weights are compile-time constants
            (``#pragma HLS function_instantiate variable=weights`` in nnet_dense_latency.h), and HLS
            builds a share of constant-coefficient products as shift-add LUT logic instead of DSPs.
            Fitted share of wide constant products that land in a DSP.
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
        lut_coef / ff_coef: fitted coefficients of :data:`LUT_FEATURES` / :data:`FF_FEATURES`.
        t_dsp_mult_ns / t_lut_mult_ns / t_add_ns: combinational delays HLS schedules with, fitted on
            csynth latencies (Vivado/Vitis HLS characterise operators per device; UG1399 "Scheduling").
        latency_overhead_cycles: fixed cycles per weight layer (input registering, output cast) under
            the Latency strategy, fitted.
        resource_overhead_cycles: fixed cycles per weight layer under the Resource strategy (loop
            entry/exit, accumulator reset, output cast), fitted.
        stream_dense_pack: values an io_stream dense layer reads per cycle, fitted on N-TORC dense
            latencies (they grow by ~1 cycle per 16 inputs).
        stream_resource_rf_factor: io_stream convolution under Resource: cycles per output pixel per
            unit of reuse factor (csynth worst-case latency), fitted on N-TORC conv1d rows.
        activation_cycles / table_cycles / softmax_cycles: pipeline cycles of a comparator activation,
            a table lookup, and the fixed part of a softmax, fitted on ArgyKokk / Keb-L latencies.
        synth_ratio: post-synthesis / HLS-estimate ratio per resource, learned on the vsynth rows as
            median(measured post-synthesis / this model's HLS estimate).
        power_*: first-order power figures, see :mod:`cost_models.analytical.power` (not fitted).
    """

    lut_mult_max_bits: int = 6
    # fitted: const_dsp_fraction (median |DSP error| 10.1 % on the csynth Latency rows)
    const_dsp_fraction: float = 0.48
    rom_min_bits: int = 1280
    rom_lutram_remainder_bits: int = 8
    fifo_srl_max_depth: int = 64
    lut_per_lutram_bit: float = 1 / 64
    lut_per_srl_bit: float = 1 / 32
    # fitted (NNLS, relative error, csynth rows with a recorded strategy); lut_mult pinned at a*b/2
    # (no csynth row has narrow Resource products). Expected magnitudes: adder ~1 LUT/bit (carry
    # chain), mux ~0.3 LUT per input bit (4:1 per LUT6). Held-out errors: see the module docstring.
    lut_coef: Mapping[str, float] = field(
        default_factory=lambda: _proxy(
            {"lut_mult": 0.5, "const_mult": 0.0, "adder": 1.285, "mac_lane": 19.42, "mux": 0.159,
             "compare": 7.429, "control": 0.0}
        )
    )  # fmt: skip
    ff_coef: Mapping[str, float] = field(
        default_factory=lambda: _proxy({"pipe": 0.648, "state": 4.156, "control": 0.0})
    )
    # fitted (coordinate descent on median |latency error|, mean over sources)
    t_dsp_mult_ns: float = 6.0
    t_lut_mult_ns: float = 0.5
    t_add_ns: float = 1.2
    latency_overhead_cycles: float = 2.0
    resource_overhead_cycles: float = 2.0
    stream_dense_pack: float = 16.0
    stream_resource_rf_factor: float = 0.55
    activation_cycles: float = 1.0
    table_cycles: float = 2.0
    softmax_cycles: float = 6.0
    # fitted: median(post-synthesis / this model's HLS estimate) on the vsynth rows (537 wa-hls4ml +
    # 4 Keb-L). The LUT ratio (6.0, against the README's paired csynth->synth median 0.47) says the
    # model's HLS LUT estimate misses most of the LUTs of the wa-hls4ml Resource MLPs.
    synth_ratio: Mapping[str, float] = field(
        default_factory=lambda: _proxy({"lut": 6.018, "ff": 0.697, "dsp": 1.0, "bram18": 1.0})
    )
    power_static_w_per_klut: float = 2.1e-3
    power_uw_per_mhz: Mapping[str, float] = field(
        default_factory=lambda: _proxy({"lut": 0.03, "ff": 0.008, "dsp": 3.0, "bram18": 8.0})
    )
    power_toggle_rate: float = 0.125

    def __post_init__(self) -> None:
        for name in ("lut_coef", "ff_coef", "synth_ratio", "power_uw_per_mhz"):
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
