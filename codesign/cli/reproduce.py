"""``codesign reproduce RUN/trials/N | DESIGN_DIR [--check] [--out DIR] [--json]``: train a recorded design
again with its recorded settings, data split and thread count, and compare dataset fingerprint, weights
sha256, accuracy, graph and cost with the record. ``--check`` exits with code 1 on any mismatch.
"""

from __future__ import annotations

import argparse
from typing import Any

from codesign.cli._common import add_json, emit

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("reproduce", help="re-create a trained design from its record and compare")
    p.add_argument("design", metavar="DESIGN", help="a design folder: RUN/trials/N or one written by train --out")
    p.add_argument("--check", action="store_true", help="exit with code 1 when anything differs")
    p.add_argument("--out", help="save the re-created design (design.json, weights.pt) into this empty folder")
    p.add_argument("--cost-model", default="analytical", help="cost model for the cost comparison")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codesign.reproduce import reproduce

    result = reproduce(args.design, out=args.out, cost_model=args.cost_model)
    emit(args, result.to_dict(), lambda: _text(result))
    return 1 if args.check and not result.matches else 0


def _text(result: Any) -> str:
    rows = [("check", "recorded", "reproduced", "")]
    rows += [(c.name, _short(c.recorded), _short(c.reproduced), "ok" if c.match else "DIFFERS") for c in result.checks]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines += [f"note: {n}" for n in result.notes]
    verdict = "reproduced exactly" if result.matches else "NOT reproduced exactly"
    lines.append(f"{result.folder}: {verdict} ({result.seconds:.1f} s)")
    if result.out:
        lines.append(f"saved to {result.out}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    return text[:16] + "..." if len(text) > 60 or (len(text) == 64 and text.isalnum()) else text
