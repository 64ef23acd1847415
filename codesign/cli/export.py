"""``codesign export``: hls4ml projects of chosen designs, checked bit-exact.

``codesign export RUN_OR_DESIGN`` exports a saved design folder (``design.json`` + ``weights.pt``, as
``codesign train --out`` writes it) or designs of a search run (``--design ID ...``, ``--pareto`` (the
default) or ``--top K``) into ``--out`` (default ``RUN_OR_DESIGN/exports``), one hls4ml project per
design, each compiled with g++ and verified against the trained model on the test split.
It prints a table (``--json``: JSON) and exits with code 2 when a design fails or is not bit-exact;
``codesign verify`` re-checks exports later. ``codesign export model.onnx`` exports a user's QONNX model
(hardware from ``--part``, ``--clock-ns``, ``--reuse-factor``, ``--strategy``, ``--io-type``), checked
against the model run by qonnx's executor on test inputs. See ``docs/export.md``.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

from codesign.cli._common import add_compile_options, add_json
from codesign.cli._runs import export_rows, print_export_rows
from hw_templates.config import Backend, IoType, Strategy
from hw_templates.errors import ExportError, SpecError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("export", help="export designs as hls4ml projects and verify them bit-exact")
    p.add_argument(
        "source",
        metavar="RUN_OR_DESIGN",
        help="a design folder (design.json), a run folder or a QONNX model (.onnx)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument("--design", nargs="+", metavar="ID", help="run design ids (see the run's designs.csv)")
    which.add_argument("--pareto", action="store_true", help="every Pareto-optimal design of the run (default)")
    which.add_argument("--top", type=int, metavar="K", help="the K best feasible designs of the run")
    p.add_argument("--out", help="output folder (default: RUN_OR_DESIGN/exports)")
    p.add_argument("--backend", choices=[b.value for b in Backend], help="override the designs' HLS backend")
    p.add_argument("--build", action="store_true", help="also synthesize where Vivado/Vitis HLS is installed")
    p.add_argument("--force", action="store_true", help="redo designs already exported (default: keep verified "
                   "ones, redo unfinished ones: a rerun resumes)")  # fmt: skip
    p.add_argument("--storage", help="the run's Optuna storage URL when not the one run.json names (e.g. PostgreSQL "
                   "with a password); weights trained on other machines come from its artifact store")  # fmt: skip
    p.add_argument("--artifacts", help="the run's artifact folder (or s3://BUCKET) when not the recorded one")
    model = p.add_argument_group("a QONNX model's hardware (model.onnx only; defaults as codesign estimate)")
    model.add_argument("--part", help="FPGA part, short or full (default xcu250)")
    model.add_argument("--clock-ns", type=float, help="clock period in ns (default 5)")
    model.add_argument("--reuse-factor", type=int, help="model-wide reuse factor (default 1)")
    model.add_argument("--strategy", choices=[s.value for s in Strategy], help="default latency")
    model.add_argument("--io-type", choices=[s.value for s in IoType], help="default io_parallel")
    add_compile_options(p)
    add_json(p)
    p.set_defaults(func=run)


def _is_model(args: argparse.Namespace) -> bool:
    return Path(args.source).suffix.lower() == ".onnx"


def _model_request(args: argparse.Namespace) -> Any:
    """A QONNX model file: the graph from its Quant nodes, the hardware from the options."""
    from codesign.export.user_model import OnnxModel, model_request
    from codesign.spec import check_reuse_factors
    from hw_templates.config import HardwareConfig
    from hw_templates.parts import resolve_part

    model = OnnxModel(args.source)
    hw = HardwareConfig(
        resolve_part(args.part or "xcu250"),
        clock_ns=args.clock_ns if args.clock_ns is not None else 5.0,
        backend=Backend.parse(args.backend or "vitis", "--backend"),
        io_type=IoType.parse(args.io_type or "io_parallel", "--io-type"),
        strategy=Strategy.parse(args.strategy or "latency", "--strategy"),
        reuse_factor=args.reuse_factor if args.reuse_factor is not None else 1,
    )
    request = model_request(model, None, hw, model.path.stem)
    check_reuse_factors(request.graph, hw)
    return request


def _requests(args: argparse.Namespace) -> list[Any]:
    from codesign.design import DESIGN_FILE
    from codesign.export.project import request_from_design, requests_from_run

    if _is_model(args):
        if args.design or args.pareto or args.top is not None:
            raise SpecError(f"{args.source}: is a model file; --design/--pareto/--top select run designs")
        return [_model_request(args)]
    hardware = [o for o in ("part", "clock_ns", "reuse_factor", "strategy", "io_type") if getattr(args, o) is not None]
    if hardware:
        raise SpecError(
            f"--{hardware[0].replace('_', '-')}: applies to a QONNX model (.onnx) only; a design has its own"
        )
    source = Path(args.source)
    if not source.is_dir():
        raise ExportError(f"RUN_OR_DESIGN {args.source!r}: no such folder")
    if (source / DESIGN_FILE).is_file():
        if args.design or args.pareto or args.top is not None:
            raise SpecError(f"{args.source}: is a single design folder; --design/--pareto/--top select run designs")
        return [request_from_design(source)]
    return requests_from_run(source, _run_ids(source, args), storage=args.storage, artifacts=args.artifacts)


def _run_ids(run: Path, args: argparse.Namespace) -> list[str]:
    from codesign.search import pareto_design_ids, top_design_ids

    if args.design:
        return list(args.design)
    if args.top is not None:
        if args.top < 1:
            raise SpecError(f"--top: expected a positive number of designs, got {args.top}")
        ids = top_design_ids(run, args.top, storage=args.storage)
    else:
        ids = pareto_design_ids(run, storage=args.storage)
    if not ids:
        raise ExportError(f"{run}: the run has no {'feasible' if args.top else 'Pareto-optimal'} designs to export")
    return ids


def _check_before_work(args: argparse.Namespace, out: Path) -> None:
    """Refusals that need no design loaded: worker count, time limit, output and cache folders."""
    from codesign.export._folders import INDEX, is_export_folder
    from codesign.export.parallel import resolve_jobs, task_timeout
    from codesign.outputs import check_output_dir

    resolve_jobs(args.jobs, 1)
    task_timeout()
    if _is_model(args):
        if not Path(args.source).is_file():
            raise SpecError(f"model {args.source!r}: expected a readable .onnx file (no such file)")
    elif not Path(args.source).is_dir():
        raise ExportError(f"RUN_OR_DESIGN {args.source!r}: no such folder")
    check_output_dir(out, "--out", produces=(INDEX,), own=is_export_folder)
    if args.cache_dir is not None:
        check_output_dir(args.cache_dir, "--cache-dir")


def run(args: argparse.Namespace) -> int:
    from codesign.export.project import check_results, export_designs

    # brevitas warns at import about an optional CUDA kernel package; irrelevant to export
    warnings.filterwarnings("ignore", message="fast_hadamard_transform", category=UserWarning)
    default = Path(args.source).with_suffix("") if _is_model(args) else Path(args.source)
    out = Path(args.out) if args.out else default / "exports"
    _check_before_work(args, out)
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
    print_export_rows(args, export_rows(results))
    check_results(results)
    return 0
