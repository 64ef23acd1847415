"""Numbers read from environment variables: one reader, so every such setting fails the same way."""

from __future__ import annotations

import os

from hw_templates.errors import SpecError, bad_value

__all__ = ["env_number"]


def env_number(name: str, default: float, expected: str = "a non-negative number") -> float:
    """The non-negative number in environment variable ``name``, or ``default`` when it is unset.

    Args:
        name: the variable.
        default: the value when the variable is not set.
        expected: how the error message describes a valid value.

    Raises:
        SpecError: the variable is set to something other than a non-negative number.
    """
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses NaN
        raise SpecError(bad_value(name, text, expected))
    return value
