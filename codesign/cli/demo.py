"""``codesign demo [--out DIR]``: the built-in demo search on digits, then hls4ml export and bit-exact C
simulation of its best Pareto designs (``RUN/exports``).

The demo's config ships with the package (``codesign/cli/demo.yaml``; ``examples/search_demo.yaml`` is
the same file, a test keeps them equal).
"""

from __future__ import annotations

import argparse
import csv
from importlib import resources
from pathlib import Path
from typing import Any

from codesign.cli._common import add_run_options, check_counts, emit
from codesign.cli._runs import export_rows, print_export_rows, run_search, summary_payload

__all__ = ["DEMO_ACCURACY_SLACK", "DEMO_EXPORTS", "demo_config", "demo_design_ids", "export_demo_designs", "register"]

#: How many Pareto designs the demo exports and verifies (the most accurate; the fastest and the smallest
#: within :data:`DEMO_ACCURACY_SLACK` of it).
DEMO_EXPORTS = 3
DEMO_ACCURACY_SLACK = 0.02


def register(subparsers: argparse._SubParsersAction) -> None:
    d = subparsers.add_parser(
        "demo", help="a small co-design search on digits, then export and C-simulation of its best designs"
    )
    add_run_options(d, default_out="runs/demo")
    d.set_defaults(func=run)


def demo_config() -> dict[str, Any]:
    """The demo search config (package data ``codesign/cli/demo.yaml``) as a dict."""
    import yaml

    return yaml.safe_load(resources.files(__package__).joinpath("demo.yaml").read_text(encoding="utf-8"))


def run(args: argparse.Namespace) -> int:
    from codesign.footprint import Meter
    from codesign.search import search_settings_from_dict

    check_counts(args)
    meter = Meter()
    code, summary = run_search(search_settings_from_dict(demo_config(), "demo config"), args)
    exports: list[dict[str, Any]] = []
    if code == 0:
        exports = export_demo_designs(Path(args.out), progress=not args.no_progress, args=args, meter=meter)
    if args.json:
        emit(args, {**summary_payload(summary, Path(args.out)), "exports": exports}, "")
    return code


def demo_design_ids(run: Path, k: int = DEMO_EXPORTS) -> list[str]:
    """Up to ``k`` distinct Pareto designs of ``run`` on its first part: the most accurate, then the fastest
    and the smallest (LUT+DSP share) of those within :data:`DEMO_ACCURACY_SLACK` of its accuracy."""
    with (run / "pareto.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return []
    rows = [r for r in rows if r["part"] == rows[0]["part"]]
    best = max(rows, key=lambda r: (float(r["accuracy"]), -float(r["latency_ns"])))
    near = [r for r in rows if float(r["accuracy"]) >= float(best["accuracy"]) - DEMO_ACCURACY_SLACK]
    picks = [
        best,
        min(near, key=lambda r: (float(r["latency_ns"]), -float(r["accuracy"]))),
        min(near, key=lambda r: (float(r["lut_dsp"]), -float(r["accuracy"]))),
    ]
    ids = list(dict.fromkeys(r["design_id"] for r in picks))
    return ids[:k]


def export_demo_designs(
    run: Path, progress: bool = True, args: argparse.Namespace | None = None, meter: Any = None
) -> list[dict[str, Any]]:
    """Export the demo's chosen Pareto designs as hls4ml projects and verify them bit-exact by C simulation;
    prints their table (not with ``args.json``) and returns its rows; ExportError when one fails. With a
    :class:`codesign.footprint.Meter` started before the search, the run's footprint then covers the
    exports too."""
    import warnings

    from codesign.export.project import check_results, export_designs, requests_from_run

    # brevitas warns at import about an optional CUDA kernel package; irrelevant to export
    warnings.filterwarnings("ignore", message="fast_hadamard_transform", category=UserWarning)
    quiet = bool(args and args.json)
    ids = demo_design_ids(run)
    if not ids:
        if not quiet:
            print("no Pareto designs to export")
        return []
    if not quiet:
        print(
            f"exporting and verifying {len(ids)} Pareto designs ({', '.join(ids)}) with hls4ml + g++ C simulation ..."
        )
    # the demo's own folder: a rerun of the demo re-exports its designs
    results = export_designs(
        requests_from_run(run, ids), run / "exports", jobs=0, force=True, progress=progress, check=False
    )
    rows = export_rows(results)
    if not quiet:
        print_export_rows(argparse.Namespace(json=False), rows)
    from codesign.search import open_run, write_results
    from codesign.search.results import store_footprint

    study = open_run(run).study
    if meter is not None:
        trainings = study.user_attrs.get("footprints", [{}])[-1].get("trainings", 0)
        footprint = meter.read(trainings=trainings, exports=len(results))
        store_footprint(study, run, footprint, replace_last=True)
        if not quiet:
            from codesign.footprint import format_footprint

            print(format_footprint(footprint))
    write_results(run, study)  # the report now lists the exports (and the footprint) too
    check_results(results)
    if not quiet:
        print(f"report: {run / 'report.html'}")
    return rows
