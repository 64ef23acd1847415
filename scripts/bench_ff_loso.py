"""A quick leave-one-source-out check of the analytical model's FF estimates alone.

Usage::

    python scripts/bench_ff_loso.py [--data DIR] [--min-rows 10] [--cap 60] [--cache PATH] [--per-source]

Same folds, row caps and refit as ``scripts/bench_cost_model.py`` (``fit_analytical.fit_constants`` on the
other folds, one latency round), and the same FF figures, but no lookup table is built and, with
``--cache``, each fold's fitted constants are kept in a JSON file: a later run reuses them and refits only
the FF coefficients (``fit_analytical.fit_resource_coefs``), in ~15 s of CPU instead of minutes. The FF fit
comes last in ``fit_constants`` and nothing else depends on it, so while a change touches FF terms only
the figures equal the full bench's. Delete the cache (or pass ``--refresh``) after any change that moves
LUT, DSP, BRAM or latency terms, or the data. ``--per-source`` prints each source's median |error| and
median estimate / measured ratio (which way it misses).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cost_models.analytical import DEFAULT_CONSTANTS, AnalyticalConstants, AnalyticalModel
from cost_models.analytical.constants import FF_FEATURES
from cost_models.cost import Target
from cost_models.synth_data import SynthRecord, load_synth_dir
from cost_models.validation import Prediction, source_folds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cost_model import capped, fit_module, held_out_predictions, print_target_figures  # scripts/: no package


def fold_constants(
    records: Sequence[SynthRecord], folds: dict[str, int], cap: int, cache: Path | None
) -> dict[int, AnalyticalConstants]:
    """Each fold's constants as the full bench fits them (read from / written to ``cache`` when given)."""
    fit = fit_module()
    stored: dict[str, dict] = json.loads(cache.read_text()) if cache and cache.exists() else {}
    out = {}
    for fold in sorted(set(folds.values())):
        key = ",".join(sorted(s for s, f in folds.items() if f == fold))
        if key not in stored:
            train = capped(fit.fitted_on([r for r in records if folds[r.source] != fold]), cap)
            stored[key] = fit.fit_constants(train, latency_rounds=1).to_dict()
        # FF coefficients are refitted anyway: a feature added since the cache was written starts from 0
        coefs = {n: dict.fromkeys(FF_FEATURES, 0.0) | stored[key][n] for n in ("ff_coef", "synth_ff_coef")}
        values = stored[key] | coefs
        out[fold] = AnalyticalConstants(**values)
    if cache:
        cache.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    return out


def fold_predictions(
    records: Sequence[SynthRecord], folds: dict[str, int], cap: int, constants: dict[int, AnalyticalConstants]
) -> list[Prediction]:
    """Each fold's FF predicted with its constants and FF coefficients refitted without it."""
    fit = fit_module()
    out = []
    for fold, consts in constants.items():
        train = capped(fit.fitted_on([r for r in records if folds[r.source] != fold]), cap)
        ff, synth_ff = fit.fit_resource_coefs(fit.representable(train, consts), "ff", DEFAULT_CONSTANTS)
        models = {t: AnalyticalModel(t, consts.with_values(ff_coef=ff, synth_ff_coef=synth_ff)) for t in Target}
        out += held_out_predictions(records, folds, fold, models, "ff")
    return out


def ratio(predictions: Sequence[Prediction]) -> float:
    """Median estimate / measured (below 1: the model is low)."""
    values = [p.predicted["analytical"]["ff"] / p.measured["ff"] for p in predictions if p.measured["ff"] > 0]
    return float(np.median(values)) if values else float("nan")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="calibration folder (default: ../shared/data/synth/calibration)")
    parser.add_argument("--min-rows", type=int, default=10, help="sources with fewer rows are held out together")
    parser.add_argument("--cap", type=int, default=60, help="rows per source each refit sees (0: all)")
    parser.add_argument("--cache", type=Path, help="JSON file keeping each fold's fitted constants")
    parser.add_argument("--refresh", action="store_true", help="refit every fold's constants (rewrites --cache)")
    parser.add_argument("--per-source", action="store_true", help="one line per source and kind of row")
    args = parser.parse_args(argv)
    start = time.process_time()
    records, _ = load_synth_dir(args.data)
    folds = source_folds(records, args.min_rows)
    if args.refresh and args.cache and args.cache.exists():
        args.cache.unlink()
    predictions = fold_predictions(records, folds, args.cap, fold_constants(records, folds, args.cap, args.cache))
    print_target_figures(predictions, "ff", 1, args.per_source, lambda rows: f", estimate / measured {ratio(rows):.2f}")
    print(f"CPU time {time.process_time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
