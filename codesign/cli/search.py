"""``codesign search CONFIG.yaml [--out DIR] [--trials N] [--evaluations N] [--timeout S] [--storage URL]
[--json]``: run or resume a co-design search (rerun the same command to resume after Ctrl-C); ``--evaluations``
budgets expensive evaluations instead of trials. See ``docs/search.md``.

Optuna, torch and matplotlib are imported inside the command, never at module import.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from codesign.cli._common import add_run_options, check_counts, emit
from codesign.cli._runs import run_search, summary_payload

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("search", help="run or resume a co-design search from a config file")
    p.add_argument("config", help="search config (YAML/JSON), see docs/search.md")
    add_run_options(p, default_out=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codesign.search import load_search_config

    check_counts(args)
    settings = load_search_config(args.config)
    code, summary = run_search(settings, args)
    if args.json:
        emit(args, summary_payload(summary, Path(args.out or f"runs/{settings.name}")), "")
    return code
