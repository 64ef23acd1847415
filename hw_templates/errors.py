"""The toolkit's one exception hierarchy.

Every error a user can cause derives from :class:`CodesignError`; its message is one line that says
what was expected, what was given and, where there is one, the fix. The CLI prints that line and exits
with code 2 (a traceback only with ``--debug``). The hierarchy lives in the leaf package so that
``cost_models`` and ``codesign`` can raise the same types without import cycles.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "CalibrationError",
    "CallbackError",
    "CodesignError",
    "DatasetError",
    "ExportError",
    "PrecisionError",
    "ReuseFactorError",
    "SearchError",
    "ShapeError",
    "SpecError",
    "ToolNotFoundError",
    "TrainingError",
    "UnknownPartError",
    "UnsupportedLayerError",
    "VerificationError",
    "bad_value",
    "clip",
    "did_you_mean",
    "first_line",
    "shown",
]

#: Characters of a user's value an error message repeats; longer values are cut (a 320-byte YAML of
#: nested aliases once expanded into a message of gigabytes).
MAX_SHOWN_CHARS = 80


class CodesignError(Exception):
    """Base of every error the toolkit raises on purpose (user input, missing tools, failed checks)."""


class SpecError(CodesignError, ValueError):
    """A design spec, search config or API argument holds a value that is not allowed."""


class UnknownPartError(SpecError):
    """An FPGA part name that is neither in the catalog nor declared by the user."""


class PrecisionError(SpecError):
    """A malformed or out-of-range fixed-point type."""


class ReuseFactorError(SpecError):
    """A reuse factor that hls4ml would not apply as given."""


class ShapeError(SpecError):
    """Tensor shapes that do not fit together (layer inputs, data vs spec)."""


class UnsupportedLayerError(CodesignError):
    """A layer kind or setting a cost model, builder or exporter cannot handle."""


class DatasetError(CodesignError):
    """A dataset that cannot be used as given (unknown name, bad values, wrong shape)."""


class TrainingError(CodesignError):
    """Training could not produce a usable model (e.g. the loss diverged)."""


class SearchError(CodesignError):
    """A search that cannot run as configured (e.g. no design can meet the budgets)."""


class CallbackError(SearchError):
    """A user callback of the search (``sample``, ``cost``, ``evaluate``) raised; ``original`` is its error."""

    def __init__(self, message: str, original: BaseException) -> None:
        super().__init__(message)
        self.original = original


class ExportError(CodesignError):
    """A design that cannot be turned into an HLS project."""


class VerificationError(CodesignError):
    """C simulation disagrees with the trained model."""


class CalibrationError(CodesignError):
    """Calibration sources that cannot be read or matched."""


class ToolNotFoundError(CodesignError):
    """An external program (g++, Vivado, Vitis HLS) that is needed but not on PATH."""


def clip(text: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``str(text)`` on one line, cut to ``limit`` characters (``...`` marks a cut), for error messages."""
    line = " ".join(str(text)[: limit * 4].split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def first_line(err: BaseException, default: str = "") -> str:
    """The first line of ``err``'s message, stripped, or ``default`` when the message is blank: a third-party
    error (hls4ml, torch, a database driver, a user's own code) may carry pages of context after the line
    that says what failed, and the toolkit's messages are one line."""
    text = str(err).strip()
    return text.splitlines()[0] if text else default


def shown(value: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """``repr(value)`` cut to ``limit`` characters (``...`` marks a cut), for error messages.

    Containers are cut before they are fully formatted, so a huge value costs no more than a small one.
    """
    if isinstance(value, (list, tuple, dict, set)) and len(value) > limit:
        value = list(value)[:limit] if not isinstance(value, dict) else dict(list(value.items())[:limit])
    text = _short_repr(value, limit)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short_repr(value: object, limit: int, depth: int = 0) -> str:
    if depth > 12 and isinstance(value, (dict, list, tuple)):
        return "..."
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            items.append(f"{_short_repr(key, limit, depth + 1)}: {_short_repr(item, limit, depth + 1)}")
            if sum(map(len, items)) > limit:
                break
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            items.append(_short_repr(item, limit, depth + 1))
            if sum(map(len, items)) > limit:
                break
        return "[" + ", ".join(items) + "]"
    text = repr(value[: limit + 1] if isinstance(value, (str, bytes)) else value)
    return text[: limit + 1]


def did_you_mean(given: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close."""
    given = str(given)[:MAX_SHOWN_CHARS]
    by_lower = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(given.lower(), list(by_lower)[:10_000], n=1, cutoff=0.6)
    return f" (did you mean {shown(by_lower[close[0]])}?)" if close else ""


def bad_value(field: str, given: object, expected: str, choices: Iterable[str] | None = None) -> str:
    """Format the one-line message for a bad parameter: ``field: expected X, got 'Y' (did you mean..)``."""
    hint = did_you_mean(str(given)[:MAX_SHOWN_CHARS], choices) if choices is not None else ""
    return f"{field}: expected {expected}, got {shown(given)}{hint}"
