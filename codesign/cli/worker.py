"""``codesign worker --storage URL [--sweep NAME] [--out DIR] [--artifacts DIR|s3://BUCKET]``: join a sweep
from any machine and take its cells' trials until every cell is done (see ``docs/sweep.md``).

The sweep (every cell's config) is read from the storage; ``--out`` keeps this machine's trial folders
and logs. Exit code 1 when a trial raised an unexpected error (the trial is recorded as failed).
"""

from __future__ import annotations

import argparse

from codesign.cli._common import add_json, emit

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("worker", help="join a sweep on a shared storage and run its trials")
    p.add_argument("--storage", required=True, help="the sweep's Optuna storage URL (e.g. postgresql://...)")
    p.add_argument("--sweep", help="the sweep's name (needed when the storage holds several)")
    p.add_argument("--out", default="runs/worker", help="this machine's folder for trial files (default runs/worker)")
    p.add_argument("--artifacts", help="the shared artifact folder's path on this machine, when not the recorded one")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    from codesign.sweep import run_worker

    ran = run_worker(args.storage, args.out, sweep_name=args.sweep, index=os.getpid(), artifacts=args.artifacts)
    emit(args, {"trials": ran}, f"worker done: {ran} trials run here; the sweep has no open trial left")
    return 0
