"""Read the shared synthesis-results CSVs into records a cost model can be run on and scored against.

The calibration data (``../shared/data/synth/calibration/*.csv`` beside the repository, schema in its
README) are real hls4ml synthesis results from public repositories; every ``*.csv`` there is read (new
files land over time; rows are grouped by their ``source`` column, not by file). Each row becomes a
:class:`SynthRecord`: the network as a :class:`~cost_models.ir.LayerGraph`, the hardware it was built
with as a :class:`~hw_templates.config.HardwareConfig`, and what the tools measured. A row the IR cannot
represent becomes a :class:`SkippedRow` that says why, never a crash and never a guess left unsaid:
every assumption is in the record's ``notes``.

The data must not be copied into the repository (licences): code finds it with
:func:`default_synth_dir` and callers skip when it is absent.

Example:
    >>> folder = default_synth_dir()
    >>> records, skipped = load_synth_dir(folder) if folder else ([], [])
    >>> all(r.measured for r in records)
    True
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cost_models._synth_rows import RowDesign, build_design, cell_number, strip_assumed
from cost_models.cost import Target
from cost_models.exported import read_design_cell, with_report_settings
from cost_models.ir import LayerGraph, LayerKind
from cost_models.reports import tool_for_version
from hw_templates.config import (
    Backend,
    ConvImplementation,
    HardwareConfig,
    IoType,
    LayerHardware,
    MultiplierImpl,
    Strategy,
)
from hw_templates.errors import CalibrationError, CodesignError, bad_value
from hw_templates.parts import resolve_part

__all__ = ["MEASURED_KEYS", "SkippedRow", "SynthRecord", "default_synth_dir", "load_synth_dir", "read_synth_csv"]

logger = logging.getLogger(__name__)

ENV_VAR = "CODESIGN_CALIBRATION_DIR"
#: Keys of :attr:`SynthRecord.measured`, in report order.
MEASURED_KEYS = ("lut", "ff", "dsp", "bram18", "uram", "latency_cycles", "ii_cycles")
_MEASURED_COLUMNS = {"lut": "LUT", "ff": "FF", "dsp": "DSP", "bram18": "BRAM18", "uram": "URAM",
                     "latency_cycles": "latency_cycles_max", "ii_cycles": "II_max"}  # fmt: skip
_DESIGN_COLUMNS = (
    "source", "model_id", "result_kind", "arch_json", "layer_summary", "precision", "weight_precision",
    "reuse_factor", "strategy", "io_type", "fpga_part", "clock_period_ns", "hls_tool", "hls_version",
    "LUT", "FF", "DSP", "BRAM18", "latency_cycles_max", "II_max", "notes",
)  # fmt: skip
_LAYER_COLUMNS = (
    "source", "model_id", "layer_type", "n_in", "seq_len", "size", "reuse_factor", "strategy", "io_type",
    "precision", "fpga_part", "clock_period_ns", "hls_tool", "hls_version", "result_kind",
    "LUT", "FF", "DSP", "BRAM18", "latency_cycles_max",
)  # fmt: skip


@dataclass(frozen=True)
class SynthRecord:
    """One synthesis result, ready to be estimated by a cost model and compared.

    Attributes:
        source: GitHub owner/repo the numbers come from.
        model_id: design identifier within the source.
        file: CSV file name and line number (header is line 1), e.g. ``"kebl_hls4ml_data.csv:12"``.
        result_kind: ``"csynth"`` (HLS estimate), ``"vsynth"`` (post-synthesis) or ``"impl"``.
        target: :attr:`Target.HLS` for csynth, :attr:`Target.SYNTH` for vsynth and impl.
        graph: the network.
        hw: part, clock, backend, io type, strategy and reuse factors it was built with; per-layer
            entries hold each layer's precision and any reuse factor differing from the model's.
        measured: keys among :data:`MEASURED_KEYS`; a key is absent when the row does not know it.
            ``latency_cycles`` is the worst-case latency, ``ii_cycles`` the worst-case interval;
            ``bram18`` counts 18 Kb blocks (2 x 36 Kb tiles on vsynth/impl rows).
        per_layer: True when the row is the cost of one layer (N-TORC), not of a whole design.
        tool / tool_version: the tool that produced the resource figures.
        mul_impl: ``"dsp"`` or ``"fabric"`` where the row says how multipliers were mapped.
        notes: assumptions and caveats, including the row's own notes.
    """

    source: str
    model_id: str
    file: str
    result_kind: str
    target: Target
    graph: LayerGraph
    hw: HardwareConfig
    measured: Mapping[str, float]
    per_layer: bool
    tool: str
    tool_version: str
    mul_impl: str | None = None
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "measured", MappingProxyType(dict(self.measured)))
        object.__setattr__(self, "notes", tuple(self.notes))


@dataclass(frozen=True)
class SkippedRow:
    """A row that could not be turned into a record, and why (one line)."""

    file: str
    model_id: str
    reason: str


def default_synth_dir() -> Path | None:
    """The calibration folder: ``$CODESIGN_CALIBRATION_DIR``, else ``<repo>/../shared/data/synth/
    calibration``; None when that folder is absent or holds no CSV."""
    env = os.environ.get(ENV_VAR)
    repo_root = Path(__file__).resolve().parent.parent
    path = Path(env) if env else repo_root.parent / "shared" / "data" / "synth" / "calibration"
    return path if path.is_dir() and any(path.glob("*.csv")) else None


def load_synth_dir(path: str | Path | None = None) -> tuple[list[SynthRecord], list[SkippedRow]]:
    """Read every ``*.csv`` of a folder (default: :func:`default_synth_dir`), in file-name order.

    Raises:
        CalibrationError: the folder is absent or holds no CSV; a file lacks a required column.
    """
    folder = Path(path) if path is not None else default_synth_dir()
    if folder is None:
        raise CalibrationError(
            f"calibration folder: expected ../shared/data/synth/calibration beside the repository or ${ENV_VAR}, "
            "found neither; set the variable to the folder of synthesis CSVs"
        )
    files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
    if not files:
        raise CalibrationError(f"calibration folder {str(folder)!r}: expected a folder holding *.csv files")
    records: list[SynthRecord] = []
    skipped: list[SkippedRow] = []
    for csv_path in files:
        file_records, file_skipped = read_synth_csv(csv_path)
        records += file_records
        skipped += file_skipped
    return records, skipped


def read_synth_csv(path: str | Path) -> tuple[list[SynthRecord], list[SkippedRow]]:
    """Read one synthesis-results CSV.

    Returns:
        The records, and the rows that could not be represented (with a reason each).

    Raises:
        CalibrationError: the file is missing or lacks a required column (one line naming both).

    Example:
        >>> records, skipped = read_synth_csv(default_synth_dir() / "kebl_hls4ml_data.csv")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise CalibrationError(f"synthesis CSV {str(path)!r}: file not found")
    records: list[SynthRecord] = []
    skipped: list[SkippedRow] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        _check_columns(path.name, reader.fieldnames or [])
        for row in reader:
            label = f"{path.name}:{reader.line_num}"
            try:
                records.append(_record(row, label))
            except CodesignError as exc:
                skipped.append(SkippedRow(label, (row.get("model_id") or "").strip(), str(exc)))
    logger.info("%s: %d records, %d rows skipped", path.name, len(records), len(skipped))
    return records, skipped


def _check_columns(name: str, header: Sequence[str]) -> None:
    required = _LAYER_COLUMNS if "layer_type" in header else _DESIGN_COLUMNS
    for column in required:
        if column not in header:
            raise CalibrationError(f"synthesis CSV {name!r}: required column {column!r} is missing")


def _record(row: Mapping[str, str | None], label: str) -> SynthRecord:
    if None in row or any(value is None for value in row.values()):
        raise CalibrationError("row: the number of cells differs from the header's")
    cells: dict[str, str] = {k: v or "" for k, v in row.items() if k is not None}
    kind, target, notes = _result_kind(cells)
    graph, hw, design_notes = _design_and_hardware(cells)
    measured = _measured(cells, kind)
    tool, version = _tool(cells, kind)
    mul_impl = _MUL_IMPL_RE.search(cells.get("notes", ""))
    return SynthRecord(
        source=cells["source"].strip(),
        model_id=cells["model_id"].strip(),
        file=label,
        result_kind=kind,
        target=target,
        graph=graph,
        hw=hw,
        measured=measured,
        per_layer="layer_type" in cells,
        tool=tool,
        tool_version=version,
        mul_impl=mul_impl[1] if mul_impl else None,
        notes=notes + design_notes + _source_notes(cells),
    )


def _design_and_hardware(row: Mapping[str, str]) -> tuple[LayerGraph, HardwareConfig, tuple[str, ...]]:
    """The row's network and hardware, and notes. A ``synthesis.csv`` row of ``codesign export --build``
    records both exactly (:mod:`cost_models.exported`); any other row is built by its source's builder."""
    exported = read_design_cell(row)
    if exported is None:
        design = build_design(row)
        hw, hw_notes = _hardware(row, design)
        return design.graph, hw, design.notes + hw_notes
    graph, hw = exported
    tool = row.get("hls_tool", "").lower()
    tool = "Vitis HLS" if "vitis" in tool else "Vivado HLS" if "vivado" in tool else ""
    part = strip_assumed(row.get("fpga_part", ""))[0]
    clock = cell_number(row, "clock_period_ns")
    version = row.get("hls_version", "").strip()
    if version:
        tool_for_version(version, "hls_version")  # an unknown tool version is refused, as in a report
    hw, notes = with_report_settings(hw, part, clock, tool, version, "fpga_part")
    return graph, hw, ("design from the export's own record (arch_json)", *notes)


def _result_kind(row: Mapping[str, str]) -> tuple[str, Target, tuple[str, ...]]:
    text = row["result_kind"].strip().lower()
    notes: list[str] = []
    if text.startswith("csynth"):
        kind = "csynth"
        if "layer" in text:
            notes.append("per-layer csynth (sub-instance of the top report), median over repeated syntheses")
    elif text.startswith(("vsynth", "impl")):
        kind = "vsynth" if text.startswith("vsynth") else "impl"
        if "csynth" in text or "csynth" in row.get("latency_source", ""):
            notes.append("resources post-synthesis, latency from csynth (HLS estimate)")
    else:
        raise CalibrationError(bad_value("result_kind", row["result_kind"], "csynth, vsynth or impl:*"))
    return kind, Target.HLS if kind == "csynth" else Target.SYNTH, tuple(notes)


def _hardware(row: Mapping[str, str], design: RowDesign) -> tuple[HardwareConfig, tuple[str, ...]]:
    notes: list[str] = []
    part_text, why = strip_assumed(row["fpga_part"])
    if why:
        notes.append(f"fpga_part {part_text}: {why}")
    io_text, why = strip_assumed(row["io_type"])
    if why:
        notes.append(f"io_type {io_text}: {why}")
    strategy_text = design.strategy or row["strategy"].strip()
    if not strategy_text:
        strategy_text = "latency"
        notes.append("strategy not recorded: hls4ml's default Latency assumed")
    clock = cell_number(row, "clock_period_ns")
    if clock is None:
        raise CalibrationError("clock_period_ns: empty, expected the HLS clock period")
    hw = HardwareConfig(
        part=resolve_part(part_text),
        clock_ns=clock,
        clock_uncertainty_ns=cell_number(row, "clock_uncertainty_ns"),
        backend=_backend(row["hls_tool"]),
        io_type=IoType.parse(io_text, "io_type"),
        strategy=Strategy.parse(strategy_text, "strategy"),
        reuse_factor=design.reuse_factor,
        layers=_layer_hardware(design, Strategy.parse(strategy_text, "strategy")),
        multiplier_impl=_multiplier_impl(row),
        tool_version=_tool(row, "csynth")[1] or None,
    )
    return hw, tuple(notes)


_MUL_IMPL_RE = re.compile(r"mul_impl=(dsp|fabric)\b")


def _multiplier_impl(row: Mapping[str, str]) -> MultiplierImpl:
    """``config_op mul -impl dsp|fabric`` as the row's notes record it (ArgyKokk), else the tool's default."""
    match = _MUL_IMPL_RE.search(row.get("notes", ""))
    return MultiplierImpl(match[1]) if match else MultiplierImpl.AUTO


def _backend(tool: str) -> Backend:
    text = tool.lower()
    if "vitis" in text:
        return Backend.VITIS
    if "vivado" in text:
        return Backend.VIVADO
    raise CalibrationError(bad_value("hls_tool", tool, "Vivado HLS or Vitis HLS"))


def _layer_hardware(design: RowDesign, strategy: Strategy) -> dict[str, LayerHardware]:
    """Per-layer precision of every layer, plus reuse factor / strategy / implementation where they differ."""
    out = {}
    for layer in design.graph:
        if layer.kind is LayerKind.INPUT:
            continue
        precision = {k: v for k, v in vars(layer.precision).items() if v is not None}
        rf = design.layer_reuse.get(layer.name)
        layer_strategy = design.layer_strategy.get(layer.name)
        parsed = Strategy.parse(layer_strategy, "strategy") if layer_strategy else None
        impl = design.layer_impl.get(layer.name)
        out[layer.name] = LayerHardware(
            reuse_factor=rf if rf is not None and rf != design.reuse_factor else None,
            strategy=parsed if parsed is not None and parsed is not strategy else None,
            precision=precision,
            conv_implementation=ConvImplementation.parse(impl, "implementation") if impl else None,
        )
    return out


def _measured(row: Mapping[str, str], kind: str) -> dict[str, float]:
    out = {}
    for key, column in _MEASURED_COLUMNS.items():
        value = cell_number(row, column)
        if value is not None:
            out[key] = value
    tiles = cell_number(row, "BRAM36_tiles")
    if kind != "csynth" and tiles is not None:
        out["bram18"] = 2 * tiles  # Vivado reports 36 Kb tiles (README: BRAM18 = 2 x BRAM36_tiles)
    if not out:
        raise CalibrationError("measured values: every resource and latency cell is empty")
    return out


def _tool(row: Mapping[str, str], kind: str) -> tuple[str, str]:
    if kind != "csynth":
        return "Vivado", (row.get("vivado_version") or row["hls_version"]).strip()
    return strip_assumed(row["hls_tool"])[0], row["hls_version"].strip()


def _source_notes(row: Mapping[str, str]) -> tuple[str, ...]:
    notes = []
    if row.get("fit_status", "").strip():
        notes.append(f"fit_status={row['fit_status'].strip()} (N-TORC flag)")
    for what, column in (("resources", "n_resource_samples"), ("latency", "n_latency_samples")):
        count = cell_number(row, column) if column in row else None
        if count is not None and count > 1:
            notes.append(f"{what}: median of {int(count)} syntheses")
    if row.get("notes", "").strip():
        notes.append(f"source notes: {row['notes'].strip()}")
    return tuple(notes)
