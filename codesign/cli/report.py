"""``codesign report RUN [--storage URL] [--json]``: rewrite a run's ``designs.csv``, ``pareto.csv`` and
``report.html`` from its study."""

from __future__ import annotations

import argparse

from codesign.cli._common import add_json, emit

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    r = subparsers.add_parser("report", help="rewrite a run's designs.csv, pareto.csv and report.html")
    r.add_argument("run", help="run folder (holds run.json)")
    r.add_argument("--storage", help="Optuna storage URL when not the run's own (e.g. with a password)")
    add_json(r)
    r.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codesign.search import open_run, write_results

    view = open_run(args.run, args.storage)
    paths = write_results(args.run, view.study)
    emit(args, {"files": paths}, f"report: {paths['report']}")
    return 0
