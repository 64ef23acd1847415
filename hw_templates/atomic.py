"""Atomic file writes: a temporary file in the target's folder, then ``os.replace``.

A reader (or a crash, a SIGKILL, a full disk) never sees half a file: the target holds either its old
content or the whole new one. Lives in the leaf package so that ``cost_models`` (tables) and
``codesign`` (run results, manifests, reports) share one implementation.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_json", "atomic_write_text"]


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; rename it onto ``path`` when the block ends.

    Args:
        path: the file to (re)write.
        mode: ``"w"`` (text; ``encoding`` defaults to UTF-8) or ``"wb"``.
        **kwargs: passed to ``open`` (e.g. ``newline=""`` for CSV).

    If the block raises, the temporary file is removed and ``path`` is left as it was.

    Example:
        >>> with atomic_open(tmp / "designs.csv", newline="") as out:  # doctest: +SKIP
        ...     out.write("a,b\\n")
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    if mode == "w":
        kwargs.setdefault("encoding", "utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be read by others
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w") as out:
        out.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as out:
        out.write(data)


def atomic_write_json(path: str | Path, data: Any) -> None:
    """Write ``data`` as indented JSON (``default=str``) to ``path`` atomically."""
    atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")
