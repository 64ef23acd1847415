"""The one strict loader for every YAML/JSON file the toolkit reads (design specs, search configs).

Files are parsed with PyYAML (JSON is YAML) and validated by pydantic models with ``extra="forbid"``.
The first validation problem becomes one line: where (``layers[2].units``), what was expected, what was
given, and a did-you-mean for unknown keys. pydantic was chosen over a hand-written validator because
its models double as the documented schema (``model_json_schema``) and its error records carry exact
locations; over jsonschema because the same models type-check Python callers too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from hw_templates.errors import SpecError, did_you_mean

__all__ = ["format_location", "read_mapping", "validate"]

M = TypeVar("M", bound=BaseModel)


def read_mapping(path: str | Path, what: str = "spec") -> dict[str, Any]:
    """Read a YAML or JSON file whose top level is a mapping.

    Raises:
        SpecError: missing/unreadable file, syntax error (with line number) or a non-mapping top level.
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{what}: expected a readable YAML/JSON file, got {str(path)!r} (no such file)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "syntax error"
        raise SpecError(f"{what} {path.name}: YAML/JSON syntax error{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"{what}: cannot read {str(path)!r}: {err}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{what} {path.name}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def format_location(loc: Iterable[Any]) -> str:
    """``('layers', 2, 'units')`` -> ``layers[2].units``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "tagged-union")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) pydantic model that ``loc`` points into."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    return list(getattr(current, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def validate(model: type[M], data: dict[str, Any], what: str) -> M:
    """Validate ``data`` against ``model``; raise SpecError with the first problem on one line."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = tuple(first["loc"])
        where = format_location(loc)
        given = first.get("input")
        if first["type"] == "extra_forbidden":
            hint = did_you_mean(str(loc[-1]), _allowed_keys(model, loc))
            raise SpecError(f"{what}: unknown key {where!r}{hint}") from None
        if first["type"] == "missing":
            raise SpecError(f"{what}: {where}: required key is missing") from None
        if first["type"] == "value_error":
            message = first["msg"].removeprefix("Value error, ")
            raise SpecError(f"{what}: {where}: {message}, got {given!r}") from None
        message = first["msg"]
        raise SpecError(f"{what}: {where}: {message[0].lower()}{message[1:]}, got {given!r}") from None
