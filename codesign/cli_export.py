"""``codesign export`` and ``codesign verify``: hls4ml projects of chosen designs, checked bit-exact.

``codesign export RUN_OR_DESIGN`` exports a saved design folder (``design.json`` + ``weights.pt``, as
``codesign train --out`` writes it) or designs of a search run (``--design ID ...``, ``--pareto`` (the
default) or ``--top K``) into ``--out`` (default ``RUN_OR_DESIGN/exports``), one hls4ml project per
design, each compiled with g++ and verified against the trained model on the test split.
``codesign verify DIR`` re-checks designs already exported (an export folder, one exported design, or
a run/design folder with an ``exports/`` folder). Both print a table and exit with code 2 when a design
fails or is not bit-exact. See ``docs/export.md``.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

from hw_templates.config import Backend
from hw_templates.errors import ExportError, SpecError

__all__ = ["print_results", "register", "run_export", "run_verify"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="export designs as hls4ml projects and verify them bit-exact")
    p.add_argument("source", metavar="RUN_OR_DESIGN", help="a design folder (design.json) or a search run folder")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--design", nargs="+", metavar="ID", help="run design ids (see the run's designs.csv)")
    which.add_argument("--pareto", action="store_true", help="every Pareto-optimal design of the run (default)")
    which.add_argument("--top", type=int, metavar="K", help="the K best feasible designs of the run")
    p.add_argument("--out", help="output folder (default: RUN_OR_DESIGN/exports)")
    p.add_argument("--backend", choices=[b.value for b in Backend], help="override the designs' HLS backend")
    p.add_argument("--build", action="store_true", help="also synthesize where Vivado/Vitis HLS is installed")
    p.add_argument("--force", action="store_true", help="replace existing exports of the same designs")
    _common(p)
    p.set_defaults(func=run_export)
    v = subparsers.add_parser("verify", help="re-check exported designs by C simulation")
    v.add_argument("source", metavar="RUN_OR_EXPORT_DIR", help="an export folder, exported design or run folder")
    _common(v)
    v.set_defaults(func=run_verify)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=int, default=0, help="designs compiled in parallel (default: one per CPU)")
    parser.add_argument("--cache-dir", help="compile cache to share between runs (default: OUT/.csim_cache)")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _requests(args: argparse.Namespace) -> list[Any]:
    from codesign.design import DESIGN_FILE
    from codesign.export.project import request_from_design, requests_from_run

    source = Path(args.source)
    if not source.is_dir():
        raise ExportError(f"RUN_OR_DESIGN {args.source!r}: no such folder")
    if (source / DESIGN_FILE).is_file():
        if args.design or args.pareto or args.top is not None:
            raise SpecError(f"{args.source}: is a single design folder; --design/--pareto/--top select run designs")
        return [request_from_design(source)]
    return requests_from_run(source, _run_ids(source, args))


def _run_ids(run: Path, args: argparse.Namespace) -> list[str]:
    from codesign.search import pareto_design_ids, top_design_ids

    if args.design:
        return list(args.design)
    if args.top is not None:
        if args.top < 1:
            raise SpecError(f"--top: expected a positive number of designs, got {args.top}")
        ids = top_design_ids(run, args.top)
    else:
        ids = pareto_design_ids(run)
    if not ids:
        raise ExportError(f"{run}: the run has no {'feasible' if args.top else 'Pareto-optimal'} designs to export")
    return ids


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("design", "status", "mismatches", "model acc", "C-sim acc", "compile s", "folder")
    lines = [header]
    for r in rows:
        lines.append(
            (
                str(r["design_id"]),
                str(r["status"]),
                "-" if r["mismatches"] is None else f"{r['mismatches']}/{r['n_samples']}",
                _pct(r["model_accuracy"]),
                _pct(r["csim_accuracy"]),
                "-" if r["compile_seconds"] is None else f"{r['compile_seconds']:.1f}",
                str(r["folder"]),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _row(design_id: str, status: str, folder: Path, v: Any, error: str | None = None) -> dict[str, Any]:
    return {
        "design_id": design_id,
        "status": status,
        "folder": str(folder),
        "mismatches": v.bit_exact_mismatches if v else None,
        "n_samples": v.n_samples if v else None,
        "model_accuracy": v.model_accuracy if v else None,
        "csim_accuracy": v.csim_accuracy if v else None,
        "compile_seconds": v.compile_seconds if v else None,
        "error": error,
    }


def _print(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"designs": rows}, indent=2))
        return
    print(_table(rows))
    for r in rows:
        if r["error"]:
            print(f"{r['design_id']}: {r['error']}")


def print_results(results: list[Any], as_json: bool = False) -> None:
    """Print export results (:class:`~codesign.export.project.ExportResult`) as a table or JSON."""
    _print([_row(r.design_id, r.status, r.project_dir, r.verification, r.error) for r in results], as_json)


def run_export(args: argparse.Namespace) -> int:
    from codesign.export.project import check_results, export_designs

    # brevitas warns at import about an optional CUDA kernel package; irrelevant to export
    warnings.filterwarnings("ignore", message="fast_hadamard_transform", category=UserWarning)
    out = Path(args.out) if args.out else Path(args.source) / "exports"
    results = export_designs(
        _requests(args),
        out,
        backend=args.backend,
        jobs=args.jobs,
        force=args.force,
        build=args.build,
        cache_dir=args.cache_dir,
        progress=not args.no_progress,
        check=False,
    )
    print_results(results, args.json)
    check_results(results)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from codesign.export.verify import raise_on_failures, verify_exports

    results = verify_exports(
        args.source, jobs=args.jobs, cache_dir=args.cache_dir, progress=not args.no_progress, check=False
    )
    rows = [_row(r.design_id, "verified" if r.passed else "mismatch", Path(r.project_dir), r) for r in results]
    _print(rows, args.json)
    raise_on_failures(results)
    return 0
