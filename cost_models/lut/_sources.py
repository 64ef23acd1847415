"""Calibration sources: CSV files in the calibration schema, hls4ml project folders, export folders.

The CSV schema is that of the shared calibration data (``../shared/data/synth/README.md``, read by
:mod:`cost_models.synth_data`). Before a CSV is read its number columns are checked, so a cell like
``12k`` is an error naming the file, line and column rather than a silently skipped row. Rows the IR
cannot represent (e.g. a convolution fed by a second model input) are skipped with a reason, as the
reader documents.

A folder is either one hls4ml project (``manifest.json`` of ``codesign export``, or ``firmware/``) or a
folder of them, such as the ``--out`` folder of ``codesign export``: every project in it that holds a
synthesis report is read, the others are skipped with a reason (not every design gets synthesised).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from pathlib import Path

from cost_models.cost import Target
from cost_models.lut._project import find_reports, is_project, project_top, read_project
from cost_models.synth_data import SkippedRow, SynthRecord, read_synth_csv
from hw_templates.errors import CalibrationError

__all__ = ["NUMBER_COLUMNS", "check_csv_numbers", "read_sources"]

logger = logging.getLogger(__name__)

#: Columns of the calibration schema that must hold a number (or be empty / ``?``).
NUMBER_COLUMNS = (
    "LUT", "FF", "DSP", "BRAM18", "BRAM36_tiles", "URAM", "latency_cycles_min", "latency_cycles_max",
    "II_min", "II_max", "clock_period_ns", "clock_uncertainty_ns", "n_in", "seq_len", "size",
)  # fmt: skip


def check_csv_numbers(path: Path) -> None:
    """Raise CalibrationError at the first non-numeric cell of a number column (file:line, column)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        if not header:
            raise CalibrationError(f"calibration CSV {path.name!r}: the file is empty (no header line)")
        columns = [c for c in NUMBER_COLUMNS if c in header]
        for row in reader:
            for column in columns:
                text = (row.get(column) or "").strip()
                if text in ("", "?"):
                    continue
                try:
                    float(text)
                except ValueError:
                    raise CalibrationError(
                        f"calibration CSV {path.name!r} line {reader.line_num}: column {column!r} expected a number, "
                        f"got {text!r}"
                    ) from None


def read_folder(folder: Path) -> tuple[list[SynthRecord], list[SkippedRow]]:
    """Records of one hls4ml project folder, or of every synthesised project in a folder of them.

    Raises:
        CalibrationError: neither a project nor a folder of projects; no project holds a report; a
            report is unreadable or of another design.
    """
    if is_project(folder):
        return read_project(folder), []
    projects = sorted(p for p in folder.iterdir() if p.is_dir() and is_project(p))
    if not projects:
        what = "it is empty" if not any(folder.iterdir()) else "found neither"
        raise CalibrationError(
            f"folder {str(folder)!r}: expected an hls4ml project (manifest.json of codesign export, or firmware/) "
            f"or a folder of them (e.g. an export folder); {what}"
        )
    records: list[SynthRecord] = []
    skipped: list[SkippedRow] = []
    for project in projects:
        if find_reports(project, project_top(project)) == (None, None):
            skipped.append(SkippedRow(project.name, project.name, "no synthesis report in the project"))
            continue
        records += read_project(project)
    if not records:
        raise CalibrationError(
            f"folder {str(folder)!r}: none of its {len(projects)} hls4ml projects holds a synthesis report "
            "(<top>_prj/solution1/syn/report/<top>_csynth.xml or .rpt, vivado_synth.rpt); synthesise them first"
        )
    return records, skipped


def read_sources(
    sources: Iterable[str | Path], target: Target | None = None
) -> tuple[list[SynthRecord], list[SkippedRow]]:
    """Read calibration records from CSV files and hls4ml project folders.

    Args:
        sources: paths of ``*.csv`` files and/or hls4ml project folders.
        target: keep only records of this target (None keeps both).

    Raises:
        CalibrationError: a source that does not exist or is neither kind, a malformed CSV or report.
    """
    records: list[SynthRecord] = []
    skipped: list[SkippedRow] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found, dropped = read_folder(path)
        elif path.is_file() and path.suffix.lower() == ".csv":
            try:
                check_csv_numbers(path)
                found, dropped = read_synth_csv(path)
            except (UnicodeDecodeError, csv.Error) as err:
                reason = "not UTF-8 text" if isinstance(err, UnicodeDecodeError) else str(err)[:120]
                raise CalibrationError(
                    f"calibration CSV {path.name!r}: expected UTF-8 CSV text, got {reason}"
                ) from None
        elif not path.exists():
            raise CalibrationError(f"calibration source {str(source)!r}: no such file or folder")
        else:
            raise CalibrationError(
                f"calibration source {str(source)!r}: expected a CSV file in the calibration schema or an hls4ml "
                "project folder"
            )
        records += [r for r in found if target is None or r.target is target]
        skipped += dropped
        logger.info("%s: %d records, %d rows skipped", path.name, len(found), len(dropped))
    return records, skipped
