"""Calibration sources: CSV files in the calibration schema and hls4ml project folders.

The CSV schema is that of the shared calibration data (``../shared/data/synth/README.md``, read by
:mod:`cost_models.synth_data`). Before a CSV is read its number columns are checked, so a cell like
``12k`` is an error naming the file, line and column rather than a silently skipped row. Rows the IR
cannot represent (e.g. recurrent layers) are skipped with a reason, as the reader documents.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from pathlib import Path

from cost_models.cost import Target
from cost_models.lut._project import read_project
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
            found = read_project(path)
            dropped: list[SkippedRow] = []
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
