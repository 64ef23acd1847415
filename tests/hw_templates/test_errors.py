"""The message helpers of the one error module."""

from __future__ import annotations

import pytest

from hw_templates.errors import first_line


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("conversion failed\n  File 'x.py', line 3\n  detail", "conversion failed"),
        ("\n\n  leading blank lines\nmore", "leading blank lines"),
        ("one line  ", "one line"),
    ],
)
def test_first_line_is_the_first_non_blank_line_of_the_message(message: str, expected: str) -> None:
    assert first_line(RuntimeError(message)) == expected


@pytest.mark.parametrize("message", ["", "  \n\t "])
def test_a_blank_message_gives_the_default(message: str) -> None:
    assert first_line(ValueError(message)) == ""
    assert first_line(ValueError(message), "ValueError") == "ValueError"
