"""``codesign retarget RUN --part P [--clock-ns T] [--out DIR] [--json]``: the inner hardware search for every
trained architecture of a finished run on another part (or clock), without training. Writes a run
folder (default ``RUN/retarget/<part>-<clock>ns``) with designs.csv, pareto.csv and report.html, from
which ``codesign export`` works.

A sweep cell is a run folder (``SWEEP/cells/<nnn>-<label>``), so it can be given as RUN; or give the
sweep folder and ``--cell`` (the cell's label as in sweep.csv, its folder name or its number).
"""

from __future__ import annotations

import argparse
from typing import Any

from codesign.cli._common import add_json, emit

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("retarget", help="re-search a finished run's hardware on another part, no training")
    p.add_argument("run", help="run folder (holds run.json), or a sweep folder with --cell")
    p.add_argument("--cell", help="with a sweep folder: the cell (label as in sweep.csv, folder name or number)")
    p.add_argument("--part", required=True, help="the new FPGA part, short or full (see codesign list parts)")
    p.add_argument("--clock-ns", type=float, help="the new clock period in ns (default: the run's)")
    p.add_argument("--out", help="output run folder (default: RUN/retarget/<part>-<clock>ns)")
    p.add_argument("--storage", help="Optuna storage URL of RUN when not its own (e.g. with a password)")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from codesign.search.retarget import retarget, summary_dict

    run_dir = args.run
    if args.cell is not None or (Path(run_dir) / "sweep.json").is_file():
        from codesign.sweep.results import cell_folder

        run_dir = cell_folder(args.run, args.cell)
    summary = retarget(run_dir, args.part, clock_ns=args.clock_ns, out=args.out, storage=args.storage)
    emit(args, summary_dict(summary), lambda: _text(summary))
    return 0


def _text(s: Any) -> str:
    return "\n".join(
        [
            f"retargeted {s.architectures} trained architectures to {s.part} at {s.clock_ns:g} ns: "
            f"{s.feasible_architectures} with feasible designs, {s.designs} designs, {s.pareto_designs} Pareto-optimal",
            f"hardware search {s.hw_search_seconds:.2f} s; total {s.seconds:.1f} s (no training)",
            f"designs: {s.files['designs']}",
            f"report: {s.files['report']}",
        ]
    )
