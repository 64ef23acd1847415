"""``codesign list parts|cost-models|templates [PATTERN] [--json]``: what the toolkit knows about."""

from __future__ import annotations

import argparse
from typing import Any

from codesign.cli._common import add_json, emit
from cost_models import list_cost_models
from hw_templates.parts import list_parts

__all__ = ["register", "run"]

_WHAT = ("parts", "cost-models", "templates")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("list", help="list known FPGA parts, cost models and hardware templates")
    p.add_argument("what", choices=_WHAT)
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'xcvu*'")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.what == "parts":
        parts = list_parts(args.pattern)
        payload: Any = [
            {k: getattr(p, k) for k in ("name", "family", "lut", "ff", "dsp", "bram18", "uram")}
            | {"full_name": p.default_full_name}
            for p in parts
        ]
        emit(args, payload, lambda: _parts_text(parts))
    elif args.what == "templates":
        from hw_templates.templates import list_templates

        templates = list_templates(args.pattern)
        payload = [{"name": t.name, "summary": t.summary, "fixes": t.fixes(), "opens": t.opens()} for t in templates]
        emit(args, payload, lambda: _templates_text(templates))
    else:
        names = list(list_cost_models())
        emit(args, names, "\n".join(names))
    return 0


def _parts_text(parts: list[Any]) -> str:
    lines = [f"{'part':10} {'family':24} {'LUT':>10} {'FF':>10} {'DSP':>6} {'BRAM18':>7} {'URAM':>5}  part string"]
    for p in parts:
        lines.append(
            f"{p.name:10} {p.family:24} {p.lut:>10,} {p.ff:>10,} {p.dsp:>6,} {p.bram18:>7,} {p.uram:>5,}"
            f"  {p.default_full_name}"
        )
    return "\n".join(lines)


def _templates_text(templates: list[Any]) -> str:
    """The registered hardware templates: what each fixes and what it leaves open."""
    lines = []
    for t in templates:
        fixes = ", ".join(f"{k}={v}" for k, v in t.fixes().items())
        lines += [
            f"{t.name:22} {t.summary}",
            f"{'':22}   fixes: {fixes}",
            f"{'':22}   opens: {', '.join(t.opens()) or 'nothing'}",
        ]
    return "\n".join(lines)
