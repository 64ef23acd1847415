"""Options and output shared by the command modules (which never import one another).

Every command prints through :func:`emit`: the text for people, or with ``--json`` (:func:`add_json`)
one JSON document for scripts.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_compile_options", "add_json", "add_run_options", "check_counts", "emit", "to_jsonable"]


def add_json(parser: argparse.ArgumentParser) -> None:
    """Give a command the ``--json`` option (read by :func:`emit`)."""
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def to_jsonable(value: Any) -> Any:
    """``value`` with paths as strings and tuples as lists (what ``json.dumps`` accepts)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def emit(args: argparse.Namespace, payload: Any, text: str | Callable[[], str]) -> None:
    """Print ``payload`` as JSON when ``args.json`` is set, else ``text`` (a string or a function making it;
    nothing when empty)."""
    if getattr(args, "json", False):
        print(json.dumps(to_jsonable(payload), indent=2))
    elif out := (text() if callable(text) else text):
        print(out)


def add_compile_options(p: argparse.ArgumentParser) -> None:
    """The options of the commands that compile C models (``export``, ``verify``)."""
    p.add_argument("--jobs", type=int, default=0, help="designs compiled in parallel (default: one per CPU)")
    p.add_argument(
        "--cache-dir",
        help="compile cache: precompiled header and C model libraries, built only by the toolkit "
        "(default: $XDG_CACHE_HOME/fpga-codesign/csim, else ~/.cache/fpga-codesign/csim)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_run_options(p: argparse.ArgumentParser, default_out: str | None) -> None:
    """The options of the commands that run a search (``search``, ``demo``)."""
    p.add_argument("--out", default=default_out, help="run folder (default: runs/<name>)")
    p.add_argument("--trials", type=int, help="number of trials (overrides the config)")
    p.add_argument(
        "--evaluations",
        type=int,
        help="budget of expensive evaluations (trainings); repeats and rejected architectures are free "
        "(overrides the config's search.evaluations; with --trials, whichever comes first)",
    )
    p.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    p.add_argument("--storage", help="Optuna storage URL (default: sqlite study.db in the run folder)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json(p)


def check_counts(args: argparse.Namespace) -> None:
    """One-line errors for a non-positive ``--trials``, ``--evaluations`` or ``--timeout``."""
    from hw_templates.errors import SpecError, bad_value

    for flag in ("trials", "evaluations"):
        value = getattr(args, flag, None)
        if value is not None and value < 1:
            raise SpecError(bad_value(f"--{flag}", value, "a positive integer"))
    if args.timeout is not None and not args.timeout > 0:  # also refuses nan
        raise SpecError(bad_value("--timeout", args.timeout, "a positive number of seconds"))
