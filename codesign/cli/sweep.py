"""``codesign sweep SWEEP.yaml [--out DIR] [--storage URL] [--workers N] [--artifacts DIR|s3://BUCKET]``:
run or resume a batch sweep, one co-design search per matrix cell, with N local worker processes.

Rerun the same command to resume; other machines join with ``codesign worker --storage URL``. Writes
``sweep.csv``, ``pareto_all.csv``, ``sweep.html`` and each cell's run folder. Exit code 1 when a worker
stopped on an unexpected error or a cell ended without a completed trial (a worker killed by a signal
is reported, its trial was retried by the others). See ``docs/sweep.md``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from codesign.cli._common import add_json, emit

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sweep", help="run or resume a batch sweep: one search per matrix cell, many workers")
    p.add_argument("sweep", metavar="SWEEP.yaml", help="sweep file: a search config plus matrix: (docs/sweep.md)")
    p.add_argument("--out", help="sweep folder (default: runs/<name>)")
    p.add_argument("--storage", help="Optuna storage URL shared by every worker (default: sqlite sweep.db in --out)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes (default 1; 0: only record)")
    p.add_argument("--artifacts", help="trained weights for every machine: a shared folder or s3://BUCKET "
                   "(default: OUT/artifacts)")  # fmt: skip
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codesign.sweep import load_sweep, run_sweep

    sweep = load_sweep(args.sweep)
    out = Path(args.out or f"runs/{sweep.name}")
    result = run_sweep(
        sweep, out, storage=args.storage, workers=args.workers, artifacts=args.artifacts,
        progress=not args.no_progress and not args.json,
    )  # fmt: skip
    with (out / "sweep.csv").open(encoding="utf-8") as handle:
        cells = list(csv.DictReader(handle))
    empty = [c["cell"] for c in cells if int(c["completed"]) == 0]
    # a worker stopped by an error fails the sweep; one killed by a signal had its trial retried by the others
    failed = [(i, code) for i, code in enumerate(result.exit_codes) if code > 0 and code != 130]
    killed = [(i, code) for i, code in enumerate(result.exit_codes) if code < 0]
    payload = {"out": out, "storage": result.storage, "exit_codes": result.exit_codes, "cells": cells,
               "files": {k: out / f for k, f in (("sweep", "sweep.csv"), ("pareto_all", "pareto_all.csv"),
                                                   ("html", "sweep.html"))}, "footprint": _footprint(out)}  # fmt: skip
    emit(args, payload, lambda: _text(cells, out, failed + killed, empty, result.seconds))
    if result.interrupted:
        return 130
    return 1 if failed or empty else 0


def _text(cells: list[dict[str, str]], out: Path, failed: list, empty: list[str], seconds: float) -> str:
    lines = [f"{len(cells)} cells in {seconds:.0f} s"]
    width = max(len(c["cell"]) for c in cells) if cells else 4
    lines.append(f"  {'cell':{width}}  trials  trainings  best acc  hypervolume  pareto")
    for c in cells:
        best = f"{float(c['best_accuracy']):.4f}" if c["best_accuracy"] else "-"
        lines.append(f"  {c['cell']:{width}}  {c['trials']:>6}  {c['trainings']:>9}  {best:>8}  "
                     f"{float(c['hypervolume']):>11.4g}  {c['pareto_size']:>6}")  # fmt: skip
    for index, code in failed:
        lines.append(f"worker {index} stopped with exit code {code}: see {out / 'logs' / f'worker-{index}.log'}")
    if empty:
        lines.append(f"no trial completed in {len(empty)} cells: {', '.join(empty)} (see their report.html)")
    footprint = _footprint(out)
    if footprint:
        from codesign.footprint import format_footprint

        lines.append(format_footprint(footprint) + " (trials of every cell, every worker)")
    lines += [f"cells: {out / 'sweep.csv'}", f"fronts: {out / 'pareto_all.csv'}", f"report: {out / 'sweep.html'}"]
    return "\n".join(lines)


def _footprint(out: Path) -> dict:
    """The sweep's total footprint recorded in ``sweep.json`` (empty when missing)."""
    import json

    try:
        return dict(json.loads((out / "sweep.json").read_text(encoding="utf-8")).get("footprint") or {})
    except (OSError, ValueError):
        return {}
