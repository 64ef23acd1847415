"""Vendor synthesis where the tools are installed, and parsers for its reports.

With ``--build`` an exported Vivado/Vitis project is synthesized by hls4ml's ``build()`` (C synthesis,
then Vivado logic synthesis) if ``vitis_hls``, ``vivado_hls`` or ``vivado`` is on PATH; without them
the export says so once and carries on. The reports become rows with the columns of the shared
calibration data (``../shared/data/synth/README.md``), written to ``<project>/synthesis.csv`` so they
can feed calibration, and the manifest records the estimate-vs-report error per metric.

The report parsers are those of :mod:`cost_models.reports` (their formats are documented there;
the test fixtures are hand-written in those formats); this module maps their results onto the
calibration columns.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from cost_models.exported import EXPORT_SOURCE, design_cell
from cost_models.ir import LayerGraph
from cost_models.reports import (
    HlsReport,
    UtilizationReport,
    read_csynth_rpt,
    read_csynth_xml,
    read_utilization_rpt,
)
from hw_templates.config import Backend, HardwareConfig

__all__ = [
    "SCHEMA",
    "VENDOR_TOOLS",
    "announce_synthesis",
    "design_columns",
    "estimate_errors",
    "find_vendor_tool",
    "hls_report_columns",
    "parse_csynth_rpt",
    "parse_csynth_xml",
    "parse_vivado_synth_rpt",
    "synthesize",
    "utilization_columns",
    "write_synthesis_csv",
]

logger = logging.getLogger(__name__)

VENDOR_TOOLS = ("vitis_hls", "vivado_hls", "vivado")
#: Column order of the shared calibration CSVs (design-level files).
SCHEMA = (
    "source", "model_id", "design_path", "result_kind", "arch_json", "layer_summary", "n_layers", "precision",
    "weight_precision", "reuse_factor", "reuse_factors_json", "strategy", "io_type", "fpga_part",
    "clock_period_ns", "clock_uncertainty_ns", "est_clock_period_ns", "hls_tool", "hls_version",
    "vivado_version", "LUT", "FF", "DSP", "BRAM18", "BRAM36_tiles", "URAM", "latency_cycles_min",
    "latency_cycles_max", "II_min", "II_max", "latency_source", "notes",
)  # fmt: skip
#: Report column -> Cost field, for the estimate-vs-report error.
_METRICS = {"LUT": "lut", "FF": "ff", "DSP": "dsp", "BRAM18": "bram18", "latency_cycles_max": "latency_cycles"}


def find_vendor_tool() -> str | None:
    """The first of vitis_hls, vivado_hls, vivado on PATH, or None."""
    return next((t for t in VENDOR_TOOLS if shutil.which(t)), None)


def announce_synthesis() -> bool:
    """Log one line when ``--build`` cannot run synthesis; True when a tool is available."""
    tool = find_vendor_tool()
    if tool is None:
        logger.warning(
            "--build: no Vivado/Vitis HLS on PATH (%s); skipping synthesis, projects are still written and "
            "verified (run 'vitis_hls -f build_prj.tcl' in a project where the tools are installed)",
            ", ".join(VENDOR_TOOLS),
        )
    return tool is not None


def hls_report_columns(report: HlsReport) -> dict[str, Any]:
    """A parsed C-synthesis report as calibration columns (``result_kind`` ``csynth``)."""
    res = report.resources
    return {
        "result_kind": "csynth",
        "fpga_part": report.part,
        "clock_period_ns": report.clock_ns,
        "clock_uncertainty_ns": report.clock_uncertainty_ns,
        "est_clock_period_ns": report.estimated_clock_ns,
        "hls_tool": report.tool,
        "hls_version": report.tool_version,
        "LUT": res.get("lut"),
        "FF": res.get("ff"),
        "DSP": res.get("dsp"),
        "BRAM18": res.get("bram18"),
        "URAM": res.get("uram"),
        "latency_cycles_min": report.latency_min_cycles,
        "latency_cycles_max": report.latency_max_cycles,
        "II_min": report.ii_min_cycles,
        "II_max": report.ii_max_cycles,
        "latency_source": "csynth",
    }


def utilization_columns(report: UtilizationReport) -> dict[str, Any]:
    """A parsed Vivado ``report_utilization`` as calibration columns (``vsynth``); ``BRAM18`` is twice the
    36 Kb ``Block RAM Tile`` count, as in the calibration data."""
    return {
        "result_kind": "vsynth",
        "fpga_part": report.device,
        "vivado_version": report.tool_version,
        "LUT": report.lut,
        "FF": report.ff,
        "DSP": report.dsp,
        "BRAM36_tiles": report.bram36_tiles,
        "BRAM18": report.bram18,
        "URAM": report.uram,
        "latency_source": None,
    }


def parse_csynth_xml(path: str | Path) -> dict[str, Any]:
    """A ``*_csynth.xml`` report as calibration columns (parsed by :mod:`cost_models.reports`)."""
    return hls_report_columns(read_csynth_xml(path))


def parse_csynth_rpt(path: str | Path) -> dict[str, Any]:
    """A ``*_csynth.rpt`` text report as calibration columns (parsed by :mod:`cost_models.reports`)."""
    return hls_report_columns(read_csynth_rpt(path))


def parse_vivado_synth_rpt(path: str | Path) -> dict[str, Any]:
    """A Vivado ``vivado_synth.rpt`` as calibration columns (parsed by :mod:`cost_models.reports`)."""
    return utilization_columns(read_utilization_rpt(path))


def design_columns(design_id: str, graph: LayerGraph, hw: HardwareConfig, project: str) -> dict[str, Any]:
    """The calibration columns that describe the design itself (not the report). ``arch_json`` holds the
    whole layer graph and hardware configuration (``cost_models.exported.design_cell``), which
    ``codesign calibrate`` reads back exactly."""
    weighted = graph.weight_layers()
    rfs = {x.name: hw.resolve(x.name).reuse_factor for x in weighted}
    weights = sorted({x.precision.weight.to_hls() for x in weighted if x.precision.weight})
    types = f"input={graph.layers[0].precision.result.to_hls()};result={graph.output.precision.result.to_hls()}"
    return {
        "source": EXPORT_SOURCE,
        "model_id": design_id,
        "design_path": project,
        "arch_json": design_cell(graph, hw),  # the exact design, so calibration needs no C++ parsing
        "layer_summary": " | ".join(f"{x.kind.value}[{x.name}]{list(x.output_shape)}" for x in graph.layers[1:]),
        "n_layers": len(weighted),
        "precision": types,
        "weight_precision": ";".join(weights),
        "reuse_factor": next(iter(set(rfs.values()))) if len(set(rfs.values())) == 1 else "mixed",
        "reuse_factors_json": json.dumps(rfs),
        "strategy": hw.strategy.value,
        "io_type": hw.io_type.value,
        "clock_period_ns": hw.clock_ns,
        "clock_uncertainty_ns": hw.effective_clock_uncertainty_ns,
    }


def estimate_errors(row: dict[str, Any], estimate: dict[str, Any] | None) -> dict[str, float | None]:
    """Relative error ``(estimate - report) / report`` per metric (None where either side is missing or 0)."""
    if not estimate:
        return {}
    total = estimate.get("total", estimate)
    out: dict[str, float | None] = {}
    for column, key in _METRICS.items():
        measured, predicted = row.get(column), total.get(key)
        out[key] = None if not measured or predicted is None else round((predicted - measured) / measured, 4)
    return out


def synthesize(
    project: Path, graph: LayerGraph, hw: HardwareConfig, hls_model: Any, backend: Backend = Backend.VITIS
) -> dict[str, Any]:
    """Run C synthesis and Vivado synthesis (``hls_model.build``), parse the reports, score the estimates.

    Returns a JSON-ready dict: ``{"skipped": reason}`` without tools (or for a backend other than
    Vivado/Vitis), else ``{"tool", "rows", "errors"}``.
    """
    tool = find_vendor_tool()
    if tool is None:
        return {"skipped": f"no Vivado/Vitis HLS on PATH ({', '.join(VENDOR_TOOLS)})"}
    if backend not in (Backend.VITIS, Backend.VIVADO):
        return {"skipped": f"synthesis runs for Vivado/Vitis projects only, this one is {backend.value}"}
    hls_model.build(csim=False, synth=True, vsynth=True)
    rows = write_synthesis_csv(project, graph, hw)
    from cost_models import get_cost_model

    errors = {}
    for row in rows:
        target = "hls" if row["result_kind"] == "csynth" else "synth"
        estimate = get_cost_model("analytical", target).estimate(graph, hw).to_dict()
        errors[row["result_kind"]] = estimate_errors(row, estimate)
    return {"tool": tool, "rows": rows, "errors": errors}


def write_synthesis_csv(project: Path, graph: LayerGraph, hw: HardwareConfig) -> list[dict[str, Any]]:
    """Parse the reports a build left in ``project`` and write them, with the design, to
    ``project/synthesis.csv`` (what ``codesign calibrate`` reads); returns the rows."""
    rows = [{**design_columns(project.name, graph, hw, project.name), **r} for r in collect_reports(project)]
    _write_rows(project / "synthesis.csv", rows)
    return rows


def collect_reports(project: Path) -> list[dict[str, Any]]:
    """Parse every report a build left in ``project`` (csynth xml, else rpt; then vivado_synth.rpt)."""
    rows = []
    xml = sorted(project.glob("*_prj/solution1/syn/report/*_csynth.xml"))
    rpt = sorted(project.glob("*_prj/solution1/syn/report/*_csynth.rpt"))
    if xml:
        rows.append(parse_csynth_xml(xml[0]))
    elif rpt:
        rows.append(parse_csynth_rpt(rpt[0]))
    if (project / "vivado_synth.rpt").is_file():
        vsynth = parse_vivado_synth_rpt(project / "vivado_synth.rpt")
        if rows:  # latency comes from csynth of the same design, as in the calibration data
            same = ("latency_cycles_min", "latency_cycles_max", "II_min", "II_max", "hls_tool", "hls_version")
            vsynth.update({k: rows[0].get(k) for k in same})
            vsynth["latency_source"] = "csynth(same design)"
        rows.append(vsynth)
    return rows


def _write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=SCHEMA, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k) for k in SCHEMA})
