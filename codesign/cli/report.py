"""``codesign report RUN [--storage URL] [--json]``: rewrite a run's ``designs.csv``, ``pareto.csv`` and
``report.html`` from its study; on a sweep folder every cell's and ``sweep.csv``, ``pareto_all.csv``, ``sweep.html``."""

from __future__ import annotations

import argparse

from codesign.cli._common import add_json, emit

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    r = subparsers.add_parser(
        "report", help="rewrite a run's designs.csv, pareto.csv and report.html (a sweep's: sweep.csv, sweep.html)"
    )
    r.add_argument("run", help="run folder (holds run.json) or sweep folder (holds sweep.json)")
    r.add_argument("--storage", help="Optuna storage URL when not the run's own (e.g. with a password)")
    add_json(r)
    r.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from codesign.search import open_run, write_results
    from codesign.sweep.runner import SWEEP_FILE

    if (Path(args.run) / SWEEP_FILE).is_file():  # a sweep folder: every cell and the sweep's own files
        from codesign.sweep import write_sweep_results

        files = write_sweep_results(args.run, storage=args.storage)
        emit(args, {"files": files}, f"report: {files['html']}")
        return 0
    view = open_run(args.run, args.storage)
    paths = write_results(args.run, view.study)
    emit(args, {"files": paths}, f"report: {paths['report']}")
    return 0
