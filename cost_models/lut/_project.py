"""Read an hls4ml project folder (design + synthesis reports) into calibration records.

Where the reports are (as the tools write them inside the project): the C-synthesis report
``<project>_prj/solution1/syn/report/<top>_csynth.xml`` (or ``.rpt``; Vitis HLS also writes a
solution-level ``csynth.xml``) and Vivado's ``vivado_synth.rpt`` in the project folder (hls4ml's
``vivado_synth.tcl``: ``report_utilization -file vivado_synth.rpt``). Formats: :mod:`cost_models.reports`.

Where the design comes from: a project written by ``codesign export`` records the exact layer graph
and hardware in ``manifest.json`` (:mod:`cost_models.exported`); any other hls4ml project is parsed
from its firmware (:mod:`._firmware`) and ``project.tcl``.

Before a report is used it is checked against the project (:func:`check_reports_match`): its top
function must be the project's, and the layer configs its modules are named after (``..._config12_s``)
must be configs of this firmware. A report of another design is an error, never a calibration row.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from cost_models.cost import Target
from cost_models.exported import EXPORT_SOURCE, read_manifest, with_report_settings
from cost_models.ir import LayerGraph
from cost_models.lut._firmware import FirmwareDesign, config_indices, read_firmware
from cost_models.reports import HlsReport, UtilizationReport, read_csynth, read_utilization_rpt
from cost_models.synth_data import SynthRecord
from hw_templates.config import Backend, HardwareConfig
from hw_templates.errors import CalibrationError, CodesignError
from hw_templates.parts import resolve_part

__all__ = ["check_reports_match", "find_reports", "is_project", "project_top", "read_project"]

logger = logging.getLogger(__name__)

_CONFIG_RE = re.compile(r"config(\d+)")


def is_project(folder: Path) -> bool:
    """An hls4ml project folder: an export (``manifest.json``) or one with ``firmware/``."""
    return (folder / "manifest.json").is_file() or (folder / "firmware").is_dir()


def project_top(folder: Path) -> str:
    """The project's top function: the manifest's or ``project.tcl``'s project name (else hls4ml's
    default ``myproject``)."""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            name = json.loads(manifest.read_text(encoding="utf-8")).get("project_name")
        except (ValueError, AttributeError):
            name = None  # read_manifest reports a malformed manifest
        if isinstance(name, str) and name:
            return name
    return _tcl_settings(folder).get("project_name", "myproject")


def _tcl_settings(folder: Path) -> dict[str, str]:
    path = folder / "project.tcl"
    if not path.is_file():
        return {}
    return dict(re.findall(r'^set (\w+) "?([^"\n]*)"?\s*$', path.read_text(encoding="utf-8"), re.MULTILINE))


def find_reports(folder: Path, top: str) -> tuple[Path | None, Path | None]:
    """The top-level C-synthesis report (xml preferred) and the Vivado utilization report, if any."""
    candidates = [
        *sorted(folder.rglob(f"{top}_csynth.xml")),
        *sorted(folder.rglob("syn/report/csynth.xml")),
        *sorted(folder.rglob(f"{top}_csynth.rpt")),
    ]
    util = sorted(folder.rglob("vivado_synth.rpt"))
    return (candidates[0] if candidates else None), (util[0] if util else None)


def read_project(folder: str | Path) -> list[SynthRecord]:
    """Calibration records of an hls4ml project: one for the C-synthesis report (HLS target) and one
    for ``vivado_synth.rpt`` (post-synthesis target), whichever exist.

    Raises:
        CalibrationError: not an hls4ml project, no report, an unreadable report, a report of another
            design, or (without a manifest) a firmware structure the IR cannot hold; the message starts
            with the project folder's name.
    """
    folder = Path(folder)
    try:
        return _read_project(folder)
    except CodesignError as exc:  # e.g. an unknown part: still one line naming the project
        prefix = f"project {folder.name!r}"
        raise CalibrationError(str(exc) if str(exc).startswith(prefix) else f"{prefix}: {exc}") from None


def _read_project(folder: Path) -> list[SynthRecord]:
    exported = read_manifest(folder)
    tcl = _tcl_settings(folder)
    top = project_top(folder)
    csynth_path, util_path = find_reports(folder, top)
    if csynth_path is None and util_path is None:
        raise CalibrationError(
            f"project {folder.name!r}: no synthesis report (expected {top}_prj/solution1/syn/report/{top}_csynth.xml "
            "or .rpt, or vivado_synth.rpt)"
        )
    csynth = read_csynth(csynth_path) if csynth_path else None
    util = read_utilization_rpt(util_path) if util_path else None
    check_reports_match(folder, top, csynth, csynth_path, util)
    if exported is not None:
        part = (csynth.part if csynth else "") or (util.device if util else "")
        tool, version = (csynth.tool, csynth.tool_version) if csynth else ("", "")
        clock, where = (csynth.clock_ns, csynth.file) if csynth else (None, util.file)  # type: ignore[union-attr]
        hw, notes = with_report_settings(exported.hw, part, clock, tool, version, where)
        for note in notes:
            logger.warning("project %s: %s", folder.name, note)
        graph, names = exported.graph, (EXPORT_SOURCE, exported.design_id or folder.name)
    else:
        design = read_firmware(folder, folder.name)
        graph, hw, notes, names = design.graph, _hardware(folder, design, csynth, util, tcl), (), (folder.name,) * 2
    records = []
    if csynth is not None:
        records.append(_record(folder, names, graph, hw, csynth, None, notes))
    if util is not None:
        records.append(_record(folder, names, graph, hw, csynth, util, notes))
    return records


def check_reports_match(
    folder: Path, top: str, csynth: HlsReport | None, csynth_path: Path | None, util: UtilizationReport | None
) -> None:
    """Raise CalibrationError when a report is not of this project's design.

    Checks: the C-synthesis report's top function and the utilization report's design are ``top``;
    every layer config named by the report's modules and instances, and by the per-module reports
    beside it, is a config of ``firmware/parameters.h`` (when both are known).
    """
    if csynth is not None and csynth.top and csynth.top != top:
        raise CalibrationError(
            f"report {csynth.file!r}: top function {csynth.top!r}, expected this project's {top!r}; "
            "the report is of another design"
        )
    if util is not None and util.design and util.design != top:
        raise CalibrationError(
            f"report {util.file!r}: design {util.design!r}, expected this project's top {top!r}; "
            "the report is of another design"
        )
    known = config_indices(folder)
    if csynth is None or csynth_path is None or known is None:
        return
    names = [n for i in csynth.instances for n in (i.instance, i.module)]
    names += [p.name for p in csynth_path.parent.glob("*_csynth.*")]
    named = {int(n) for text in names for n in _CONFIG_RE.findall(text)}
    foreign = sorted(named - known)
    if foreign:
        listed = ", ".join(f"config{n}" for n in foreign[:4]) + (" ..." if len(foreign) > 4 else "")
        raise CalibrationError(
            f"report {csynth.file!r}: names layer configs ({listed}) that firmware/parameters.h does not define "
            f"(it has {len(known)}); the report is of another design or the firmware was rewritten after synthesis"
        )


def _hardware(
    folder: Path, design: FirmwareDesign, csynth: HlsReport | None, util: UtilizationReport | None, tcl: dict
) -> HardwareConfig:
    part = (csynth.part if csynth else "") or tcl.get("part", "") or (util.device if util else "")
    clock = csynth.clock_ns if csynth else (float(tcl["clock_period"]) if "clock_period" in tcl else None)
    if not part or clock is None:
        raise CalibrationError(
            f"hls4ml project {folder.name!r}: part or clock unknown (no csynth report, no project.tcl)"
        )
    backend = Backend.VITIS if (csynth and csynth.tool == "Vitis HLS") else Backend.VIVADO
    if csynth is None:
        backend = Backend.VITIS if util and util.tool_version >= "2020.2" else Backend.VIVADO
    return HardwareConfig(
        part=resolve_part(part),
        clock_ns=clock,
        clock_uncertainty_ns=csynth.clock_uncertainty_ns if csynth else None,
        backend=backend,
        tool_version=csynth.tool_version if csynth else None,
        io_type=design.io_type,
        strategy=design.strategy,
        reuse_factor=design.reuse_factor,
        layers=design.layers,
    )


def _record(
    folder: Path,
    names: tuple[str, str],
    graph: LayerGraph,
    hw: HardwareConfig,
    csynth: HlsReport | None,
    util: UtilizationReport | None,
    notes: tuple[str, ...],
) -> SynthRecord:
    measured: dict[str, float] = {}
    if csynth is not None:
        if csynth.latency_max_cycles is not None:
            measured["latency_cycles"] = csynth.latency_max_cycles
        if csynth.ii_max_cycles is not None:
            measured["ii_cycles"] = csynth.ii_max_cycles
    if util is None and csynth is not None:
        measured.update(csynth.resources)
        file, kind, tool, version = csynth.file, "csynth", csynth.tool, csynth.tool_version
    elif util is not None:
        measured.update(lut=util.lut, ff=util.ff, dsp=util.dsp, bram18=util.bram18, uram=util.uram)
        file, kind, tool, version = util.file, "vsynth", "Vivado", util.tool_version
        if csynth is not None:
            notes += ("resources post-synthesis, latency from csynth (HLS estimate)",)
    return SynthRecord(
        source=names[0],
        model_id=names[1],
        file=f"{folder.name}/{file}",
        result_kind=kind,
        target=Target.HLS if kind == "csynth" else Target.SYNTH,
        graph=graph,
        hw=hw,
        measured=measured,
        per_layer=False,
        tool=tool,
        tool_version=version,
        notes=notes,
    )
