"""Refit the free constants of the analytical cost model on the shared calibration data and print them.

Usage::

    python scripts/fit_analytical.py [--data DIR] [--quick]

The printed block is what ``cost_models/analytical/constants.py`` holds, so its values are
reproducible. What is fitted, in order (each step uses the previous ones):

1. ``lut_mult_pair_max_bits``: grid search, mean over sources of the median |log DSP ratio| on every row
   with a DSP count; ``const_dsp_fraction``: grid search, median |error| of DSP on the csynth Latency-strategy rows;
   ``synth_ratio["bram18_rom"]``: grid search, mean over sources of the median |BRAM18 error| on the
   post-synthesis rows with a Resource-strategy weight ROM.
2. LUT and FF coefficients (HLS estimate): least squares of the *relative* error over the csynth rows,
   every coefficient held inside its plausible range (``COEF_BOUNDS``), iteratively reweighted towards
   the median (L1), every source weighted equally. Solved by cyclic coordinate descent on the box-
   constrained quadratic (numpy only; exact per coordinate, converges for this convex problem).
3. Latency constants: coordinate descent on the median |relative error| of latency (all rows; the
   latency of every row is a csynth figure).
4. Post-synthesis coefficients: the HLS ones times the README's paired csynth->synth medians, except
   ``SYNTH_FITTED`` features, refitted (same bounded method) on the post-synthesis rows.

Held-out error: each fit is repeated leaving one source out and scored on that source.
The rows are never written anywhere: only coefficients and error statistics are printed.
"""

from __future__ import annotations

import argparse
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cost_models.analytical import AnalyticalModel
from cost_models.analytical.constants import (
    COEF_BOUNDS,
    DEFAULT_CONSTANTS,
    FF_FEATURES,
    LUT_FEATURES,
    PAIRED_SYNTH_RATIO,
    AnalyticalConstants,
)
from cost_models.cost import Target
from cost_models.kinds import RECURRENT_KINDS
from cost_models.synth_data import SynthRecord, load_synth_dir
from hw_templates.config import Strategy
from hw_templates.errors import CodesignError

logger = logging.getLogger("fit_analytical")


@dataclass(frozen=True)
class Row:
    record: SynthRecord
    terms: dict[str, float]


def fitted_on(records: Sequence[SynthRecord]) -> list[SynthRecord]:
    """The records the constants are fitted on: all but those with a recurrent layer (LSTM/GRU). The
    recurrent mechanism (``cost_models/analytical/recurrent.py``) is built from hls4ml's templates with the
    constants of the other layers and checked on its rows out of sample: N-TORC is the one recurrent
    source, and its 184 LSTM rows would also pull the shared coefficients towards it."""
    return [r for r in records if not any(x.kind in RECURRENT_KINDS for x in r.graph.weight_layers())]


def representable(records: Sequence[SynthRecord], consts: AnalyticalConstants) -> list[Row]:
    model = AnalyticalModel(Target.HLS, consts)
    rows = []
    for record in records:
        try:
            rows.append(Row(record, model.design_terms(record.graph, record.hw)))
        except CodesignError:
            continue
    return rows


def known(row: Row) -> bool:
    """False for rows whose strategy the source does not record (their features are guesses)."""
    return not any("strategy not recorded" in note for note in row.record.notes)


def source_of(row: Row) -> str:
    return row.record.source.split("/")[0]


def _median_ape(pred: np.ndarray, meas: np.ndarray) -> float:
    keep = meas > 0
    return float(np.median(np.abs(pred[keep] - meas[keep]) / meas[keep])) if keep.any() else float("nan")


def fit_dsp_fraction(records: Sequence[SynthRecord]) -> float:
    """Grid search of the share of constant products in DSPs (Latency-strategy csynth rows)."""
    chosen = [
        r for r in records if r.target is Target.HLS and r.hw.strategy is Strategy.LATENCY and "dsp" in r.measured
    ]
    best = (float("inf"), DEFAULT_CONSTANTS.const_dsp_fraction)
    for fraction in np.arange(0.05, 1.001, 0.01):
        consts = DEFAULT_CONSTANTS.with_values(const_dsp_fraction=round(float(fraction), 2))
        rows = representable(chosen, consts)
        pred = np.array([r.terms["dsp"] for r in rows])
        meas = np.array([r.record.measured["dsp"] for r in rows])
        best = min(best, (_median_ape(pred, meas), round(float(fraction), 2)))
    logger.info("const_dsp_fraction %.2f (median |error| %.1f %%)", best[1], 100 * best[0])
    return best[1]


def fit_weight_scale(records: Sequence[SynthRecord], start: AnalyticalConstants = DEFAULT_CONSTANTS) -> float:
    """Grid search of the weight-magnitude scale (``weight_scale``, matvec.constant_widths) on the csynth
    Latency-strategy rows: median |DSP error|, like :func:`fit_dsp_fraction`."""
    chosen = [
        r for r in records if r.target is Target.HLS and r.hw.strategy is Strategy.LATENCY and "dsp" in r.measured
    ]
    best = (float("inf"), start.weight_scale)
    for scale in np.round(np.arange(0.05, 1.001, 0.01), 2):
        rows = representable(chosen, start.with_values(weight_scale=float(scale)))
        pred = np.array([r.terms["dsp"] for r in rows])
        meas = np.array([r.record.measured["dsp"] for r in rows])
        best = min(best, (_median_ape(pred, meas), float(scale)))
    logger.info("weight_scale %.2f (median |error| %.1f %%)", best[1], 100 * best[0])
    return best[1]


def fit_pair_bits(records: Sequence[SynthRecord], start: AnalyticalConstants = DEFAULT_CONSTANTS) -> int:
    """Grid search of ``lut_mult_pair_max_bits`` (``cost_models/analytical/multipliers.py``: products of two
    operands this narrow are built in LUTs) on every row with a DSP count: the mean over sources of the median
    ``|log((predicted + 1) / (measured + 1))|``, so designs with 0 DSPs count (a median % error skips them);
    6 switches the rule off (``lut_mult_max_bits`` already covers it). Ties keep the narrowest threshold."""
    chosen = [r for r in records if "dsp" in r.measured]
    best = (float("inf"), start.lut_mult_pair_max_bits)
    for bits in range(start.lut_mult_max_bits, 13):
        rows = representable(chosen, start.with_values(lut_mult_pair_max_bits=bits))
        err = np.array([abs(np.log((r.terms["dsp"] + 1) / (r.record.measured["dsp"] + 1))) for r in rows])
        sources = np.array([source_of(r) for r in rows])
        score = float(np.mean([np.median(err[sources == s]) for s in set(sources)]))
        best = min(best, (round(score, 6), bits))
    logger.info("lut_mult_pair_max_bits %d (mean over sources of median |log DSP ratio| %.3f)", best[1], best[0])
    return best[1]


#: Post-synthesis features refitted on the post-synthesis rows (the wa-hls4ml Resource MLPs exercise
#: them); the others keep HLS coefficient x PAIRED_SYNTH_RATIO. ``operand`` (Resource-strategy operand
#: registers) only exists in Resource designs, which all post-synthesis rows are; after synthesis those
#: registers can sit in the DSP48 input (AREG/BREG) and block-RAM output registers instead of CLB flip-flops;
#: so can Vivado HLS's multiplier-core registers (``mult_reg``). ``channel`` exists only in io_parallel
#: DATAFLOW designs (the wa-hls4ml Resource MLPs have no csynth rows) and ``process`` is what synthesis
#: trims most (unused counter bits, constant FSM states), so both are fitted on the post-synthesis rows.
#: LUT ``mux``: the csynth estimate prices a multiplexer input bit at its own rate, Vivado synthesis packs
#: 4:1 per LUT6 and 8:1 / 16:1 with the F7/F8 multiplexers (UG474 / UG574 CLB); the paired LUT median (0.47)
#: is over all LUTs, mostly arithmetic. Fitted on the post-synthesis rows (their Resource units' data and
#: accumulator multiplexers): out of source, post-synthesis LUT 13 -> 7 % (docs/cost_models.md).
SYNTH_FITTED = {
    "lut": ("acc_dyn", "mux"),
    "ff": ("pipe", "operand", "state", "mult_reg", "channel", "port", "process", "axis"),
}


#: Features priced like another one in the HLS estimate and at 0 after synthesis: the Vivado HLS copies of a
#: streamed Dense layer's arrays (``cost_models/analytical/copies.py``) are registers of a partitioned array
#: like ``state``'s, and synthesis merges them with the registers they copy. Tying them keeps the fit from
#: trading one feature for the other (a free ``copy`` coefficient pushed ``state`` to its lower bound).
#: The same for LUT: the accumulator-read multiplexer inputs of ``dense_resource_rf_gt_nin_rem0`` that the csynth
#: estimate counts beyond the reachable ones are multiplexer inputs like ``mux``'s, and synthesis removes them
#: (``cost_models/analytical/matvec.py``, outidx).
TIED = {"ff": {"copy": "state"}, "lut": {"acc_mux": "mux"}}


def _tied_row(row: Row, tied: dict[str, str]) -> Row:
    terms = dict(row.terms)
    for feature, into in tied.items():
        terms[into] = terms[into] + terms.get(feature, 0.0)
    return Row(row.record, terms)


def _bounds(metric: str, feature: str, target: Target = Target.HLS) -> tuple[float, float]:
    """The plausible range of a coefficient: ``COEF_BOUNDS`` under ``<target>_<metric>_<feature>``, else
    ``<metric>_<feature>``, else ``<feature>`` (a mechanism can hold in the HLS estimate and not after synthesis)."""
    specific = COEF_BOUNDS.get(f"{target.value}_{metric}_{feature}")
    return specific or COEF_BOUNDS.get(f"{metric}_{feature}", COEF_BOUNDS[feature])


def bounded_lsq(a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, sweeps: int = 300) -> np.ndarray:
    """argmin ||a x - b||^2 subject to lo <= x <= hi, by cyclic coordinate descent."""
    x = lo.copy()
    norms = (a * a).sum(axis=0)
    resid = b - a @ x
    for _ in range(sweeps):
        for j in np.flatnonzero(norms > 0):
            new = float(np.clip(x[j] + a[:, j] @ resid / norms[j], lo[j], hi[j]))
            resid -= a[:, j] * (new - x[j])
            x[j] = new
    return x


def fit_linear(
    rows: Sequence[Row],
    metric: str,
    features: Sequence[str],
    fixed: str,
    pinned: dict[str, float] | None = None,
    symmetric: bool = False,
    target: Target = Target.HLS,
) -> dict[str, float]:
    """Bounded least squares of the relative error, sources weighted equally, reweighted towards L1.

    The relative error ``(pred - meas) / meas`` is one-sided: an estimate 3x too high costs 2, one 3x
    too low at most 1, so the fit leans low (under multiplicative noise of log-spread ``s``, least
    squares lands at ``exp(-1.5 s**2)`` times the median ratio). ``symmetric`` scales each row's error
    by the geometric mean of measured and predicted value instead, ``sqrt(meas * pred)``, updated from
    the previous iteration; that fixed point lands at ``exp(-0.5 s**2)``: between the one-sided fit and
    the median ratio, where the median absolute % error the benchmarks report is smallest (it, too,
    charges an estimate too high more than one too low). For FF the three variants (one-sided, this,
    log-space median) were compared on leave-one-source-out FF error; this one was best
    (``fit_resource_coefs``).
    """
    pinned = dict(pinned or {})
    free = [f for f in features if f not in pinned]
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[source_of(r)] += 1
    x = np.array([[r.terms[f] for f in free] for r in rows])
    y = np.array([r.record.measured[metric] - r.terms[fixed] - sum(c * r.terms[f] for f, c in pinned.items())
                  for r in rows])  # fmt: skip
    meas = np.array([r.record.measured[metric] for r in rows])
    lo, hi = (np.array([_bounds(metric, f, target)[k] for f in free]) for k in (0, 1))
    balance = np.array([1.0 / np.sqrt(counts[source_of(r)]) for r in rows])
    irls = np.ones(len(rows))
    coef = lo.copy()
    scale = meas
    for _ in range(12 if symmetric else 6):
        w = balance * irls / scale
        coef = bounded_lsq(x * w[:, None], y * w, lo, hi)
        resid = np.abs(x @ coef - y) / scale
        if symmetric:  # pred = x @ coef + (meas - y), floored at 5 % of the measured value
            scale = np.sqrt(meas * np.maximum(x @ coef + meas - y, 0.05 * meas))
        irls = 1.0 / np.sqrt(np.maximum(resid, 0.02))
    fitted = {f: float(round(c, 4)) for f, c in zip(free, coef)}
    return {f: pinned.get(f, fitted.get(f, 0.0)) for f in features}


def _chosen(rows: Sequence[Row], metric: str, target: Target) -> list[Row]:
    return [r for r in rows if r.record.target is target and r.record.measured.get(metric, 0) > 0 and known(r)]


def _predict(rows: Sequence[Row], coef: dict[str, float], fixed: str) -> np.ndarray:
    return np.array([r.terms[fixed] + sum(c * r.terms[f] for f, c in coef.items()) for r in rows])


def scores(rows: Sequence[Row], metric: str, coef: dict[str, float], fixed: str) -> dict[str, float]:
    """Median |relative error| per source with the given coefficients."""
    out = {}
    for source in sorted({source_of(r) for r in rows}):
        test = [r for r in rows if source_of(r) == source]
        out[source] = _median_ape(_predict(test, coef, fixed), np.array([r.record.measured[metric] for r in test]))
    return out


def held_out(
    rows: Sequence[Row],
    metric: str,
    features: Sequence[str],
    fixed: str,
    pinned: dict[str, float] | None = None,
    symmetric: bool = False,
) -> dict[str, float]:
    """Median |relative error| of ``metric`` on each source when the fit leaves that source out."""
    out = {}
    for source in sorted({source_of(r) for r in rows}):
        train = [r for r in rows if source_of(r) != source]
        test = [r for r in rows if source_of(r) == source]
        coef = fit_linear(train, metric, features, fixed, pinned, symmetric)
        out[source] = _median_ape(_predict(test, coef, fixed), np.array([r.record.measured[metric] for r in test]))
    return out


def synth_pinned(metric: str, hls_coef: dict[str, float]) -> dict[str, float]:
    """Post-synthesis coefficients not refitted: HLS coefficient x the paired csynth->synth median."""
    ratio = PAIRED_SYNTH_RATIO[metric]
    return {f: round(c * ratio, 4) for f, c in hls_coef.items() if f not in SYNTH_FITTED[metric]}


_LATENCY_GRID: dict[str, Sequence[float]] = {
    "t_dsp_mult_ns": np.arange(0.5, 8.01, 0.25),
    "t_lut_mult_ns": np.arange(0.5, 8.01, 0.25),
    "t_add_ns": np.arange(0.2, 4.01, 0.1),
    "latency_overhead_cycles": np.arange(0, 12.1, 1),
    "resource_overhead_cycles": np.arange(0, 12.1, 1),
    "activation_cycles": np.arange(0, 4.1, 1),
    "table_cycles": np.arange(1, 6.1, 1),
    # at least the two synchronous table reads of softmax_stable (layers.softmax_stages)
    "softmax_cycles": np.arange(2, 16.1, 1),
    "ultrascale_logic_speedup": np.arange(1.0, 3.01, 0.1),
}


def latency_error(records: Sequence[SynthRecord], consts: AnalyticalConstants) -> float:
    model = AnalyticalModel(Target.HLS, consts)
    by_source: dict[str, list[float]] = defaultdict(list)
    for r in records:
        try:
            pred = model.estimate(r.graph, r.hw).latency_cycles
        except CodesignError:
            continue
        by_source[r.source.split("/")[0]].append(
            abs(pred - r.measured["latency_cycles"]) / r.measured["latency_cycles"]
        )
    return float(np.mean([np.median(v) for v in by_source.values()]))


def fit_latency(records: Sequence[SynthRecord], consts: AnalyticalConstants, rounds: int) -> AnalyticalConstants:
    chosen = [r for r in records if r.measured.get("latency_cycles", 0) > 0]
    best = latency_error(chosen, consts)
    for _ in range(rounds):
        for name, grid in _LATENCY_GRID.items():
            for value in grid:
                trial = consts.with_values(**{name: round(float(value), 3)})
                err = latency_error(chosen, trial)
                if err < best - 1e-9:
                    best, consts = err, trial
        logger.info("latency: mean over sources of median |error| %.1f %%", 100 * best)
    return consts


def fit_resource_coefs(
    rows: Sequence[Row], metric: str, start: AnalyticalConstants
) -> tuple[dict[str, float], dict[str, float]]:
    """HLS and post-synthesis coefficients of ``metric`` (``"lut"`` or ``"ff"``) fitted on ``rows``.

    Without post-synthesis rows the post-synthesis coefficients are the HLS ones times
    :data:`PAIRED_SYNTH_RATIO`; without csynth rows the HLS coefficients are ``start``'s. FF is fitted
    with the symmetric error (:func:`fit_linear`): its features are counts of registers whose
    errors are multiplicative across tools and clocks, and the one-sided relative error fitted them ~2.5x
    too low on every source (median estimate / measured 0.4 before the change).
    """
    features, fixed = (LUT_FEATURES, "lut_fixed") if metric == "lut" else (FF_FEATURES, "ff_fixed")
    symmetric = metric == "ff"
    tied = TIED.get(metric, {})
    hls_rows = [_tied_row(r, tied) for r in _chosen(rows, metric, Target.HLS)]
    if hls_rows:
        free = [f for f in features if f not in tied]
        fitted = fit_linear(hls_rows, metric, free, fixed, symmetric=symmetric)
        hls = {f: fitted[tied.get(f, f)] for f in features}
    else:
        hls = dict(getattr(start, f"{metric}_coef"))
    synth_rows = [_synth_row(r, metric, start) for r in _chosen(rows, metric, Target.SYNTH)]
    if synth_rows:
        pinned = synth_pinned(metric, hls) | dict.fromkeys(tied, 0.0)
        synth = fit_linear(synth_rows, metric, features, fixed, pinned, symmetric=symmetric, target=Target.SYNTH)
    else:
        synth = {f: 0.0 if f in tied else round(c * PAIRED_SYNTH_RATIO[metric], 4) for f, c in hls.items()}
    return hls, synth


def _synth_row(row: Row, metric: str, consts: AnalyticalConstants) -> Row:
    """``row`` with the post-synthesis fixed LUTs: the weight ROMs synthesis moves out of block RAM become
    distributed ROM (``AnalyticalModel._resources``)."""
    if metric != "lut" or not row.terms.get("rom_lut"):
        return row
    moved = row.terms["rom_lut"] * (1.0 - consts.synth_ratio["bram18_rom"])
    return Row(row.record, {**row.terms, "lut_fixed": row.terms["lut_fixed"] + moved})


def fit_rom_bram_share(rows: Sequence[Row], start: AnalyticalConstants) -> float:
    """Share of the Resource strategy's weight-ROM block RAMs that stay block RAM after synthesis
    (``synth_ratio["bram18_rom"]``): grid search of the mean over sources of the median |BRAM18 error| on the
    post-synthesis rows that have such a ROM (``start``'s value without any)."""
    chosen = [r for r in rows if r.record.target is Target.SYNTH and r.terms["bram18_rom"] > 0]
    chosen = [r for r in chosen if r.record.measured.get("bram18", 0) > 0]
    if not chosen:
        return start.synth_ratio["bram18_rom"]
    other = np.array([r.terms["bram18"] * start.synth_ratio["bram18"] + r.terms["bram18_index"] for r in chosen])
    rom = np.array([r.terms["bram18_rom"] for r in chosen])
    meas = np.array([r.record.measured["bram18"] for r in chosen])
    sources = np.array([r.record.source for r in chosen])
    best = (float("inf"), start.synth_ratio["bram18_rom"])
    for share in np.round(np.arange(0.0, 1.001, 0.05), 2):
        ape = np.abs(other + share * rom - meas) / meas
        best = min(best, (float(np.mean([np.median(ape[sources == s]) for s in set(sources)])), float(share)))
    logger.info("synth_ratio bram18_rom %.2f (mean over sources of median |error| %.1f %%)", best[1], 100 * best[0])
    return best[1]


def fit_constants(
    records: Sequence[SynthRecord], start: AnalyticalConstants = DEFAULT_CONSTANTS, latency_rounds: int = 3
) -> AnalyticalConstants:
    """Every free constant fitted on ``records`` alone: the steps of :func:`main`, returned, not printed.

    For out-of-sample benchmarks (``scripts/bench_lut_model.py --refit-analytical`` refits per fold).
    Unlike :func:`main` the returned constants also carry the post-synthesis coefficients
    (:func:`fit_resource_coefs`). The latency coordinate descent starts from ``start``'s latency
    constants. The FF coefficients are fitted last, on the terms of the fitted operator delays: where
    pipeline registers sit (``pipe``, ``state``) depends on them (``cost_models/analytical/timing.py``).
    """
    records = fitted_on(records)
    start = start.with_values(lut_mult_pair_max_bits=fit_pair_bits(records, start))
    consts = start.with_values(const_dsp_fraction=fit_dsp_fraction(records))
    consts = consts.with_values(weight_scale=fit_weight_scale(records, consts))
    rows = representable(records, consts)
    rom_share = fit_rom_bram_share(rows, start)
    consts = consts.with_values(synth_ratio={**consts.synth_ratio, "bram18_rom": rom_share})
    lut, synth_lut = fit_resource_coefs(rows, "lut", start.with_values(synth_ratio=consts.synth_ratio))
    consts = fit_latency(records, consts.with_values(lut_coef=lut, synth_lut_coef=synth_lut), rounds=latency_rounds)
    ff, synth_ff = fit_resource_coefs(representable(records, consts), "ff", start)
    return consts.with_values(ff_coef=ff, synth_ff_coef=synth_ff)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _report(title: str, values: dict[str, float], fmt: Callable[[float], str] = lambda v: f"{v:.4g}") -> None:
    print(f"{title}: " + ", ".join(f"{k}={fmt(v)}" for k, v in values.items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="calibration folder (default: ../shared/data/synth/calibration)")
    parser.add_argument("--quick", action="store_true", help="one coordinate-descent round for latency")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    records, skipped = load_synth_dir(args.data)
    print(f"records: {len(records)} (skipped by the reader: {len(skipped)})")
    records = fitted_on(records)
    print(f"fitted on: {len(records)} (rows with a recurrent layer are scored only)")
    consts = fit_constants(records, latency_rounds=1 if args.quick else 3)
    rows = representable(records, consts)
    print(f"representable by the model: {len(rows)}")
    for metric, features, fixed in (("lut", LUT_FEATURES, "lut_fixed"), ("ff", FF_FEATURES, "ff_fixed")):
        hls_rows, synth_rows = _chosen(rows, metric, Target.HLS), _chosen(rows, metric, Target.SYNTH)
        hls, synth = dict(getattr(consts, f"{metric}_coef")), dict(getattr(consts, f"synth_{metric}_coef"))
        _report(f"{metric} hls in-sample", scores(hls_rows, metric, hls, fixed), _pct)
        _report(f"{metric} hls held-out", held_out(hls_rows, metric, features, fixed, symmetric=metric == "ff"), _pct)
        _report(f"{metric} synth in-sample", scores(synth_rows, metric, synth, fixed), _pct)
    print("\n# --- paste into cost_models/analytical/constants.py ---")
    print(f"const_dsp_fraction = {consts.const_dsp_fraction}")
    print(f"weight_scale = {consts.weight_scale}")
    print(f"lut_mult_pair_max_bits = {consts.lut_mult_pair_max_bits}")
    _report("synth_ratio", dict(consts.synth_ratio))
    for name in ("lut", "ff", "synth_lut", "synth_ff"):
        _report(f"{name}_coef", dict(getattr(consts, f"{name}_coef")))
    _report("latency", {k: getattr(consts, k) for k in _LATENCY_GRID})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
