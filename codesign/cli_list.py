"""``codesign list parts|cost-models|templates [PATTERN]``: what the toolkit knows about."""

from __future__ import annotations

import argparse

from cost_models import list_cost_models
from hw_templates.parts import list_parts

__all__ = ["register", "run"]

_WHAT = ("parts", "cost-models", "templates")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("list", help="list known FPGA parts, cost models and hardware templates")
    p.add_argument("what", choices=_WHAT)
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'xcvu*'")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.what == "parts":
        parts = list_parts(args.pattern)
        print(f"{'part':10} {'family':24} {'LUT':>10} {'FF':>10} {'DSP':>6} {'BRAM18':>7} {'URAM':>5}  part string")
        for p in parts:
            print(
                f"{p.name:10} {p.family:24} {p.lut:>10,} {p.ff:>10,} {p.dsp:>6,} {p.bram18:>7,} {p.uram:>5,}"
                f"  {p.default_full_name}"
            )
    elif args.what == "templates":
        from codesign.cli_search import print_templates

        return print_templates(args.pattern)
    else:
        for name in list_cost_models():
            print(name)
    return 0
