"""``codesign calibrate SOURCES... --out TABLE``: build a lookup-table cost model from synthesis results.

SOURCES are CSV files in the calibration schema (``../shared/data/synth/README.md``, or the
``synthesis.csv`` that ``codesign export --build`` writes), hls4ml project folders holding reports
(``<top>_prj/solution1/syn/report/<top>_csynth.xml`` / ``.rpt``, and/or ``vivado_synth.rpt``), and
folders of such projects (the ``--out`` folder of ``codesign export``: projects without a report are
skipped). Projects of ``codesign export`` are read from their ``manifest.json`` (the exact design);
others are parsed from their firmware. The table is written to a temporary file and renamed into place,
so an error never leaves a half-written TABLE; an existing TABLE is kept unless ``--force`` is given.
Use the table with ``codesign estimate SPEC --cost-model lut:TABLE`` or ``cost_model: lut:TABLE`` in a
search config.

Example::

    codesign calibrate exports/ runs/*.csv my_hls4ml_prj/ --out my_table.json --target post-synthesis
"""

from __future__ import annotations

import argparse
import datetime
import logging
from pathlib import Path

from codesign.cli._common import add_json, emit
from cost_models.cost import Target
from cost_models.lut import build_table, make_samples
from cost_models.lut._sources import read_sources
from hw_templates.atomic import atomic_write_text
from hw_templates.errors import CalibrationError

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("calibrate", help="build a lookup-table cost model from synthesis results")
    p.add_argument("sources", nargs="+", help="CSV files (calibration schema), hls4ml project folders, export folders")
    p.add_argument("--out", required=True, help="table file to write (JSON)")
    p.add_argument(
        "--target",
        choices=["csynth", "post-synthesis"],
        help="keep only HLS (csynth) estimates or only post-synthesis results (default: both)",
    )
    p.add_argument("--force", action="store_true", help="overwrite an existing table")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.is_dir():
        raise CalibrationError(f"--out {str(out)!r}: is a folder; expected the table file to write (e.g. table.json)")
    if out.exists() and not args.force:
        raise CalibrationError(f"--out {str(out)!r}: the file exists; pass --force to overwrite it")
    if not out.parent.is_dir():
        raise CalibrationError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist")
    target = Target.parse(args.target) if args.target else None
    records, skipped_rows = read_sources(args.sources, target)
    samples, skipped = make_samples(records)
    if not samples:
        reasons = [s.reason for s in skipped_rows] + skipped
        why = f"; first reason: {reasons[0]}" if reasons else ""
        wanted = f" with target {args.target}" if args.target else ""
        raise CalibrationError(
            f"calibration set: no usable synthesis result{wanted} in {len(args.sources)} source(s) "
            f"({len(records)} records, {len(reasons)} rows skipped){why}"
        )
    provenance = {
        "inputs": _input_names(args.sources),
        "target_filter": args.target or "all",
        "rows_skipped": {"by_reader": len(skipped_rows), "by_model": len(skipped)},
        "script": "codesign calibrate",
        "created": datetime.date.today().isoformat(),
    }
    table = build_table(samples, provenance=provenance)
    atomic_write_text(out, table.to_json())
    by_target = table.provenance["rows"]["by_target"]
    payload = {
        "table": out,
        "rows": len(samples),
        "by_target": by_target,
        "skipped": len(skipped_rows) + len(skipped),
        "buckets": len(table.buckets),
    }
    emit(
        args,
        payload,
        f"wrote {out}: {len(samples)} rows ({', '.join(f'{k}: {v}' for k, v in sorted(by_target.items()))}), "
        f"{len(skipped_rows) + len(skipped)} skipped, {len(table.buckets)} buckets",
    )
    for row in skipped_rows[:5]:
        logger.warning("skipped %s: %s", row.file, row.reason)
    for reason in skipped[:5]:
        logger.warning("skipped %s", reason)
    return 0


def _input_names(sources: list[str]) -> list[str]:
    """Source names for the provenance: the file or folder name, with its folder where names repeat
    (``exports/*/synthesis.csv``); never a full path of the user's machine."""
    paths = [Path(s) for s in sources]
    names = [p.resolve().name for p in paths]
    return [f"{p.resolve().parent.name}/{n}" if names.count(n) > 1 else n for p, n in zip(paths, names)]
