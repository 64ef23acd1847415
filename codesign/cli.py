"""The ``codesign`` command line: one subcommand per module, registered in :data:`COMMANDS`.

How to add a command: write ``codesign/cli_<name>.py`` with ``register(subparsers)`` (adds the parser
and sets ``func`` to its ``run(args) -> int``), keep heavy imports (torch, hls4ml, optuna) inside
``run``, and append the module name here. User errors (:class:`CodesignError`) print one line and exit
with code 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from hw_templates.errors import CodesignError

__all__ = ["COMMANDS", "main"]

#: Command modules, in the order ``codesign --help`` lists them.
COMMANDS = ("cli_search", "cli_estimate", "cli_train", "cli_export", "cli_calibrate", "cli_list")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codesign",
        description="Hardware-aware neural architecture search for FPGAs (Brevitas x hls4ml co-design).",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"codesign.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"codesign.{name}":
                raise
            continue
        module.register(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fpga-codesign")
    except PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``codesign`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(levelname)s %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CodesignError as err:
        if args.debug:
            raise
        print(f"codesign {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"codesign {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
