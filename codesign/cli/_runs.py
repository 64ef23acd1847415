"""What the search and export commands share: running a search and printing its summary, and the table
of exported (or re-verified) designs. Imported by command modules; imports none of them."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
from pathlib import Path
from typing import Any

from codesign.cli._common import emit

__all__ = ["export_rows", "print_export_rows", "run_search", "summary_payload"]


def run_search(settings: Any, args: argparse.Namespace) -> tuple[int, Any]:
    """Run (or resume) the search ``settings`` into ``args.out`` (default ``runs/<name>``), print its summary
    unless ``args.json``; returns the exit code (130 when interrupted, 1 when no trial completed) and the
    summary."""
    from codesign.search import run_config

    out = Path(args.out or f"runs/{settings.name}")
    summary = run_config(
        settings,
        out,
        trials=args.trials,
        timeout_s=args.timeout,
        storage=args.storage,
        progress=not args.no_progress,
        evaluations=getattr(args, "evaluations", None),
    )
    if not getattr(args, "json", False):
        print_summary(summary, out)
        if summary.interrupted:
            print(f"interrupted: finished trials are kept; rerun the same command to resume ({out})")
    if summary.interrupted:
        return 130, summary
    if summary.completed == 0:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.statuses.items()))  # e.g. 4 rejected
        print(f"codesign: no trial completed ({summary.trials} trials: {counts}; see the reasons in "
              f"{out / 'report.html'})", file=sys.stderr)  # fmt: skip
        return 1, summary
    return 0, summary


def summary_payload(summary: Any, out: Path) -> dict[str, Any]:
    """The run summary for ``--json``: the :class:`~codesign.search.driver.RunSummary` fields and the files."""
    fields = {f.name: getattr(summary, f.name) for f in dataclasses.fields(summary) if f.name != "study"}
    return {
        **fields,
        "files": {name: out / f"{name}.csv" for name in ("designs", "pareto")} | {"report": out / "report.html"},
    }


def print_summary(summary: Any, out: Path) -> None:
    statuses = ", ".join(f"{v} {k}" for k, v in sorted(summary.statuses.items()))
    print(f"{summary.trials} trials ({statuses}); {summary.trainings} trainings; {summary.seconds:.0f} s")
    pareto, designs = out / "pareto.csv", out / "designs.csv"
    if pareto.is_file():
        with pareto.open(encoding="utf-8") as handle:
            _print_pareto(list(csv.DictReader(handle)), pareto)
    if designs.is_file():
        with designs.open(encoding="utf-8") as handle:
            feasible = sum(row["feasible"] == "True" for row in csv.DictReader(handle))
        print(f"designs: {designs} ({feasible} feasible)")
    if summary.footprint:
        from codesign.footprint import format_footprint

        print(format_footprint(summary.footprint))
    print(f"report: {out / 'report.html'}")


def _print_pareto(rows: list[dict[str, str]], path: Path, max_archs: int = 12) -> None:
    """Pareto designs per part, condensed: per architecture (most accurate first) its fastest and its
    smallest (LUT+DSP) design; the whole front is in ``path``."""
    cols = ("design_id", "accuracy", "latency_ns", "lut", "ff", "dsp", "bram18")
    by_part: dict[str, dict[str, list[dict[str, str]]]] = {}
    for row in rows:
        by_part.setdefault(row["part"], {}).setdefault(row["trial"], []).append(row)
    for part, groups in by_part.items():
        n = sum(len(g) for g in groups.values())
        print(f"Pareto designs on {part}: {n}, from {len(groups)} architectures (shown: fastest, smallest of each)")
        print("  " + "  ".join(f"{c:>10}" for c in cols) + "  hardware")
        ordered = sorted(groups.values(), key=lambda g: -float(g[0]["accuracy"]))
        for group in ordered[:max_archs]:
            fastest = min(group, key=lambda r: (float(r["latency_ns"]), float(r["lut_dsp"])))
            smallest = min(group, key=lambda r: (float(r["lut_dsp"]), float(r["latency_ns"])))
            for r in [fastest] if smallest is fastest else [fastest, smallest]:
                print("  " + "  ".join(f"{_short(r[c]):>10}" for c in cols) + f"  {r['hardware']}")
        if len(groups) > max_archs:
            print(f"  ... {len(groups) - max_archs} more architectures")
    print(f"whole front: {path}")


def _short(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return text[:10]
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3g}"


def export_rows(results: list[Any]) -> list[dict[str, Any]]:
    """One row per :class:`~codesign.export.project.ExportResult`."""
    return [export_row(r.design_id, r.status, r.project_dir, r.verification, r.error) for r in results]


def export_row(design_id: str, status: str, folder: Path, v: Any, error: str | None = None) -> dict[str, Any]:
    """One design of the export table; ``v`` is its verification (or None)."""
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


def print_export_rows(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    """The export table (and each failed design's error), or ``{"designs": rows}`` with ``--json``."""
    emit(args, {"designs": rows}, lambda: _export_text(rows))


def _export_text(rows: list[dict[str, Any]]) -> str:
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
    text = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in lines]
    text += [f"{r['design_id']}: {r['error']}" for r in rows if r["error"]]
    return "\n".join(text)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
