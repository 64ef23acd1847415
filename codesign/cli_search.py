"""``codesign search | demo | report``: the co-design search commands.

* ``codesign search CONFIG.yaml [--out DIR] [--trials N] [--timeout S] [--storage URL]``: run or resume
  a search (rerun the same command to resume after Ctrl-C);
* ``codesign demo [--out DIR]``: the built-in demo search on digits (``examples/search_demo.yaml``),
  then hls4ml export and bit-exact C-simulation check of its best Pareto designs (``RUN/exports``);
* ``codesign report RUN [--storage URL]``: rewrite a run's ``designs.csv``, ``pareto.csv`` and
  ``report.html`` from its study;

Optuna, torch and matplotlib are imported inside the commands, never at module import.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

__all__ = [
    "DEMO_ACCURACY_SLACK",
    "DEMO_CONFIG",
    "DEMO_EXPORTS",
    "demo_design_ids",
    "export_demo_designs",
    "print_templates",
    "register",
]

#: The demo search (kept equal to ``examples/search_demo.yaml`` by a test).
DEMO_CONFIG: dict[str, Any] = {
    "name": "demo",
    "seed": 0,
    "dataset": "digits",
    "space": {"kind": "mlp", "hidden": [1, 2], "units": [8, 16, 32, 64], "weight_bits": [2, 8], "act_bits": [2, 8]},
    "parts": ["xc7z020"],
    "clock_ns": 5,
    "cost_model": "analytical",
    "hardware": {"io_types": ["io_parallel"], "strategies": ["latency", "resource"], "reuse_factor_max": 64},
    "training": {"epochs": 8, "batch_size": 64, "learning_rate": 0.01, "proxy_fraction": 0.6},
    "search": {
        "mode": "nested",
        "formulation": "pareto",
        "objectives": ["accuracy", "latency_ns", "lut_dsp"],
        "sampler": "nsga2",
        "trials": 40,
    },
}

#: How many Pareto designs the demo exports and verifies (the most accurate; the fastest and the smallest
#: within :data:`DEMO_ACCURACY_SLACK` of it).
DEMO_EXPORTS = 3
DEMO_ACCURACY_SLACK = 0.02


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("search", help="run or resume a co-design search from a config file")
    p.add_argument("config", help="search config (YAML/JSON), see docs/search.md")
    _run_options(p, default_out=None)
    p.set_defaults(func=run_search_command)
    d = subparsers.add_parser(
        "demo", help="a small co-design search on digits, then export and C-simulation of its best designs"
    )
    _run_options(d, default_out="runs/demo")
    d.set_defaults(func=run_demo)
    r = subparsers.add_parser("report", help="rewrite a run's designs.csv, pareto.csv and report.html")
    r.add_argument("run", help="run folder (holds run.json)")
    r.add_argument("--storage", help="Optuna storage URL when not the run's own (e.g. with a password)")
    r.set_defaults(func=run_report)


def _run_options(p: argparse.ArgumentParser, default_out: str | None) -> None:
    p.add_argument("--out", default=default_out, help="run folder (default: runs/<name>)")
    p.add_argument("--trials", type=int, help="number of trials (overrides the config)")
    p.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    p.add_argument("--storage", help="Optuna storage URL (default: sqlite study.db in the run folder)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def print_templates(pattern: str = "*") -> int:
    """Print the registered hardware templates: what each fixes and what it leaves open."""
    from hw_templates.templates import list_templates

    for t in list_templates(pattern):
        fixes = ", ".join(f"{k}={v}" for k, v in t.fixes().items())
        print(f"{t.name:22} {t.summary}")
        print(f"{'':22}   fixes: {fixes}")
        print(f"{'':22}   opens: {', '.join(t.opens()) or 'nothing'}")
    return 0


def _check_counts(args: argparse.Namespace) -> None:
    from hw_templates.errors import SpecError, bad_value

    if args.trials is not None and args.trials < 1:
        raise SpecError(bad_value("--trials", args.trials, "a positive integer"))
    if args.timeout is not None and args.timeout <= 0:
        raise SpecError(bad_value("--timeout", args.timeout, "a positive number of seconds"))


def _run(settings: Any, args: argparse.Namespace) -> int:
    from codesign.search import run_config

    out = Path(args.out or f"runs/{settings.name}")
    summary = run_config(
        settings, out, trials=args.trials, timeout_s=args.timeout, storage=args.storage, progress=not args.no_progress
    )
    _print_summary(summary, out)
    if summary.interrupted:
        print(f"interrupted: finished trials are kept; rerun the same command to resume ({out})")
        return 130
    return 0


def run_search_command(args: argparse.Namespace) -> int:
    from codesign.search import load_search_config

    _check_counts(args)
    return _run(load_search_config(args.config), args)


def run_demo(args: argparse.Namespace) -> int:
    from codesign.search import search_settings_from_dict

    _check_counts(args)
    code = _run(search_settings_from_dict(dict(DEMO_CONFIG), "demo config"), args)
    if code == 0:
        code = export_demo_designs(Path(args.out), progress=not args.no_progress)
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


def export_demo_designs(run: Path, progress: bool = True) -> int:
    """Export the demo's chosen Pareto designs as hls4ml projects and verify them bit-exact by C simulation."""
    import warnings

    from codesign.cli_export import print_results
    from codesign.export.project import check_results, export_designs, requests_from_run

    # brevitas warns at import about an optional CUDA kernel package; irrelevant to export
    warnings.filterwarnings("ignore", message="fast_hadamard_transform", category=UserWarning)

    ids = demo_design_ids(run)
    if not ids:
        print("no Pareto designs to export")
        return 0
    print(f"exporting and verifying {len(ids)} Pareto designs ({', '.join(ids)}) with hls4ml + g++ C simulation ...")
    # the demo's own folder: a rerun of the demo re-exports its designs
    results = export_designs(
        requests_from_run(run, ids), run / "exports", jobs=0, force=True, progress=progress, check=False
    )
    print_results(results)
    from codesign.search import open_run, write_results

    write_results(run, open_run(run).study)  # the report now lists the exports too
    check_results(results)
    print(f"report: {run / 'report.html'}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from codesign.search import open_run, write_results

    view = open_run(args.run, args.storage)
    paths = write_results(args.run, view.study)
    print(f"report: {paths['report']}")
    return 0


def _print_summary(summary: Any, out: Path) -> None:
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
        print(f"Pareto designs on {part}: {n} of {len(groups)} architectures (shown: fastest, smallest of each)")
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
