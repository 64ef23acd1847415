"""``codesign estimate SPEC``: what a design costs on a part, per layer and in total.

SPEC is a design spec (YAML/JSON, see ``docs/spec.md``), a trained design (a folder holding
``design.json``, e.g. ``RUN/trials/N``, or that file) or an ONNX/QONNX model file. Options override
the spec's hardware settings, so "what does this model cost on that part at reuse factor 8?" is
``codesign estimate spec.yaml --part xcvu9p --reuse-factor 8``.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from codesign.cli._common import add_json, emit
from codesign.spec import DesignSpec, check_reuse_factors, load_design_spec
from cost_models import Cost, get_cost_model
from cost_models.lut import fit_probability
from hw_templates.config import FifoDepths, HardwareConfig, IoType, Strategy
from hw_templates.parts import resolve_part

__all__ = ["format_cost", "register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("estimate", help="estimate LUT/FF/DSP/BRAM, latency and II of a design")
    p.add_argument("spec", help="design spec (.yaml/.json), trained design (folder or design.json) or .onnx model")
    p.add_argument("--part", help="FPGA part, short or full (e.g. xcvu9p, xcu250-figd2104-2L-e)")
    p.add_argument("--clock-ns", type=float, help="clock period in ns")
    p.add_argument("--reuse-factor", type=int, help="model-wide reuse factor (per-layer values in the spec win)")
    p.add_argument("--strategy", choices=[s.value for s in Strategy])
    p.add_argument("--io-type", choices=[s.value for s in IoType])
    p.add_argument(
        "--fifo-depths",
        choices=[s.value for s in FifoDepths],
        help="io_stream FIFOs: one tensor each (full, hls4ml's default) or sized by the occupancy bound",
    )
    p.add_argument(
        "--target",
        default="hls",
        choices=["hls", "synth"],
        help="predict the HLS csynth estimate (default) or post-synthesis utilization",
    )
    p.add_argument("--cost-model", default="analytical", help="analytical (default) or lut[:TABLE]")
    p.add_argument("--per-layer", action="store_true", help="also show per-layer counters and notes")
    add_json(p)
    p.set_defaults(func=run)


def _load(path: str) -> DesignSpec:
    from codesign.reproduce import is_design_file, spec_from_design

    if is_design_file(path):
        return spec_from_design(path)
    if Path(path).suffix.lower() == ".onnx":
        from codesign.models.frontends import graph_from_onnx

        graph = graph_from_onnx(path)
        return DesignSpec(graph.name, graph, HardwareConfig(resolve_part("xcu250")), source=Path(path).name)
    return load_design_spec(path)


def _override(spec: DesignSpec, args: argparse.Namespace) -> DesignSpec:
    hw = spec.hardware
    changes: dict[str, object] = {}
    if args.part is not None:
        changes["part"] = resolve_part(args.part, {hw.part.name: hw.part} if hw.part.family == "custom" else None)
    if args.clock_ns is not None:
        changes["clock_ns"] = args.clock_ns
    if args.reuse_factor is not None:
        changes["reuse_factor"] = args.reuse_factor
    if args.strategy is not None:
        changes["strategy"] = Strategy.parse(args.strategy, "--strategy")
    if args.io_type is not None:
        changes["io_type"] = IoType.parse(args.io_type, "--io-type")
    if args.fifo_depths is not None:
        changes["fifo_depths"] = FifoDepths.parse(args.fifo_depths, "--fifo-depths")
    if not changes:
        return spec
    hw = replace(hw, **changes)
    check_reuse_factors(spec.graph, hw)
    return replace(spec, hardware=hw)


def run(args: argparse.Namespace) -> int:
    spec = _override(_load(args.spec), args)
    model = get_cost_model(args.cost_model, args.target)
    cost = model.estimate(spec.graph, spec.hardware)
    payload = None
    if args.json:
        payload = {
            "design": spec.name,
            **cost.to_dict(),
            "fit_probability": fit_probability(cost),
            "fifo_depths": fifo_depths(spec),
        }
    emit(args, payload, lambda: format_cost(spec, cost, per_layer=args.per_layer))
    return 0


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(s) for s in shape)


def format_cost(spec: DesignSpec, cost: Cost, per_layer: bool = False) -> str:
    """The human-readable estimate: per-layer table, totals, utilization and headline figures."""
    hw = spec.hardware
    head = (
        f"{spec.name}: {hw.part.full_name} ({hw.part.name}), clock {hw.clock_ns:g} ns, {hw.io_type.value}, "
        f"{hw.strategy.value} strategy, {cost.model} model, "
        f"{'HLS (csynth) estimate' if cost.target.value == 'hls' else 'post-synthesis estimate'}"
    )
    columns = ["layer", "kind", "out shape", "RF", "LUT", "FF", "DSP", "BRAM18", "latency", "II"]
    if per_layer:
        columns += ["BOPs", "notes"]
    rows = []
    for layer, lc in zip(spec.graph.layers, cost.layers):
        row = [
            lc.name,
            lc.kind,
            _shape(layer.output_shape),
            str(lc.reuse_factor or ""),
            _num(lc.lut),
            _num(lc.ff),
            _num(lc.dsp),
            _num(lc.bram18),
            _num(lc.latency_cycles),
            _num(lc.ii_cycles),
        ]
        if per_layer:
            row += [_num(lc.bops), "; ".join(lc.notes)]
        rows.append(row)
    util = cost.utilization()
    total = [
        "total",
        "",
        "",
        "",
        _num(cost.lut),
        _num(cost.ff),
        _num(cost.dsp),
        _num(cost.bram18),
        _num(cost.latency_cycles),
        _num(cost.ii_cycles),
    ]
    avail = [
        "available",
        "",
        "",
        "",
        _num(hw.part.lut),
        _num(hw.part.ff),
        _num(hw.part.dsp),
        _num(hw.part.bram18),
        "",
        "",
    ]
    used = ["utilization", "", "", "", *(f"{100 * util[r]:.1f}%" for r in ("lut", "ff", "dsp", "bram18")), "", ""]
    table = _table(columns, rows, [total, avail, used])
    lines = [head, "", table, ""]
    lines.append(
        f"latency {_cycles(cost.latency_cycles)} cycles = {cost.latency_ns:,.1f} ns; "
        f"II {_cycles(cost.ii_cycles)} cycles "
        f"= {cost.ii_ns:,.1f} ns ({1e3 / cost.ii_ns:,.2f} M inferences/s)"
    )
    lines.append(f"FLOPs {cost.flops:,}; parameters {cost.params:,}; BOPs {cost.bops:,}")
    if cost.power_w is not None:
        lines.append(
            f"power ~{cost.power_w:.2f} W, energy ~{cost.energy_uj:.3f} uJ per inference at full throughput "
            "(power x II, rough)"
        )
    if cost.intervals:
        lines.append(f"90 % intervals (from out-of-source residuals): {_intervals(cost)}")
    lines.append(
        f"fit probability on {hw.part.name}: {fit_probability(cost):.2f}"
        + ("" if cost.intervals else " (no intervals: the median estimate decides)")
    )
    if depths := fifo_depths(spec):
        listed = ", ".join(f"{name} {depth:,}" for name, depth in depths.items())
        lines.append(f"FIFO depths ({hw.fifo_depths.value}): {listed}")
    fits = "fits" if cost.fits() else "does NOT fit"
    lines.append(f"the design {fits} on {hw.part.name}" + "".join(f"\nnote: {n}" for n in cost.notes))
    return "\n".join(lines)


def _intervals(cost: Cost) -> str:
    names = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram18": "BRAM18", "latency_cycles": "latency"}
    return "; ".join(f"{names.get(k, k)} {_num(low)} .. {_num(high)}" for k, (low, high) in cost.intervals.items())


def fifo_depths(spec: DesignSpec) -> dict[str, int]:
    """Depth of each io_stream FIFO, by producing layer (what the exporter builds; empty for io_parallel)."""
    from cost_models.analytical import AnalyticalModel

    return AnalyticalModel().fifo_depths(spec.graph, spec.hardware)


def _table(columns: list[str], rows: list[list[str]], footer: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [columns, *rows, *footer] if i < len(r)) for i in range(len(columns))]

    def fmt(row: list[str]) -> str:
        cells = [c.ljust(w) if i < 3 or i >= 10 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()

    rule = "-" * len(fmt(columns))
    return "\n".join([fmt(columns), rule, *map(fmt, rows), rule, *map(fmt, footer)])


def _cycles(value: float) -> str:
    """Whole cycles as integers; the analytical model chains io_parallel operators across layers, so a total
    can be a fraction of a cycle (shown with one decimal rather than rounded away)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
