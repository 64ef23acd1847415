"""Grouped cross-validation of the lookup-table cost model against the analytical model.

Usage::

    python scripts/bench_lut_model.py [--data DIR] [--folds 5] [--by-source] [--refit-analytical]

Two hold-out schemes, never random rows of one design:

* ``architecture``: the architectures (source + layer structure, all reuse factors, strategies and
  precisions of one network together) are split into ``--folds`` folds; each fold is predicted by a
  table built without it.
* ``source``: each source repository is predicted by a table built from the others (mostly outside
  the table's support, so mostly the analytical fallback: it shows how far the table transfers).

Per metric (LUT, FF, DSP, BRAM18, latency) it prints, on the rows where the table has support and
side by side with the analytical model on the same rows: median absolute % error, the fraction within
+-10 % and +-25 %, and the empirical coverage of the 90 % intervals (also on all rows, fallback
included). Rows whose measured value is 0 count for coverage only. Then the throughput of both models.

Caveat: the analytical model's constants were fitted on all of this data (scripts/fit_analytical.py),
so by default its errors here are in-sample; the table's are out-of-sample. The comparison favours the
analytical model. With ``--refit-analytical`` both are out of sample: per fold, the analytical model's
free constants are refitted on the training rows only (``fit_analytical.fit_constants``: DSP fraction,
LUT/FF coefficients for both targets, latency constants), the table is built from the training rows on
top of that fold's analytical model, and both are scored on the held-out rows; the report then also gives
the median errors over all rows (fallback included). What stays fitted on all rows: the latency
coordinate descent starts from the shipped constants (``--latency-start grid-middle`` starts from the
middle of each search grid instead), and the hand-set thresholds and paired csynth->synth ratios of
cost_models/analytical/constants.py were chosen by looking at this data. Only aggregate figures are
printed; no row is written anywhere.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from cost_models.analytical import AnalyticalConstants, AnalyticalModel
from cost_models.cost import Target
from cost_models.lut import METRICS, LutModel, LutTable, Sample, build_table, design_point, make_samples
from cost_models.lut._build import _fold_of, metric_value
from cost_models.synth_data import SynthRecord, load_synth_dir
from hw_templates.errors import CodesignError

#: Refits the analytical constants on the given training records (``--refit-analytical``).
Refit = Callable[[Sequence[SynthRecord]], AnalyticalConstants]


@dataclass(frozen=True)
class Outcome:
    """One held-out row and metric."""

    source: str
    target: str
    metric: str
    measured: float
    lut: float
    analytical: float
    low: float
    high: float
    supported: bool


class _RebasedLutModel(LutModel):
    """A lookup-table model on top of a given analytical model (``LutModel`` always uses the shipped
    constants). Only for ``--refit-analytical``, where the table was built against ``analytical``."""

    def __init__(self, target: Target, table: LutTable, analytical: AnalyticalModel) -> None:
        super().__init__(target, table)
        if not isinstance(getattr(self, "_analytical", None), AnalyticalModel):
            raise RuntimeError("LutModel no longer keeps its analytical model in _analytical; update this script")
        self._analytical = analytical


def _rebase(samples: Sequence[Sample], records: dict[str, SynthRecord], models: dict) -> list[Sample]:
    """``samples`` re-estimated by ``models`` (what ``make_samples`` does with the shipped constants)."""
    out = []
    for sample in samples:
        record = records[sample.file]
        try:
            cost = models[record.target].estimate(record.graph, record.hw)
        except CodesignError:
            continue
        point = design_point(record.graph, record.hw, cost, record.target)
        out.append(replace(sample, point=point, analytical={m: metric_value(cost, m) for m in METRICS}))
    return out


def _predict(
    train: Sequence[Sample],
    test: Sequence[Sample],
    records: dict[str, SynthRecord],
    constants: AnalyticalConstants | None = None,
) -> list[Outcome]:
    if constants is None:
        table = build_table(train)
        models = {t: (LutModel(t, table), AnalyticalModel(t)) for t in Target}
    else:
        fold_models = {t: AnalyticalModel(t, constants) for t in Target}
        train, test = _rebase(train, records, fold_models), _rebase(test, records, fold_models)
        table = build_table(train)
        models = {t: (_RebasedLutModel(t, table, fold_models[t]), fold_models[t]) for t in Target}
    out = []
    for sample in test:
        record = records[sample.file]
        lut_model, analytical = models[record.target]
        cost = lut_model.estimate(record.graph, record.hw)
        base = analytical.estimate(record.graph, record.hw)
        point = design_point(record.graph, record.hw, base, record.target)
        for metric in METRICS:
            if metric not in sample.measured:
                continue
            low, high = cost.intervals[metric]
            out.append(
                Outcome(
                    source=sample.source.split("/")[0],
                    target=record.target.value,
                    metric=metric,
                    measured=sample.measured[metric],
                    lut=getattr(cost, metric),
                    analytical=getattr(base, metric),
                    low=low,
                    high=high,
                    supported=table.lookup(point, metric) is not None,
                )
            )
    return out


def cross_validate(
    samples: Sequence[Sample],
    records: dict,
    fold_of: Callable[[Sample], int],
    folds: int,
    refit: Refit | None = None,
    log: list[str] | None = None,
) -> list:
    """Held-out outcomes of every fold; with ``refit``, the analytical constants are refitted per fold on
    the training rows only (one line per fold appended to ``log``)."""
    outcomes: list[Outcome] = []
    for fold in range(folds):
        train = [s for s in samples if fold_of(s) != fold]
        test = [s for s in samples if fold_of(s) == fold]
        if not (train and test):
            continue
        constants = None
        if refit is not None:
            start = time.perf_counter()
            constants = refit([records[s.file] for s in train])
            if log is not None:
                log.append(_fit_line(fold, len(train), len(test), time.perf_counter() - start, constants))
        outcomes += _predict(train, test, records, constants)
    return outcomes


def _fit_line(fold: int, train: int, test: int, seconds: float, c: AnalyticalConstants) -> str:
    def coef(values: Mapping[str, float]) -> str:
        return " ".join(f"{v:.3g}" for v in values.values())

    return (
        f"fold {fold}: fitted on {train} rows in {seconds:.0f} s, scored on {test}: const_dsp_fraction "
        f"{c.const_dsp_fraction}, lut_coef [{coef(c.lut_coef)}], ff_coef [{coef(c.ff_coef)}], synth_lut_coef "
        f"[{coef(c.synth_lut_coef)}], synth_ff_coef [{coef(c.synth_ff_coef)}], t_dsp/lut_mult/add_ns "
        f"{c.t_dsp_mult_ns}/{c.t_lut_mult_ns}/{c.t_add_ns}"
    )


def _stats(rows: Sequence[Outcome], attr: str) -> tuple[float, float, float]:
    positive = [r for r in rows if r.measured > 0]
    if not positive:
        return float("nan"), float("nan"), float("nan")
    err = np.array([abs(getattr(r, attr) - r.measured) / r.measured for r in positive])
    return 100 * float(np.median(err)), 100 * float(np.mean(err <= 0.10)), 100 * float(np.mean(err <= 0.25))


def _coverage(rows: Sequence[Outcome]) -> float:
    return 100 * float(np.mean([r.low <= r.measured <= r.high for r in rows])) if rows else float("nan")


def report(title: str, outcomes: Sequence[Outcome], by_source: bool, all_rows: bool = False) -> None:
    """One markdown table; ``all_rows`` adds both models' median APE over all rows (fallback included)."""
    out = sys.stdout
    out.write(f"\n## {title}\n")
    extra = " LUT-model / analytical median APE (all) |" if all_rows else ""
    out.write("| metric | rows | supported | LUT-model median APE | analytical median APE | LUT-model <=10% / <=25% "
              f"| analytical <=10% / <=25% | 90% coverage (supported) | coverage (all) |{extra}\n")  # fmt: skip
    out.write("|---|---|---|---|---|---|---|---|---|" + ("---|" if all_rows else "") + "\n")
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.metric].append(o)
        if by_source:
            groups[f"{o.metric} [{o.source}/{o.target}]"].append(o)
    for name in sorted(groups, key=lambda k: (METRICS.index(k.split()[0]), k)):
        rows = groups[name]
        sup = [r for r in rows if r.supported]
        lut, analytical = _stats(sup, "lut"), _stats(sup, "analytical")
        cells = [
            name, str(len(rows)), str(len(sup)), f"{lut[0]:.1f} %", f"{analytical[0]:.1f} %",
            f"{lut[1]:.0f} / {lut[2]:.0f} %", f"{analytical[1]:.0f} / {analytical[2]:.0f} %",
            f"{_coverage(sup):.1f} %", f"{_coverage(rows):.1f} %",
        ]  # fmt: skip
        if all_rows:
            cells.append(f"{_stats(rows, 'lut')[0]:.1f} / {_stats(rows, 'analytical')[0]:.1f} %")
        out.write("| " + " | ".join(cells) + " |\n")


def throughput(records: Sequence[SynthRecord], repeats: int = 3) -> None:
    rates = {}
    for name, factory in (("analytical", AnalyticalModel), ("lut", LutModel)):
        models = {t: factory(t) for t in Target}
        start = time.perf_counter()
        for _ in range(repeats):
            for r in records:
                models[r.target].estimate(r.graph, r.hw)
        rates[name] = repeats * len(records) / (time.perf_counter() - start)
    ratio = rates["analytical"] / rates["lut"]
    sys.stdout.write(
        f"\n## Throughput ({len(records)} designs x {repeats})\nanalytical {rates['analytical']:,.0f} designs/s, "
        f"lut {rates['lut']:,.0f} designs/s: the lookup-table model is {ratio:.2f}x slower (target: within 5x)\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="calibration folder (default: ../shared/data/synth/calibration)")
    parser.add_argument("--folds", type=int, default=5, help="architecture folds")
    parser.add_argument("--by-source", action="store_true", help="also break every metric down by source")
    parser.add_argument(
        "--refit-analytical",
        action="store_true",
        help="refit the analytical constants per fold on the training rows only (both models out of sample)",
    )
    parser.add_argument(
        "--latency-start",
        choices=("shipped", "grid-middle"),
        default="shipped",
        help="with --refit-analytical: start the latency coordinate descent from the shipped constants "
        "(fit_analytical.py's procedure) or from the middle of each search grid (nothing from all rows)",
    )
    parser.add_argument("--latency-rounds", type=int, default=3, help="with --refit-analytical: descent rounds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    records, _ = load_synth_dir(args.data)
    samples, _ = make_samples(records)
    by_file = {r.file: r for r in records}
    sources = sorted({s.source for s in samples})
    refit = _refitter(args.latency_start, args.latency_rounds) if args.refit_analytical else None
    suffix = ", analytical constants refitted per fold on the training rows" if refit else ""
    for title, fold_of, folds in (
        (f"Hold out whole architectures ({args.folds} folds, {len(samples)} rows)",
         lambda s: _fold_of(s.group, args.folds), args.folds),
        (f"Hold out whole sources ({len(sources)} folds)", lambda s: sources.index(s.source), len(sources)),
    ):  # fmt: skip
        log: list[str] = []
        start = time.perf_counter()
        outcomes = cross_validate(samples, by_file, fold_of, folds, refit, log)
        report(title + suffix, outcomes, args.by_source, all_rows=refit is not None)
        if refit is not None:
            sys.stdout.write(
                f"\nRefits ({time.perf_counter() - start:.0f} s in all, latency start: {args.latency_start}):\n"
                + "".join(f"- {line}\n" for line in log)
            )
    throughput([by_file[s.file] for s in samples])
    return 0


def _refitter(latency_start: str, rounds: int) -> Refit:
    from bench_cost_model import fit_module  # scripts/ is on sys.path when a script runs

    fit = fit_module()
    start = fit.DEFAULT_CONSTANTS
    if latency_start == "grid-middle":
        middle = {k: round(float(np.asarray(g)[len(g) // 2]), 3) for k, g in fit._LATENCY_GRID.items()}
        start = start.with_values(**middle)
    return lambda records: fit.fit_constants(records, start=start, latency_rounds=rounds)


if __name__ == "__main__":
    raise SystemExit(main())
