"""The ``codesign`` command line (also ``python -m codesign``): one module per command, listed in :data:`COMMANDS`.

How to add a command ``NAME`` (one new file and one line here):

1. write ``codesign/cli/NAME.py`` with ``register(subparsers)``, which adds the ``NAME`` parser and sets
   ``func`` to its ``run(args) -> int`` (the exit code);
2. append ``"NAME"`` to :data:`COMMANDS` (the order ``codesign --help`` lists the commands in).

Rules of the package: a command module never imports another command module (shared pieces live in
library modules or in ``codesign/cli/_common.py``, the options and output helpers, and
``codesign/cli/_runs.py``, printing of search runs and export tables); ``_common.add_json(parser)`` plus
``_common.emit(args, payload, text)`` give a command its ``--json`` output; heavy imports (torch, hls4ml,
optuna, matplotlib) stay inside ``run``. User errors (:class:`CodesignError`) print one line and exit
with code 2; ``--debug`` shows the traceback instead. The line is cut to :data:`MAX_MESSAGE_CHARS`;
usage errors (a bad option) are one line too, and a reader that closes the pipe early (``| head -1``)
ends the command quietly.
Any other exception (a bug, e.g. raised inside a search trial, which is recorded as failed first)
prints one line and exits with code 1.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from hw_templates.errors import CodesignError, clip

__all__ = ["COMMANDS", "MAX_MESSAGE_CHARS", "build_parser", "main"]

#: Longest error line printed (a user's value is already cut to 80 characters inside it).
MAX_MESSAGE_CHARS = 600


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors (exit code 2), like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"{self.prog}: error: {clip(message, MAX_MESSAGE_CHARS)} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


#: The command table: one module ``codesign.cli.<name>`` per command, in the order ``codesign --help`` lists them.
COMMANDS = (
    "search", "sweep", "worker", "demo", "report", "retarget", "reproduce", "estimate", "train", "export", "verify",
    "calibrate", "list", "cache",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="codesign",
        description="Hardware-aware neural architecture search for FPGAs (Brevitas x hls4ml co-design).",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
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
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at interpreter exit
        return code
    except BrokenPipeError:
        return _closed_pipe()
    except (CodesignError, OSError) as err:  # OSError: a file system refusal nothing checked before (disk full)
        if args.debug:
            raise
        text = str(err) if isinstance(err, CodesignError) else _os_error(err)
        print(f"codesign {args.command}: error: {clip(text, MAX_MESSAGE_CHARS)}", file=sys.stderr)
        return 2
    except MemoryError:  # a limit no check foresaw; one line, not a traceback
        if args.debug:
            raise
        print(f"codesign {args.command}: error: out of memory (reduce the model, data or --jobs)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"codesign {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug (ours or in a user's code): e.g. a search trial raised it
        if args.debug:
            raise
        print(f"codesign {args.command}: unexpected {type(err).__name__}: {err} (a bug; finished work is kept; "
              "rerun with --debug for the traceback)", file=sys.stderr)  # fmt: skip
        return 1


def _os_error(err: OSError) -> str:
    where = f" ({clip(err.filename)})" if err.filename else ""
    return f"{err.strerror or type(err).__name__}{where}"


def _closed_pipe() -> int:
    """The reader of stdout went away (``| head -1``): stop quietly, as command-line tools do."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's final flush would raise again otherwise
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what the shell reports for a command killed by a closed pipe
