"""A user's callables as the search calls them: a ``{name: choices}`` space as a sampler, how many
arguments ``evaluate`` takes, what it returned, and one wrapper that turns their exceptions into a
:class:`~hw_templates.errors.CallbackError`.

Used by :class:`~codesign.search.problem.FunctionProblem` and the driver; re-exported by
:mod:`codesign.search.problem`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from hw_templates.errors import CallbackError, CodesignError, SearchError, SpecError, bad_value

if TYPE_CHECKING:
    import optuna

__all__ = ["arity", "dict_sampler", "evaluation_value", "safe_call"]


def evaluation_value(value: Any) -> tuple[float, dict[str, float]]:
    """What ``evaluate`` returned: an accuracy, or a mapping of the accuracy and measured figures.

    Raises:
        SearchError: neither a number nor a mapping with ``accuracy``, or a figure that is not a finite number.
    """
    expected = 'a number (the accuracy) or a mapping {"accuracy": number, <figure>: number, ...}'
    figures: dict[str, float] = {}
    if isinstance(value, Mapping):
        if "accuracy" not in value:
            raise SearchError(bad_value("evaluate(arch)", dict(value), expected))
        for key, figure in value.items():
            if key != "accuracy":
                if isinstance(figure, bool) or not isinstance(figure, (int, float)) or not math.isfinite(figure):
                    raise SearchError(bad_value(f"evaluate(arch)[{key!r}]", figure, "a finite number"))
                figures[str(key)] = float(figure)
        value = value["accuracy"]
    if isinstance(value, bool):
        raise SearchError(bad_value("evaluate(arch)", value, expected))
    try:
        return float(value), figures
    except (TypeError, ValueError):
        raise SearchError(bad_value("evaluate(arch)", value, expected)) from None


def arity(fn: Callable[..., Any]) -> int:
    """How many positional arguments ``fn`` takes (1 when its signature cannot be read)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 1
    return sum(1 for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def dict_sampler(space: Mapping[str, Any]) -> Callable[[optuna.Trial], dict[str, Any]]:
    """A ``sample(trial)`` for ``{name: choices}``: a list is categorical, a ``(low, high)`` int tuple an
    integer range, a ``range`` its list of values.

    Raises:
        SpecError: an empty space, or choices that are none of these (named).
    """
    if not space:
        raise SpecError("space: expected at least one parameter, got an empty mapping")
    checked: dict[str, Any] = {}
    for name, choices in space.items():
        if isinstance(choices, range):
            choices = list(choices)
        if isinstance(choices, tuple) and len(choices) == 2 and all(isinstance(v, int) for v in choices):
            if choices[0] > choices[1]:
                raise SpecError(bad_value(f"space.{name}", choices, "(low, high) with low <= high"))
        elif not isinstance(choices, list) or not choices:
            raise SpecError(bad_value(f"space.{name}", choices, "a non-empty list of choices or a (low, high) tuple"))
        checked[name] = choices

    def sample(trial: optuna.Trial) -> dict[str, Any]:
        out = {}
        for name, choices in checked.items():
            if isinstance(choices, tuple):
                out[name] = trial.suggest_int(name, choices[0], choices[1])
            else:
                out[name] = trial.suggest_categorical(name, choices)
        return out

    return sample


def safe_call(what: str, fn: Callable[[], Any]) -> Any:
    """Run a user callable; turn its exception into a one-line :class:`CallbackError` naming ``what``.

    The original error stays on ``.original``: the driver fails the trial when its type is in the
    search's ``catch`` and re-raises it otherwise (Optuna's ``catch=`` semantics).
    """
    try:
        return fn()
    except CodesignError:
        raise
    except Exception as err:  # a user function may raise anything; the driver decides (catch=)
        raise CallbackError(f"{what} failed: {type(err).__name__}: {err}", err) from err
