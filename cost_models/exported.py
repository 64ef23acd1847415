"""Designs exported by ``codesign export``: their own record of the network and the hardware.

Calibration needs the network and hardware a synthesis result belongs to. For the toolkit's own
exports both are recorded exactly, so nothing has to be re-parsed from C++:

* the project's ``manifest.json`` (format :data:`MANIFEST_FORMAT`, written by
  ``codesign.export._manifest``) holds ``design.graph`` and ``design.hardware``: the layer graph and
  hardware configuration the cost model priced, from which hls4ml wrote the firmware (every applied
  setting was read back and checked by the export);
* a row of ``synthesis.csv`` (written by ``codesign export --build``) carries the same record in its
  ``arch_json`` cell, as ``{"format": ROW_FORMAT, "graph": ..., "hardware": ...}``.

The report a result comes from states the part, clock and HLS tool it was built with; where they
differ from the design's (a user edited ``project.tcl`` or built with Vivado HLS), the report's win and
a note says so. Standard library only (plus the IR and hardware types).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cost_models.ir import LayerGraph
from hw_templates.config import Backend, HardwareConfig
from hw_templates.errors import CalibrationError, CodesignError
from hw_templates.parts import resolve_part

__all__ = [
    "EXPORT_SOURCE",
    "MANIFEST_FORMAT",
    "ROW_FORMAT",
    "ExportedDesign",
    "design_cell",
    "read_design_cell",
    "read_manifest",
    "with_report_settings",
]

#: ``format`` of an export's ``manifest.json``.
MANIFEST_FORMAT = "codesign-export/1"
#: ``format`` of the design record in a ``synthesis.csv`` row's ``arch_json`` cell.
ROW_FORMAT = "codesign-design/1"
#: ``source`` of the calibration records of exported designs (the ``source`` column of ``synthesis.csv``).
EXPORT_SOURCE = "codesign export"
#: Manifest states whose project folder is complete (``failed`` / ``incomplete`` ones may lack files).
_COMPLETE = ("verified", "mismatch")


@dataclass(frozen=True)
class ExportedDesign:
    """The design an export project was written from."""

    graph: LayerGraph
    hw: HardwareConfig
    project_name: str
    design_id: str


def _design(graph: Any, hardware: Any, where: str) -> tuple[LayerGraph, HardwareConfig]:
    try:
        return LayerGraph.from_dict(graph), HardwareConfig.from_dict(hardware)
    except (CodesignError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CalibrationError(f"{where}: the design record is malformed ({type(exc).__name__}: {exc})") from None


def read_manifest(folder: str | Path) -> ExportedDesign | None:
    """The design recorded in ``folder/manifest.json``; None when the folder has no manifest.

    Raises:
        CalibrationError: the manifest is not valid JSON, not of :data:`MANIFEST_FORMAT`, lacks the
            design, or records an export that did not finish (``failed`` / ``incomplete``).
    """
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        return None
    where = f"{Path(folder).name}/manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"{where}: not valid JSON ({exc}); expected the manifest of codesign export") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise CalibrationError(f"{where}: expected format {MANIFEST_FORMAT!r}, got {got!r}")
    if data.get("status") not in _COMPLETE:
        raise CalibrationError(
            f"{where}: export status {data.get('status')!r}: the project was not written completely "
            f"(expected {' or '.join(_COMPLETE)}); export the design again"
        )
    design = data.get("design")
    if not isinstance(design, Mapping) or "graph" not in design or "hardware" not in design:
        raise CalibrationError(f"{where}: expected design.graph and design.hardware, found neither")
    graph, hw = _design(design["graph"], design["hardware"], where)
    return ExportedDesign(graph, hw, str(data.get("project_name") or "myproject"), str(data.get("design_id", "")))


def design_cell(graph: LayerGraph, hw: HardwareConfig) -> str:
    """The ``arch_json`` cell of a ``synthesis.csv`` row: the exact design, as JSON."""
    return json.dumps({"format": ROW_FORMAT, "graph": graph.to_dict(), "hardware": hw.to_dict()})


def read_design_cell(row: Mapping[str, str]) -> tuple[LayerGraph, HardwareConfig] | None:
    """The design a ``synthesis.csv`` row of ``codesign export --build`` records; None for other rows.

    Raises:
        CalibrationError: a row of an export whose ``arch_json`` lacks the design record (files
            written before the record existed hold weight layers only) or holds a malformed one.
    """
    text = (row.get("arch_json") or "").strip()
    if not text.startswith("{") and row.get("source", "").strip() != EXPORT_SOURCE:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None  # not ours; the general reader reports the JSON error
    if isinstance(data, dict) and data.get("format") == ROW_FORMAT:
        return _design(data.get("graph"), data.get("hardware"), "arch_json")
    if row.get("source", "").strip() == EXPORT_SOURCE:
        raise CalibrationError(
            f"arch_json: expected the design record of codesign export (format {ROW_FORMAT!r}); this file "
            "was written by an older version: calibrate on the export folder instead (it reads manifest.json)"
        )
    return None


def with_report_settings(
    hw: HardwareConfig, part: str, clock_ns: float | None, tool: str, tool_version: str, where: str
) -> tuple[HardwareConfig, tuple[str, ...]]:
    """``hw`` with the part, clock, HLS tool and version a report was built with; notes on what changed.

    ``part`` may be a full vendor string or Vivado's compact device name (``7z020clg400-1``);
    empty means unknown (kept). ``tool`` is ``"Vivado HLS"`` / ``"Vitis HLS"`` or empty, and
    ``tool_version`` its version (``"2023.2"``) or empty.
    """
    notes = []
    changes: dict[str, Any] = {}
    if part:
        found = _part(part, where)
        if found.name != hw.part.name:
            notes.append(f"part {found.full_name} from the report (the design says {hw.part.full_name})")
            changes["part"] = found
    if clock_ns is not None and not math.isclose(clock_ns, hw.clock_ns, rel_tol=1e-6):
        notes.append(f"clock {clock_ns:g} ns from the report (the design says {hw.clock_ns:g} ns)")
        changes["clock_ns"] = clock_ns
    backend = {"Vitis HLS": Backend.VITIS, "Vivado HLS": Backend.VIVADO}.get(tool)
    if backend is not None and backend is not hw.backend:
        notes.append(f"built with {tool} (the design says {hw.backend.value})")
        changes["backend"] = backend
    if tool_version and tool_version != hw.tool_version:
        if hw.tool_version is not None:
            notes.append(f"{tool or 'HLS'} {tool_version} from the report (the design says {hw.tool_version})")
        changes["tool_version"] = tool_version
    return (replace(hw, **changes) if changes else hw), tuple(notes)


def _part(text: str, where: str) -> Any:
    """Resolve a report's part; Vivado prints some devices without the ``xc`` prefix."""
    try:
        return resolve_part(text)
    except CodesignError:
        if not text.lower().startswith("xc"):
            try:
                return resolve_part("xc" + text)
            except CodesignError:
                pass
        raise CalibrationError(f"{where}: part {text!r} is not a known FPGA part (see `codesign list parts`)") from None
