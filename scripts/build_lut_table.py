"""Rebuild the shipped default lookup table from the shared calibration data.

Usage::

    python scripts/build_lut_table.py [--data DIR] [--out cost_models/data/lut_default.json] [--date YYYY-MM-DD]

Reads every CSV of ``../shared/data/synth/calibration`` (or ``--data``, or ``$CODESIGN_CALIBRATION_DIR``),
estimates each row with the analytical model and writes the table of corrections
(:mod:`cost_models.lut`). The table holds derived figures only (smoothed correction ratios, residual
quantiles, support counts) and its provenance (source repositories, tool versions, parts, row counts,
this script, the date, the analytical model's fingerprint): never a source row.

Reproducible: the same data and the same analytical model give the same table, except for the
``provenance.created`` date (pass ``--date`` to pin it). Rebuild whenever the analytical constants are
refitted (``tests/lut/test_lut_default_table.py`` fails when the table is stale).
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cost_models.lut import DEFAULT_TABLE, SHIPPED_TABLE_SETTINGS, build_table, make_samples
from cost_models.synth_data import load_synth_dir

logger = logging.getLogger("build_lut_table")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="calibration folder (default: ../shared/data/synth/calibration)")
    parser.add_argument("--out", default=str(DEFAULT_TABLE), help="table file to write")
    parser.add_argument("--date", default=datetime.date.today().isoformat(), help="provenance date (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    records, skipped_rows = load_synth_dir(args.data)
    samples, skipped = make_samples(records)
    files = sorted({r.file.rsplit(":", 1)[0] for r in records})
    provenance = {
        "inputs": files,
        "rows_read": len(records) + len(skipped_rows),
        "rows_skipped": {"by_reader": len(skipped_rows), "by_model": len(skipped)},
        "script": "scripts/build_lut_table.py",
        "created": args.date,
        "note": "derived figures only; the calibration rows are not redistributable (see the data README)",
    }
    table = build_table(samples, SHIPPED_TABLE_SETTINGS, provenance)
    out = Path(args.out)
    with tempfile.NamedTemporaryFile("w", dir=out.parent, suffix=".tmp", delete=False) as handle:
        tmp = Path(handle.name)
    try:
        table.save(tmp)
        tmp.chmod(0o644)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    levels = [sum(1 for level, _ in table.buckets if level == i) for i in range(3)]
    sys.stdout.write(
        f"wrote {out}: {len(samples)} rows used ({len(skipped_rows)} skipped by the reader, {len(skipped)} by the "
        f"model), buckets per back-off level {levels}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
