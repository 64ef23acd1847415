"""The one strict loader for every YAML/JSON file the toolkit reads (design specs, search configs, run and
design records, manifests).

Files are parsed with PyYAML (JSON is YAML) and validated by pydantic models with ``extra="forbid"``.
The first validation problem becomes one line: where (``layers[2].units``), what was expected, what was
given, and a did-you-mean for unknown keys. pydantic was chosen over a hand-written validator because
its models double as the documented schema (``model_json_schema``) and its error records carry exact
locations; over jsonschema because the same models type-check Python callers too.

Before any value is used the reader refuses, with one line naming the limit: files larger than
:data:`MAX_CONFIG_BYTES`, bytes that are not UTF-8 or are control characters (NUL, with line and
column), nesting deeper than :data:`MAX_NESTING`, aliases (``&a`` / ``*a``) that expand to more than
:data:`MAX_EXPANDED_VALUES` values (a few hundred bytes of nested aliases can otherwise expand to
gigabytes), and a key given twice in one mapping (YAML would keep the last one silently).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from hw_templates.errors import CodesignError, SpecError, clip, did_you_mean, shown

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_EXPANDED_VALUES",
    "MAX_NESTING",
    "check_input_file",
    "format_location",
    "model_in",
    "read_json",
    "read_mapping",
    "validate",
]

M = TypeVar("M", bound=BaseModel)

#: Largest spec/config/record file read (1 MiB; the largest example is under 2 KiB).
MAX_CONFIG_BYTES = 1 << 20
#: Deepest nesting of lists/mappings (a spec needs 4).
MAX_NESTING = 64
#: Most values a file may hold once its aliases are expanded.
MAX_EXPANDED_VALUES = 100_000


def check_input_file(
    path: str | Path, what: str, max_bytes: int, kind: str = "file", error: type[CodesignError] = SpecError
) -> Path:
    """Refuse a path that is not a regular, readable file of at most ``max_bytes`` bytes.

    Raises:
        SpecError (or ``error``): one line naming the path and what was expected (the size limit when too
            large).
    """
    path = Path(path)
    if not path.exists():
        raise error(f"{what}: expected a readable {kind}, got {shown(str(path))} (no such file)")
    if not path.is_file():
        raise error(f"{what}: expected a readable {kind}, got {shown(str(path))} (not a regular file)")
    size = path.stat().st_size
    if size > max_bytes:
        raise error(
            f"{what} {clip(path.name)}: expected at most {_size(max_bytes)} (the limit of this file kind), "
            f"got {_size(size)}"
        )
    return path


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.4g} {unit}"
    return f"{n} bytes"


def _text(path: Path, what: str, max_bytes: int, kind: str) -> str:
    """The file's text: size-checked, UTF-8, no NUL or other control characters (position named)."""
    check_input_file(path, what, max_bytes, kind)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise SpecError(f"{what}: cannot read {shown(str(path))} ({err.strerror or err})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = _position(raw[: err.start].decode("utf-8", "replace"), len(raw[: err.start]))
        raise SpecError(
            f"{what} {clip(path.name)}: expected UTF-8 text, got byte 0x{raw[err.start]:02x} "
            f"at line {line}, column {column}"
        ) from None
    bad = next((i for i, ch in enumerate(text) if ord(ch) < 32 and ch not in "\t\n\r"), None)
    if bad is not None:
        line, column = _position(text, bad)
        raise SpecError(
            f"{what} {clip(path.name)}: expected text, got control character U+{ord(text[bad]):04X} "
            f"at line {line}, column {column}"
        )
    return text


def _position(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML the toolkit refuses (a limit, a duplicate key)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that bounds nesting and refuses duplicate keys (aliases are counted after composing)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                mark = self.peek_event().start_mark
                raise _Refused(problem=f"nesting deeper than {MAX_NESTING} levels (the limit)", problem_mark=mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # unhashable keys: the constructor reports them
            if not isinstance(key, str):
                problem = (
                    f"key {shown(key)} is a {type(key).__name__}, expected text (YAML reads yes/no/on/off as booleans "
                    "and digits as numbers: quote the key)"
                )
                raise _Refused(problem=problem, problem_mark=key_node.start_mark)
            if duplicate:
                problem = f"key {shown(key)} is given twice in one mapping (keep one)"
                raise _Refused(problem=problem, problem_mark=key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: Any, memo: dict[int, int]) -> int:
    """Values under ``node`` counting every alias use again (memoised: linear in the distinct nodes)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = 1  # a recursive alias counts once instead of looping
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_size(item, memo) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[id(node)] = min(total, MAX_EXPANDED_VALUES + 1)
    return memo[id(node)]


def _load_yaml(text: str) -> Any:
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_EXPANDED_VALUES:
            raise _Refused(
                problem=f"more than {MAX_EXPANDED_VALUES:,} values once aliases (&/*) are expanded (the limit)",
                problem_mark=node.start_mark,
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def read_mapping(path: str | Path, what: str = "spec") -> dict[str, Any]:
    """Read a YAML or JSON file whose top level is a mapping, under the limits of this module.

    Raises:
        SpecError: missing/unreadable/too large file, syntax error (with line and column), a limit
            exceeded, a duplicate key or a non-mapping top level.
    """
    path = Path(path)
    text = _text(path, what, MAX_CONFIG_BYTES, "YAML/JSON file")
    try:
        data = _load_yaml(text)
    except _Refused as err:
        raise SpecError(f"{what} {clip(path.name)}{_where(err)}: {_problem(err)}") from None
    except yaml.YAMLError as err:
        raise SpecError(f"{what} {clip(path.name)}: YAML/JSON syntax error{_where(err)}: {_problem(err)}") from None
    except RecursionError:
        raise SpecError(f"{what} {clip(path.name)}: nesting deeper than {MAX_NESTING} levels (the limit)") from None
    if not isinstance(data, dict):
        got = type(data).__name__
        raise SpecError(f"{what} {clip(path.name)}: expected a mapping of keys at the top level, got {got}")
    return data


def _where(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    if mark is not None:
        return f" at line {mark.line + 1}, column {mark.column + 1}"
    position = getattr(err, "position", None)  # ReaderError (bad characters)
    return f" at character {position + 1}" if isinstance(position, int) else ""


def _problem(err: yaml.YAMLError) -> str:
    problem = getattr(err, "problem", None) or getattr(err, "reason", None) or "syntax error"
    return clip(problem, 160)


def read_json(path: str | Path, what: str, max_bytes: int = MAX_CONFIG_BYTES) -> dict[str, Any]:
    """Read a JSON file the toolkit wrote (``run.json``, ``design.json``, ``manifest.json``) strictly.

    Raises:
        SpecError: missing, too large, not UTF-8, not JSON (line and column), duplicate keys, nesting
            deeper than :data:`MAX_NESTING`, or a top level that is not an object.
    """
    path = Path(path)
    text = _text(path, what, max_bytes, "JSON file")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise SpecError(f"{what} {clip(path.name)}: key {shown(key)} is given twice in one object")
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as err:
        raise SpecError(
            f"{what} {clip(path.name)}: expected JSON, got a syntax error at line {err.lineno}, "
            f"column {err.colno}: {err.msg}"
        ) from None
    except RecursionError:
        raise SpecError(f"{what} {clip(path.name)}: nesting deeper than the interpreter allows") from None
    if not isinstance(data, dict):
        raise SpecError(f"{what} {clip(path.name)}: expected a JSON object at the top level, got {type(data).__name__}")
    if _too_deep(data):
        raise SpecError(f"{what} {clip(path.name)}: nesting deeper than {MAX_NESTING} levels (the limit)")
    return data


def _too_deep(data: Any) -> bool:
    """True when lists/objects nest deeper than :data:`MAX_NESTING` (iterative: no recursion)."""
    level: list[Any] = [data]
    for _ in range(MAX_NESTING):
        level = [v for x in level for v in (x.values() if isinstance(x, dict) else x) if isinstance(v, (dict, list))]
        if not level:
            return False
    return True


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
        current = model_in(field.annotation)
    return list(getattr(current, "model_fields", {}))


def model_in(annotation: Any) -> Any:
    """The pydantic model a field's annotation holds (``Model``, ``Model | None``, ``list[Model]``, ...), or None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = model_in(arg)
        if found is not None:
            return found
    return None


def validate(model: type[M], data: dict[str, Any], what: str) -> M:
    """Validate ``data`` against ``model``; raise SpecError with the first problem on one line."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems = err.errors()
        # an unknown key first: a typo ('layer:') explains the 'required key is missing' it also causes
        first = next((e for e in problems if e["type"] == "extra_forbidden"), problems[0])
        loc = tuple(first["loc"])
        where = format_location(loc)
        given = first.get("input")
        if first["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            hint = did_you_mean(str(loc[-1]), allowed)
            if not hint and allowed:  # nothing close ('kind' for 'type'): the keys it takes, in declaration order
                hint = f" (expected one of: {clip(', '.join(allowed), 200)})"
            raise SpecError(f"{what}: unknown key {shown(where)}{hint}") from None
        if first["type"] == "missing":
            raise SpecError(f"{what}: {clip(where)}: required key is missing") from None
        if first["type"] == "value_error":
            message = first["msg"].removeprefix("Value error, ")
            raise SpecError(f"{what}: {clip(where)}: {clip(message, 240)}, got {shown(given)}") from None
        message = clip(first["msg"], 240)
        raise SpecError(f"{what}: {clip(where)}: {message[0].lower()}{message[1:]}, got {shown(given)}") from None
