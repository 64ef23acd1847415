"""``codesign verify DIR``: re-check designs already exported by ``codesign export`` (an export folder, one
exported design, or a run/design folder with an ``exports/`` folder) by g++ C simulation. Prints a table
(``--json``: JSON) and exits with code 2 when a design is not bit-exact. See ``docs/export.md``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from codesign.cli._common import add_compile_options, add_json
from codesign.cli._runs import export_row, print_export_rows

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    v = subparsers.add_parser("verify", help="re-check exported designs by C simulation")
    v.add_argument("source", metavar="RUN_OR_EXPORT_DIR", help="an export folder, exported design or run folder")
    add_compile_options(v)
    add_json(v)
    v.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codesign.export.verify import raise_on_failures, verify_exports
    from codesign.outputs import check_output_dir

    if args.cache_dir is not None:
        check_output_dir(args.cache_dir, "--cache-dir")
    results = verify_exports(
        args.source, jobs=args.jobs, cache_dir=args.cache_dir, progress=not args.no_progress, check=False
    )
    rows = [export_row(r.design_id, "verified" if r.passed else "mismatch", Path(r.project_dir), r) for r in results]
    print_export_rows(args, rows)
    raise_on_failures(results)
    return 0
