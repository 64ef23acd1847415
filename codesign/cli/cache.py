"""``codesign cache [info|clear] [--cache-dir DIR] [--json]``: what the C-simulation compile cache of
``export``/``verify`` holds, and clearing it (see ``docs/export.md``)."""

from __future__ import annotations

import argparse

from codesign.cli._common import add_json, emit

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("cache", help="show or clear the compile cache of export/verify")
    p.add_argument("action", nargs="?", choices=("info", "clear"), default="info")
    p.add_argument(
        "--cache-dir",
        help="the cache folder (default: $XDG_CACHE_HOME/fpga-codesign/csim, else ~/.cache/fpga-codesign/csim)",
    )
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codesign.export.csim_cache import cache_usage, clear_cache

    usage = clear_cache(args.cache_dir) if args.action == "clear" else cache_usage(args.cache_dir)
    verb = "removed" if args.action == "clear" else "holds"
    payload = {"action": args.action, "path": usage.path, "libraries": usage.libraries}
    payload |= {"precompiled_headers": usage.headers, "bytes": usage.bytes}
    text = (
        f"{usage.path}: {verb} {usage.libraries} compiled C models and {usage.headers} precompiled headers"
        f" ({usage.bytes / 1e6:.1f} MB)"
    )
    emit(args, payload, text)
    return 0
