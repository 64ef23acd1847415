"""The sweep file: a base search config, a ``matrix`` of dotted config keys to value lists, ``exclude``.

A sweep file is a search config (docs/search.md) or ``base: path/to/search.yaml`` plus overrides, and::

    matrix:                      # every combination is one cell = one study
      dataset: [digits, wine]
      parts: [[xc7z020], [xcu250]]
      training.epochs: [4, 8]
      budgets.latency_ns: [100, 500]
      seed: [0, 1, 2]
    exclude:                     # optional: cells to leave out (every key given must match)
      - {dataset: wine, training.epochs: 8}
    heartbeat: {interval_s: 10, grace_s: 60, max_retry: 2}   # optional (codesign.search.storage)

Every cell's config is validated by the search config's own schema (:mod:`codesign.search.config`)
before anything runs; a problem names the cell. Matrix keys are checked against the schema with a
did-you-mean. The expanded cells (not the file's text) are what a storage records: a rerun with a
changed sweep is refused naming the first change.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codesign.config_io import model_in, read_mapping
from codesign.search.config import SearchConfigFile, SearchSettings, search_settings_from_dict
from codesign.search.storage import HeartbeatSettings
from hw_templates.errors import SpecError, bad_value, did_you_mean

__all__ = ["Cell", "Sweep", "expand", "load_sweep", "sweep_from_dict"]

SWEEP_KEYS = ("base", "matrix", "exclude", "heartbeat")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.=+-]+")


@dataclass(frozen=True)
class Cell:
    """One combination of matrix values: its own search config, study and run folder.

    Attributes:
        index: position in the expanded matrix.
        label: ``key=value,...`` (the study name's suffix; unique within the sweep).
        folder: the run folder's name under ``<sweep>/cells/``.
        settings: the matrix values of this cell, by dotted key.
        config: the cell's whole search config (base + overrides + settings).
    """

    index: int
    label: str
    folder: str
    settings: dict[str, Any]
    config: dict[str, Any]

    def search_settings(self) -> SearchSettings:
        """The validated search settings (raises SpecError naming the cell)."""
        return search_settings_from_dict(copy.deepcopy(self.config), f"sweep cell {self.label}")


@dataclass(frozen=True)
class Sweep:
    """An expanded sweep: its name (the base config's ``name``), cells and heartbeat settings."""

    name: str
    keys: tuple[str, ...]
    cells: tuple[Cell, ...]
    heartbeat: HeartbeatSettings

    def study_name(self, cell: Cell) -> str:
        return f"{self.name}:{cell.label}"

    @property
    def record_name(self) -> str:
        """The name of the (trial-less) study that records the sweep in its storage."""
        return f"{self.name}:sweep"

    def to_record(self) -> dict[str, Any]:
        """What the storage keeps: enough for a worker on another machine to run every cell."""
        hb = self.heartbeat
        return {
            "name": self.name,
            "keys": list(self.keys),
            "cells": [
                {"label": c.label, "folder": c.folder, "settings": c.settings, "config": c.config} for c in self.cells
            ],
            "heartbeat": {"interval_s": hb.interval_s, "grace_s": hb.grace_s, "max_retry": hb.max_retry},
            "fingerprint": self.fingerprint(),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Sweep:
        cells = tuple(
            Cell(i, c["label"], c["folder"], dict(c["settings"]), dict(c["config"]))
            for i, c in enumerate(record["cells"])
        )
        return cls(record["name"], tuple(record["keys"]), cells, HeartbeatSettings(**record["heartbeat"]))

    def fingerprint(self) -> str:
        text = json.dumps([[c.label, _meaning(c.config)] for c in self.cells], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _meaning(config: Mapping[str, Any]) -> dict[str, Any]:
    """A cell config without its run-length settings (more trials or time may be given on a rerun)."""
    out = json.loads(json.dumps(config, default=str))
    for key in ("trials", "timeout_s"):
        out.get("search", {}).pop(key, None)
    return out


def load_sweep(path: str | Path) -> Sweep:
    """Read, validate and expand a sweep file (see the module docstring).

    Raises:
        SpecError: the first problem, on one line (file, key, cell).

    Example:
        >>> sweep = load_sweep("examples/sweep_digits.yaml")  # doctest: +SKIP
        >>> [c.label for c in sweep.cells][:2]  # doctest: +SKIP
        ['dataset=digits,training.epochs=1', 'dataset=digits,training.epochs=2']
    """
    path = Path(path)
    data = read_mapping(path, "sweep file")
    return sweep_from_dict(data, f"sweep file {path.name}", base_dir=path.parent)


def sweep_from_dict(data: Mapping[str, Any], what: str = "sweep", base_dir: Path | None = None) -> Sweep:
    """Validate and expand a sweep given as a mapping (a parsed sweep file)."""
    data = dict(data)
    allowed = (*SWEEP_KEYS, *SearchConfigFile.model_fields)
    for key in data:
        if key not in allowed:
            raise SpecError(f"{what}: unknown key {key!r}{did_you_mean(str(key), allowed)}")
    base = _base(data.pop("base", None), what, base_dir)
    matrix = data.pop("matrix", None)
    exclude = data.pop("exclude", None) or []
    heartbeat = _heartbeat(data.pop("heartbeat", None), what)
    base = _merge(base, data)
    keys, values = _matrix(matrix, what)
    cells = expand(base, keys, values, _exclusions(exclude, keys, what))
    if not cells:
        raise SpecError(f"{what}: exclude: expected to leave at least one cell, got every cell excluded")
    sweep = Sweep(str(base.get("name", "codesign")), keys, tuple(cells), heartbeat)
    for cell in sweep.cells:
        cell.search_settings()  # every cell valid before anything runs
    return sweep


def _base(value: Any, what: str, base_dir: Path | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, str) or not value:
        raise SpecError(bad_value(f"{what}: base", value, "the path of a search config file"))
    path = Path(value)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return read_mapping(path, f"{what}: base")


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(dict(out[key]), value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _heartbeat(value: Any, what: str) -> HeartbeatSettings:
    if value is None:
        return HeartbeatSettings()
    if not isinstance(value, Mapping):
        raise SpecError(bad_value(f"{what}: heartbeat", value, "a mapping with interval_s, grace_s, max_retry"))
    known = ("interval_s", "grace_s", "max_retry")
    for key in value:
        if key not in known:
            raise SpecError(f"{what}: unknown key 'heartbeat.{key}'{did_you_mean(str(key), known)}")
    return HeartbeatSettings(**dict(value))


def _matrix(matrix: Any, what: str) -> tuple[tuple[str, ...], list[list[Any]]]:
    if matrix is None or (isinstance(matrix, Mapping) and not matrix):
        raise SpecError(f"{what}: matrix: expected at least one dotted config key with a list of values, got an "
                        "empty matrix (a single search is `codesign search`)")  # fmt: skip
    if not isinstance(matrix, Mapping):
        raise SpecError(bad_value(f"{what}: matrix", matrix, "a mapping of dotted config keys to lists of values"))
    keys, values = [], []
    for key, options in matrix.items():
        check_key(str(key), what)
        if not isinstance(options, list) or not options:
            raise SpecError(bad_value(f"{what}: matrix.{key}", options, "a non-empty list of values"))
        keys.append(str(key))
        values.append(options)
    return tuple(keys), values


def check_key(key: str, what: str = "sweep") -> None:
    """Raise SpecError (with a did-you-mean) unless ``key`` is a dotted path into the search config."""
    model: Any = SearchConfigFile
    walked = []
    for part in key.split("."):
        fields = getattr(model, "model_fields", None)
        if fields is None:  # inside a free mapping (budgets, space, custom_parts): any sub-key
            return
        if part not in fields:
            names = [".".join([*walked, f]) for f in fields]
            raise SpecError(
                f"{what}: matrix: unknown config key {key!r}{did_you_mean('.'.join([*walked, part]), names)}"
            )
        walked.append(part)
        model = model_in(fields[part].annotation)


def _exclusions(exclude: Any, keys: tuple[str, ...], what: str) -> list[dict[str, Any]]:
    if not isinstance(exclude, list) or not all(isinstance(e, Mapping) and e for e in exclude):
        raise SpecError(bad_value(f"{what}: exclude", exclude, "a list of mappings of matrix keys to values"))
    for entry in exclude:
        for key in entry:
            if key not in keys:
                raise SpecError(f"{what}: exclude: expected matrix keys, got {key!r}{did_you_mean(str(key), keys)}")
    return [dict(e) for e in exclude]


def expand(
    base: Mapping[str, Any], keys: tuple[str, ...], values: list[list[Any]], exclude: list[dict[str, Any]] = ()
) -> list[Cell]:
    """Every combination of ``values`` (in file order) not matched by an ``exclude`` entry, as cells."""
    cells: list[Cell] = []
    for combo in itertools.product(*values):
        settings = dict(zip(keys, combo))
        if any(all(settings[k] == v for k, v in entry.items()) for entry in exclude):
            continue
        config = copy.deepcopy(dict(base))
        for key, value in settings.items():
            _set_dotted(config, key, value)
        label = ",".join(f"{k}={_text(v)}" for k, v in settings.items())
        folder = f"{len(cells):03d}-" + _UNSAFE.sub("_", label.replace(",", "_"))[:80]
        cells.append(Cell(len(cells), label, folder, settings, config))
    return cells


def _set_dotted(config: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = config
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = copy.deepcopy(value)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "+".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "+".join(f"{k}-{_text(v)}" for k, v in value.items())
    return str(value)
