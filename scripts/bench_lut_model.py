"""Grouped cross-validation of the lookup-table cost model against the analytical model.

Usage::

    python scripts/bench_lut_model.py [--data DIR] [--folds 5] [--by-source]

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
so its errors here are in-sample; the table's are out-of-sample. The comparison favours the analytical
model. Only aggregate figures are printed; no row is written anywhere.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cost_models.analytical import AnalyticalModel
from cost_models.cost import Target
from cost_models.lut import METRICS, LutModel, Sample, build_table, design_point, make_samples
from cost_models.lut._build import _fold_of
from cost_models.synth_data import SynthRecord, load_synth_dir


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


def _predict(train: Sequence[Sample], test: Sequence[Sample], records: dict[str, SynthRecord]) -> list[Outcome]:
    table = build_table(train)
    models = {t: (LutModel(t, table), AnalyticalModel(t)) for t in Target}
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


def cross_validate(samples: Sequence[Sample], records: dict, fold_of: Callable[[Sample], int], folds: int) -> list:
    outcomes: list[Outcome] = []
    for fold in range(folds):
        train = [s for s in samples if fold_of(s) != fold]
        test = [s for s in samples if fold_of(s) == fold]
        if train and test:
            outcomes += _predict(train, test, records)
    return outcomes


def _stats(rows: Sequence[Outcome], attr: str) -> tuple[float, float, float]:
    positive = [r for r in rows if r.measured > 0]
    if not positive:
        return float("nan"), float("nan"), float("nan")
    err = np.array([abs(getattr(r, attr) - r.measured) / r.measured for r in positive])
    return 100 * float(np.median(err)), 100 * float(np.mean(err <= 0.10)), 100 * float(np.mean(err <= 0.25))


def _coverage(rows: Sequence[Outcome]) -> float:
    return 100 * float(np.mean([r.low <= r.measured <= r.high for r in rows])) if rows else float("nan")


def report(title: str, outcomes: Sequence[Outcome], by_source: bool) -> None:
    out = sys.stdout
    out.write(f"\n## {title}\n")
    out.write("| metric | rows | supported | LUT-model median APE | analytical median APE | LUT-model <=10% / <=25% "
              "| analytical <=10% / <=25% | 90% coverage (supported) | coverage (all) |\n")  # fmt: skip
    out.write("|---|---|---|---|---|---|---|---|---|\n")
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    records, _ = load_synth_dir(args.data)
    samples, _ = make_samples(records)
    by_file = {r.file: r for r in records}
    sources = sorted({s.source for s in samples})
    arch = cross_validate(samples, by_file, lambda s: _fold_of(s.group, args.folds), args.folds)
    report(f"Hold out whole architectures ({args.folds} folds, {len(samples)} rows)", arch, args.by_source)
    leave = cross_validate(samples, by_file, lambda s: sources.index(s.source), len(sources))
    report(f"Hold out whole sources ({len(sources)} folds)", leave, args.by_source)
    throughput([by_file[s.file] for s in samples])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
