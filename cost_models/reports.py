"""Parsers of Vivado/Vitis HLS and Vivado synthesis reports, and of hls4ml projects holding them.

Formats (as the tools write them; the test fixtures in ``tests/lut/fixtures`` follow them):

* ``<top>_csynth.xml`` (Vivado HLS 2017.1-2020.1, Vitis HLS 2020.2+): ``profile/ReportVersion/Version``,
  ``UserAssignments`` (``Part``, ``TopModelName``, ``TargetClockPeriod``, ``ClockUncertainty``),
  ``PerformanceEstimates/SummaryOfOverallLatency`` (``Best-caseLatency``, ``Worst-caseLatency``,
  ``Interval-min``, ``Interval-max``), ``AreaEstimates/Resources`` (``BRAM_18K``, ``DSP48E`` (Vivado HLS)
  or ``DSP`` (Vitis HLS), ``FF``, ``LUT``, ``URAM``) and, in Vitis HLS's solution-level ``csynth.xml``,
  ``ModuleInformation/Module`` entries with per-module resources. hls4ml 1.3 reads the same elements
  (``hls4ml/report/vivado_report.py``).
* ``<top>_csynth.rpt``: the text report; header ``== Vivado HLS Report for 'top'`` or ``== Vitis HLS
  Report for 'top'``, ``* Version:``, ``* Target device:``, the timing table (``ap_clk``: target,
  estimated, uncertainty), the latency summary (cycles; absolute times in 2019.2+), the utilization
  summary (``Total`` row) and ``Detail: Instance`` (per-instance resources).
* ``vivado_synth.rpt`` (``report_utilization``): ``Tool Version : Vivado v.2019.1``, ``Design`` (the
  top), ``Device``, ``Design State``, then ``CLB LUTs`` / ``Slice LUTs`` (7 series), ``CLB Registers`` / ``Slice
  Registers``, ``Block RAM Tile`` (36 Kb tiles), ``URAM`` and ``DSPs`` rows, "Used" in the 2nd cell.

An hls4ml project folder (``firmware/parameters.h`` + ``firmware/defines.h`` + these reports) is read
into calibration records by :func:`cost_models.lut.read_project` (layer structure from the firmware,
figures from these parsers). Standard library only. Every error is a :class:`CalibrationError` naming
the file and the problem: truncated files, unknown tool versions, missing sections.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from hw_templates.errors import CalibrationError

__all__ = [
    "HLS_VERSIONS",
    "HlsReport",
    "InstanceUsage",
    "UtilizationReport",
    "read_csynth",
    "read_csynth_rpt",
    "read_csynth_xml",
    "read_utilization_rpt",
    "tool_for_version",
]

#: Tool versions the parsers know: Vivado HLS 2017.1-2020.1, Vitis HLS 2020.2-2025.2 (Vitis HLS
#: replaced Vivado HLS in 2020.2, UG1391 "Vitis HLS Migration Guide"). Anything else is refused.
HLS_VERSIONS = tuple(f"{y}.{r}" for y in range(2017, 2026) for r in (1, 2, 3, 4))
_VERSION_RE = re.compile(r"(20\d\d\.\d)")
_RESOURCE_TAGS = {"LUT": "lut", "FF": "ff", "DSP48E": "dsp", "DSP": "dsp", "BRAM_18K": "bram18", "URAM": "uram"}


@dataclass(frozen=True)
class InstanceUsage:
    """Resources of one sub-instance of the top function (HLS estimate)."""

    instance: str
    module: str
    resources: Mapping[str, float]


@dataclass(frozen=True)
class HlsReport:
    """Top-level figures of a C-synthesis report.

    Attributes:
        file: the report file name.
        tool / tool_version: ``"Vivado HLS"`` or ``"Vitis HLS"``, and e.g. ``"2019.1"``.
        top: top function.
        part: target device as the report spells it.
        clock_ns / clock_uncertainty_ns / estimated_clock_ns: target, uncertainty, estimate.
        resources: ``lut``, ``ff``, ``dsp``, ``bram18``, ``uram`` (those the report gives).
        latency_min_cycles / latency_max_cycles / ii_min_cycles / ii_max_cycles: None where ``?``.
        instances: per-instance resources, where the report lists them.
    """

    file: str
    tool: str
    tool_version: str
    top: str
    part: str
    clock_ns: float
    clock_uncertainty_ns: float | None
    estimated_clock_ns: float | None
    resources: Mapping[str, float]
    latency_min_cycles: float | None
    latency_max_cycles: float | None
    ii_min_cycles: float | None
    ii_max_cycles: float | None
    instances: tuple[InstanceUsage, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "resources", MappingProxyType(dict(self.resources)))


@dataclass(frozen=True)
class UtilizationReport:
    """Post-synthesis (or post-implementation) utilization from Vivado ``report_utilization``."""

    file: str
    tool_version: str
    device: str
    design_state: str
    lut: float
    ff: float
    dsp: float
    bram36_tiles: float
    uram: float
    design: str = ""

    @property
    def bram18(self) -> float:
        """18 Kb block RAMs: two per 36 Kb tile (a RAMB18 is half a tile in the report)."""
        return 2 * self.bram36_tiles


def tool_for_version(version: str, where: str) -> str:
    """``"Vivado HLS"`` or ``"Vitis HLS"`` for a known version; CalibrationError otherwise."""
    if version not in HLS_VERSIONS:
        raise CalibrationError(
            f"{where}: unknown tool version {version!r} (expected Vivado HLS 2017.1-2020.1 or Vitis HLS 2020.2-2025.x)"
        )
    return "Vitis HLS" if version >= "2020.2" else "Vivado HLS"


def read_csynth(path: str | Path) -> HlsReport:
    """Read a C-synthesis report, ``.xml`` or ``.rpt`` by its suffix."""
    path = Path(path)
    return read_csynth_xml(path) if path.suffix.lower() == ".xml" else read_csynth_rpt(path)


def _text(path: Path) -> str:
    if not path.is_file():
        raise CalibrationError(f"report {path.name!r}: file not found")
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise CalibrationError(f"report {path.name!r}: the file is empty")
    return text


def _number(text: str | None, where: str, what: str, *, required: bool = True) -> float | None:
    cleaned = (text or "").strip().replace(",", "")
    cleaned = re.sub(r"\s*(ns|us|ms|sec)$", "", cleaned)
    if cleaned in ("", "?", "-", "undef"):
        if required:
            raise CalibrationError(f"{where}: {what} is missing")
        return None
    try:
        return float(cleaned)
    except ValueError:
        raise CalibrationError(f"{where}: {what} should be a number, got {text!r}") from None


def read_csynth_xml(path: str | Path) -> HlsReport:
    """Parse a ``csynth.xml``; CalibrationError for malformed/truncated XML or missing sections."""
    path = Path(path)
    where = f"report {path.name!r}"
    root = _xml_root(path, where)
    version = _VERSION_RE.search(root.findtext("ReportVersion/Version", default="") or "")
    if version is None:
        raise CalibrationError(f"{where}: no ReportVersion/Version element, cannot tell the tool version")
    tool = tool_for_version(version[1], where)
    summary = root.find("PerformanceEstimates/SummaryOfOverallLatency")
    area = root.find("AreaEstimates/Resources")
    if summary is None or area is None:
        raise CalibrationError(f"{where}: truncated: expected PerformanceEstimates and AreaEstimates sections")
    resources = {_RESOURCE_TAGS[c.tag]: _number(c.text, where, c.tag) for c in area if c.tag in _RESOURCE_TAGS}
    if not {"lut", "ff", "dsp", "bram18"} <= set(resources):
        raise CalibrationError(f"{where}: truncated: AreaEstimates/Resources lacks LUT, FF, DSP or BRAM_18K")

    def latency(tag: str) -> float | None:
        return _number(summary.findtext(tag), where, tag, required=False)

    return HlsReport(
        file=path.name,
        tool=tool,
        tool_version=version[1],
        top=root.findtext("UserAssignments/TopModelName", default="").strip(),
        part=root.findtext("UserAssignments/Part", default="").strip(),
        clock_ns=_number(root.findtext("UserAssignments/TargetClockPeriod"), where, "TargetClockPeriod"),
        clock_uncertainty_ns=_number(root.findtext("UserAssignments/ClockUncertainty"), where, "", required=False),
        estimated_clock_ns=_number(
            root.findtext("PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod"),
            where,
            "",
            required=False,
        ),
        resources=resources,
        latency_min_cycles=latency("Best-caseLatency"),
        latency_max_cycles=latency("Worst-caseLatency"),
        ii_min_cycles=latency("Interval-min"),
        ii_max_cycles=latency("Interval-max"),
        instances=_xml_modules(root, where),
    )


def _xml_root(path: Path, where: str) -> ET.Element:
    try:
        return ET.fromstring(re.sub(r'\sxmlns="[^"]+"', "", _text(path), count=1))
    except ET.ParseError as exc:
        raise CalibrationError(f"{where}: truncated or malformed XML ({exc})") from None


def _xml_modules(root: ET.Element, where: str) -> tuple[InstanceUsage, ...]:
    out = []
    for module in root.findall("ModuleInformation/Module"):
        name = (module.findtext("Name") or "").strip()
        area = module.find("AreaEstimates/Resources")
        if not name or area is None:
            continue
        usage = {_RESOURCE_TAGS[c.tag]: _number(c.text, where, c.tag) or 0.0 for c in area if c.tag in _RESOURCE_TAGS}
        out.append(InstanceUsage(name, name, usage))
    return tuple(out)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table_after(lines: list[str], start: int) -> list[list[str]]:
    """Rows (as cells) of the first ``+---`` table at or after line ``start``, up to its end."""
    rows: list[list[str]] = []
    i = start
    while i < len(lines) and not lines[i].strip().startswith("+-"):
        i += 1
    for line in lines[i:]:
        stripped = line.strip()
        if stripped.startswith("|"):
            rows.append(_cells(stripped))
        elif not stripped.startswith("+-"):
            break
    return rows


def _find(lines: list[str], pattern: str, start: int = 0) -> int | None:
    regex = re.compile(pattern)
    return next((i for i in range(start, len(lines)) if regex.search(lines[i])), None)


def read_csynth_rpt(path: str | Path) -> HlsReport:
    """Parse a ``*_csynth.rpt`` text report; CalibrationError when truncated or unknown."""
    path = Path(path)
    where = f"report {path.name!r}"
    text = _text(path)
    lines = text.splitlines()
    head = re.search(r"== (Vivado|Vitis) HLS Report for '([^']+)'", text)
    version = re.search(r"\* Version:\s*(20\d\d\.\d)", text)
    if head is None or version is None:
        raise CalibrationError(f"{where}: not a Vivado/Vitis HLS csynth report (no report header or version line)")
    tool = tool_for_version(version[1], where)
    part = re.search(r"\* Target device:\s*(\S+)", text)
    clock = _clock_row(lines, where)
    lat_min, lat_max, ii_min, ii_max = _latency_row(lines, where)
    return HlsReport(
        file=path.name,
        tool=tool,
        tool_version=version[1],
        top=head[2],
        part=part[1] if part else "",
        clock_ns=clock[0],
        clock_uncertainty_ns=clock[2],
        estimated_clock_ns=clock[1],
        resources=_utilization_total(lines, where),
        latency_min_cycles=lat_min,
        latency_max_cycles=lat_max,
        ii_min_cycles=ii_min,
        ii_max_cycles=ii_max,
        instances=_instance_rows(lines, where),
    )


def _clock_row(lines: list[str], where: str) -> tuple[float, float | None, float | None]:
    at = _find(lines, r"^\s*\|\s*ap_clk\s*\|")
    if at is None:
        raise CalibrationError(f"{where}: truncated: no ap_clk row in the timing summary")
    cells = _cells(lines[at])
    if len(cells) < 4:
        raise CalibrationError(f"{where}: the ap_clk timing row has {len(cells)} cells, expected 4")
    target = _number(cells[1], where, "target clock")
    return target, _number(cells[2], where, "", required=False), _number(cells[3], where, "", required=False)


def _latency_row(lines: list[str], where: str) -> tuple[float | None, ...]:
    at = _find(lines, r"^\+ Latency")
    rows = _table_after(lines, at) if at is not None else []
    data = [r for r in rows if r and re.fullmatch(r"[\d?]+", r[0])]
    if not data:
        raise CalibrationError(f"{where}: truncated: no latency summary row")
    counts = [c for c in data[0] if re.fullmatch(r"[\d?]+", c)]  # absolute times ("45.000 ns") are skipped
    if len(counts) < 4:
        raise CalibrationError(f"{where}: the latency summary row has {len(counts)} cycle counts, expected 4")
    return tuple(_number(c, where, "latency", required=False) for c in counts[:4])


def _utilization_total(lines: list[str], where: str) -> dict[str, float]:
    at = _find(lines, r"== Utilization Estimates")
    rows = _table_after(lines, at) if at is not None else []
    header = next((r for r in rows if r and r[0] == "Name"), None)
    total = next((r for r in rows if r and r[0] == "Total"), None)
    if header is None or total is None:
        raise CalibrationError(f"{where}: truncated: no utilization summary 'Total' row")
    out = {}
    for name, cell in zip(header[1:], total[1:]):
        if name in _RESOURCE_TAGS:
            out[_RESOURCE_TAGS[name]] = _number(cell, where, f"Total {name}") or 0.0
    if not {"lut", "ff", "dsp", "bram18"} <= set(out):
        raise CalibrationError(f"{where}: the utilization summary lacks LUT, FF, DSP or BRAM_18K columns")
    return out


def _instance_rows(lines: list[str], where: str) -> tuple[InstanceUsage, ...]:
    utilization = _find(lines, r"== Utilization Estimates")
    at = _find(lines, r"\* Instance:", utilization) if utilization is not None else None
    if at is None:
        return ()
    rows = _table_after(lines, at)
    if not rows or rows[0][:2] != ["Instance", "Module"]:
        return ()
    names = rows[0]
    out = []
    for row in rows[1:]:
        if row[0] == "Total" or len(row) != len(names):
            continue
        usage = {
            _RESOURCE_TAGS[n]: _number(c, where, n, required=False) or 0.0
            for n, c in zip(names[2:], row[2:])
            if n in _RESOURCE_TAGS
        }
        out.append(InstanceUsage(row[0], row[1], usage))
    return tuple(out)


_UTIL_ROWS = {
    "lut": r"^(CLB|Slice) LUTs\*?$",
    "ff": r"^(CLB|Slice) Registers$",
    "bram36_tiles": r"^Block RAM Tile$",
    "uram": r"^URAM$",
    "dsp": r"^DSPs$",
}


def read_utilization_rpt(path: str | Path) -> UtilizationReport:
    """Parse a Vivado ``report_utilization`` file (e.g. hls4ml's ``vivado_synth.rpt``)."""
    path = Path(path)
    where = f"report {path.name!r}"
    text = _text(path)
    version = re.search(r"Tool Version\s*:\s*Vivado v\.?(20\d\d\.\d)", text)
    if version is None:
        raise CalibrationError(f"{where}: not a Vivado utilization report (no 'Tool Version : Vivado v.YYYY.N')")
    if version[1] not in HLS_VERSIONS:
        raise CalibrationError(f"{where}: unknown Vivado version {version[1]!r} (expected 2017.1-2025.x)")
    device = re.search(r"\|\s*Device\s*:\s*(\S+)", text)
    design = re.search(r"^\|\s*Design\s*:\s*(\S+)", text, re.MULTILINE)
    state = re.search(r"\|\s*Design State\s*:\s*(.+?)\s*$", text, re.MULTILINE)
    used: dict[str, float] = {}
    for line in text.splitlines():
        cells = _cells(line) if line.strip().startswith("|") else []
        for key, pattern in _UTIL_ROWS.items():
            if len(cells) >= 2 and key not in used and re.match(pattern, cells[0]):
                used[key] = _number(cells[1], where, cells[0]) or 0.0
    missing = [k for k in ("lut", "ff", "bram36_tiles", "dsp") if k not in used]
    if missing:
        raise CalibrationError(f"{where}: truncated: no {', '.join(missing)} row in the utilization tables")
    return UtilizationReport(
        file=path.name,
        tool_version=version[1],
        device=device[1] if device else "",
        design_state=state[1] if state else "",
        lut=used["lut"],
        ff=used["ff"],
        dsp=used["dsp"],
        bram36_tiles=used["bram36_tiles"],
        uram=used.get("uram", 0.0),
        design=design[1] if design else "",
    )
