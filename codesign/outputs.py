"""The one output-path check, run before any work: a command that would fail to write, or would overwrite a
user's files, stops with one line before it trains, searches or exports anything.

:func:`check_output_dir` refuses an output folder that is an existing file, lies under a file or a folder
that cannot be written (read-only, no permission), or already holds files the command would write
(``design.json``, ``designs.csv``, ...) unless it is the command's own resumable folder (a search run
folder with its ``run.json``). :func:`check_run_name` keeps a search's ``name:`` a plain folder name, so
its default folder ``runs/<name>`` is a new folder inside ``runs/``.

Example:
    >>> check_output_dir("designs/mlp4", "--out", produces=("design.json", "weights.pt"))  # doctest: +SKIP
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from hw_templates.errors import SpecError, clip, shown

__all__ = ["MAX_RUN_NAME_CHARS", "check_output_dir", "check_run_name"]

MAX_RUN_NAME_CHARS = 100
#: Letters (any script), digits, ``_``, ``-`` and ``.``, not starting with ``.`` or ``-``.
_RUN_NAME = re.compile(r"[^\W][\w.-]*")


def check_run_name(name: object, field: str = "name") -> str:
    """Refuse a run name that is empty, too long, or not a plain folder name (``/``, ``..``, ...).

    Raises:
        SpecError: one line naming the field, the value and what is allowed.
    """
    if not isinstance(name, str) or not (0 < len(name) <= MAX_RUN_NAME_CHARS) or not _RUN_NAME.fullmatch(name):
        raise SpecError(
            f"{field}: expected a plain folder name of 1-{MAX_RUN_NAME_CHARS} letters, digits, '_', '-' or '.' "
            f"(no path separators, not starting with '.' or '-'), got {shown(name)}"
        )
    return name


def check_output_dir(
    path: str | Path, what: str, produces: Sequence[str] = (), own: str | Callable[[Path], bool] | None = None
) -> Path:
    """Check, before any work, that ``path`` can be created or written and would not overwrite a user's files.

    Args:
        path: the output folder (created later by the caller).
        what: how the user named it (``--out``), for the message.
        produces: names the command writes into the folder; any of them already there is refused ...
        own: ... unless this file marks the folder as the command's own (e.g. a run folder's ``run.json``),
            or this function says so of the folder (e.g. an export folder whose ``exports.json`` indexes
            the export's own design folders).

    Raises:
        SpecError: an existing file, an unwritable location, or files that would be overwritten.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SpecError(f"{what} {clip(str(path))}: expected a folder, got an existing file (choose another {what})")
    if path.is_dir() and not _is_own(path, own):
        taken = next((name for name in produces if (path / name).exists()), None)
        if taken is not None:
            raise SpecError(
                f"{what} {clip(str(path))}: would overwrite {taken} there; choose a new folder (or move the files)"
            )
    _check_writable(path, what)
    return path


def _is_own(path: Path, own: str | Callable[[Path], bool] | None) -> bool:
    if own is None:
        return False
    return own(path) if callable(own) else (path / own).exists()


def _check_writable(path: Path, what: str) -> None:
    """The folder, or its nearest existing parent, accepts a new file (probed: permissions, read-only mounts)."""
    probe = path.absolute()
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise SpecError(f"{what} {clip(str(path))}: expected a folder, but {clip(str(probe))} is a file")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise SpecError(
            f"{what} {clip(str(path))}: expected a writable location, but {clip(str(probe))} is not ({reason})"
        ) from None
