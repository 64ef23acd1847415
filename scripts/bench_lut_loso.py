"""A quick leave-one-source-out check of the analytical model's LUT estimates alone.

Usage::

    python scripts/bench_lut_loso.py [--data DIR] [--min-rows 10] [--cap 60] [--per-source]

Same folds and row caps as ``scripts/bench_cost_model.py`` (sources with fewer than ``--min-rows`` rows
held out together, at most ``--cap`` rows per source in each refit), but per fold only what LUT depends
on is refitted (the constant-product DSP share, the post-synthesis weight-ROM block-RAM share and the LUT
coefficients, ``fit_analytical``), not the
operator delays or FF, and no lookup table is built: a few minutes of CPU instead of ten, for iterating
on a LUT mechanism. The figures are the analytical model's, out of source; ``bench_cost_model.py``
gives the full table.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cost_models.analytical import DEFAULT_CONSTANTS, AnalyticalModel
from cost_models.cost import Target
from cost_models.synth_data import SynthRecord, load_synth_dir
from cost_models.validation import Prediction, source_folds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cost_model import capped, fit_module, held_out_predictions, print_target_figures  # scripts/: no package


def fold_predictions(records: Sequence[SynthRecord], folds: dict[str, int], cap: int) -> list[Prediction]:
    """Each fold's LUT predicted with the LUT constants fitted on the other folds only."""
    fit = fit_module()
    out = []
    for fold in sorted(set(folds.values())):
        train = capped([r for r in records if folds[r.source] != fold], cap)
        consts = DEFAULT_CONSTANTS.with_values(const_dsp_fraction=fit.fit_dsp_fraction(train))
        consts = consts.with_values(weight_scale=fit.fit_weight_scale(train, consts))
        rows = fit.representable(train, consts)
        share = fit.fit_rom_bram_share(rows, consts)
        consts = consts.with_values(synth_ratio={**consts.synth_ratio, "bram18_rom": share})
        lut, synth_lut = fit.fit_resource_coefs(rows, "lut", consts)
        consts = consts.with_values(lut_coef=lut, synth_lut_coef=synth_lut)
        models = {t: AnalyticalModel(t, consts) for t in Target}
        out += held_out_predictions(records, folds, fold, models, "lut")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="calibration folder (default: ../shared/data/synth/calibration)")
    parser.add_argument("--min-rows", type=int, default=10, help="sources with fewer rows are held out together")
    parser.add_argument("--cap", type=int, default=60, help="rows per source each refit sees (0: all)")
    parser.add_argument("--per-source", action="store_true", help="one line per source and kind of row")
    args = parser.parse_args(argv)
    start = time.process_time()
    records, _ = load_synth_dir(args.data)
    predictions = fold_predictions(records, source_folds(records, args.min_rows), args.cap)
    print_target_figures(predictions, "lut", 0, args.per_source)
    print(f"CPU time {time.process_time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
