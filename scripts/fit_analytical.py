"""Refit the free constants of the analytical cost model on the shared calibration data and print them.

Usage::

    python scripts/fit_analytical.py [--data DIR] [--quick]

The printed block is what ``cost_models/analytical/constants.py`` holds, so its values are
reproducible. What is fitted, in order (each step uses the previous ones):

1. ``const_dsp_fraction``: grid search, median |error| of DSP on the csynth Latency-strategy rows.
2. LUT and FF coefficients: non-negative least squares of the *relative* error over csynth rows,
   iteratively reweighted towards the median (L1), every source weighted equally.
3. Latency constants: coordinate descent on the median |relative error| of latency (all rows; the
   latency of every row is a csynth figure).
4. ``synth_ratio``: median of (post-synthesis measurement / HLS estimate of the fitted model) on the
   vsynth rows, per resource.

Held-out error: the LUT/FF fit is repeated leaving one source out and scored on that source.
The rows are never written anywhere: only coefficients and error statistics are printed.
"""

from __future__ import annotations

import argparse
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from cost_models.analytical import AnalyticalModel
from cost_models.analytical.constants import DEFAULT_CONSTANTS, FF_FEATURES, LUT_FEATURES, AnalyticalConstants
from cost_models.cost import Target
from cost_models.synth_data import SynthRecord, load_synth_dir
from hw_templates.config import Strategy
from hw_templates.errors import CodesignError

logger = logging.getLogger("fit_analytical")


@dataclass(frozen=True)
class Row:
    record: SynthRecord
    terms: dict[str, float]


def representable(records: Sequence[SynthRecord], consts: AnalyticalConstants) -> list[Row]:
    model = AnalyticalModel(Target.HLS, consts)
    rows = []
    for record in records:
        if record.mul_impl == "fabric":
            continue
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


#: Coefficients not fitted: no csynth row has narrow (LUT-mapped) products under Resource, so the LUT
#: multiplier cost stays at its physical value, ~a*b/2 LUT6 (two partial-product bits per LUT6 with the
#: carry chain, UG574 CLB).
PINNED = {"lut_mult": 0.5}


def fit_linear(rows: Sequence[Row], metric: str, features: Sequence[str], fixed: str) -> dict[str, float]:
    """NNLS of the relative error, each source weighted equally, reweighted towards L1 (5 passes)."""
    pinned = {f: PINNED[f] for f in features if f in PINNED}
    free = [f for f in features if f not in pinned]
    chosen = [r for r in rows if r.record.target is Target.HLS and r.record.measured.get(metric, 0) > 0 and known(r)]
    counts: dict[str, int] = defaultdict(int)
    for r in chosen:
        counts[source_of(r)] += 1
    x = np.array([[r.terms[f] for f in free] for r in chosen])
    y = np.array([r.record.measured[metric] - r.terms[fixed] - sum(c * r.terms[f] for f, c in pinned.items())
                  for r in chosen])  # fmt: skip
    meas = np.array([r.record.measured[metric] for r in chosen])
    balance = np.array([1.0 / np.sqrt(counts[source_of(r)]) for r in chosen])
    irls = np.ones(len(chosen))
    coef = np.zeros(len(free))
    for _ in range(6):
        w = balance * irls / meas
        coef, _ = nnls(x * w[:, None], y * w)
        resid = np.abs(x @ coef - y) / meas
        irls = 1.0 / np.sqrt(np.maximum(resid, 0.02))
    fitted = {f: float(round(c, 4)) for f, c in zip(free, coef)}
    return {f: pinned.get(f, fitted.get(f, 0.0)) for f in features}


def held_out(rows: Sequence[Row], metric: str, features: Sequence[str], fixed: str) -> dict[str, float]:
    """Median |relative error| of ``metric`` on each source when the fit leaves that source out."""
    out = {}
    csynth = [r for r in rows if r.record.target is Target.HLS and r.record.measured.get(metric, 0) > 0]
    for source in sorted({source_of(r) for r in csynth}):
        train = [r for r in csynth if source_of(r) != source]
        test = [r for r in csynth if source_of(r) == source]
        coef = fit_linear(train, metric, features, fixed)
        pred = np.array([r.terms[fixed] + sum(coef[f] * r.terms[f] for f in features) for r in test])
        out[source] = _median_ape(pred, np.array([r.record.measured[metric] for r in test]))
    return out


_LATENCY_GRID: dict[str, Sequence[float]] = {
    "t_dsp_mult_ns": np.arange(0.5, 8.01, 0.25),
    "t_lut_mult_ns": np.arange(0.5, 8.01, 0.25),
    "t_add_ns": np.arange(0.2, 4.01, 0.1),
    "latency_overhead_cycles": np.arange(0, 12.1, 1),
    "resource_overhead_cycles": np.arange(0, 12.1, 1),
    "stream_dense_pack": (1, 2, 4, 8, 12, 16, 24, 32, 64),
    "stream_resource_rf_factor": np.arange(0.3, 1.21, 0.05),
    "activation_cycles": np.arange(0, 4.1, 1),
    "table_cycles": np.arange(1, 6.1, 1),
    "softmax_cycles": np.arange(2, 16.1, 1),
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
    chosen = [r for r in records if r.measured.get("latency_cycles", 0) > 0 and r.mul_impl != "fabric"]
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


def fit_synth_ratios(records: Sequence[SynthRecord], consts: AnalyticalConstants) -> dict[str, float]:
    model = AnalyticalModel(Target.HLS, consts)
    ratios: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if r.target is not Target.SYNTH or r.mul_impl == "fabric":
            continue
        try:
            cost = model.estimate(r.graph, r.hw)
        except CodesignError:
            continue
        for key in ("lut", "ff", "dsp", "bram18"):
            pred, meas = getattr(cost, key), r.measured.get(key)
            if meas is not None and pred > 0 and meas > 0:
                ratios[key].append(meas / pred)
    return {k: round(float(np.median(ratios[k])), 3) if ratios[k] else 1.0 for k in ("lut", "ff", "dsp", "bram18")}


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
    fraction = fit_dsp_fraction(records)
    consts = DEFAULT_CONSTANTS.with_values(const_dsp_fraction=fraction)
    rows = representable(records, consts)
    print(f"representable by the model: {len(rows)}")
    lut = fit_linear(rows, "lut", LUT_FEATURES, "lut_fixed")
    ff = fit_linear(rows, "ff", FF_FEATURES, "ff_fixed")
    consts = consts.with_values(lut_coef=lut, ff_coef=ff)
    consts = fit_latency(records, consts, rounds=1 if args.quick else 3)
    ratios = fit_synth_ratios(records, consts)
    print("\n# --- paste into cost_models/analytical/constants.py ---")
    print(f"const_dsp_fraction = {fraction}")
    _report("lut_coef", lut)
    _report("ff_coef", ff)
    _report("latency", {k: getattr(consts, k) for k in _LATENCY_GRID})
    _report("synth_ratio", ratios)
    print("\n# held-out (leave one source out) median |error| of the LUT / FF fit:")
    _report("lut", held_out(rows, "lut", LUT_FEATURES, "lut_fixed"), lambda v: f"{100 * v:.1f}%")
    _report("ff", held_out(rows, "ff", FF_FEATURES, "ff_fixed"), lambda v: f"{100 * v:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
