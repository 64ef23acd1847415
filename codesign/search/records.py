"""How trials and designs are stored in an Optuna study, and read back.

Every trial keeps, as user attributes: ``status`` (``trained``, ``stopped`` (stopped early),
``duplicate`` (an architecture already trained: its accuracy is reused), ``rejected`` (no hardware
meets the part/budgets: not trained), ``failed``, ``surplus`` (asked beyond the trial budget by a
worker racing its peers; closed without running, takes no slot)), ``arch`` (the architecture, JSON), ``graph`` (its
layer graph as JSON, toolkit problems), ``designs`` (every Pareto-optimal hardware configuration on
every part: family, part, hardware settings, cost totals), ``accuracy``, ``val_history``,
``train_seconds``, ``hw_search`` (configurations, evaluated, seconds, exact) and ``reason``. A design
estimated by a cost model with intervals also keeps ``intervals``: the 90 % prediction interval of each
raw total the model has one for (:mod:`cost_models.intervals`; absent for measured or user figures).

A *design* is a trial plus one of its hardware configurations; its id is ``"<trial>-<k>"`` where ``k``
indexes the trial's ``designs`` list. The study's own user attributes hold the config, the parts, the
seeds and the tool versions (:func:`run_record`).
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from codesign.search.inner import HardwarePoint
from hw_templates.config import HardwareConfig
from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import FpgaPart

__all__ = [
    "DesignRecord",
    "config_fingerprint",
    "design_id",
    "design_record",
    "parse_design_id",
    "run_record",
    "tool_versions",
    "trial_designs",
    "trial_status",
]

STATUSES = ("trained", "stopped", "duplicate", "rejected", "failed", "surplus")
_TOOLS = ("fpga-codesign", "optuna", "torch", "brevitas", "hls4ml", "numpy", "qonnx")


@dataclass(frozen=True)
class DesignRecord:
    """One design read back from a study."""

    design_id: str
    trial: int
    index: int
    part: str
    family: str
    hardware: dict[str, Any] | None
    totals: dict[str, float]
    accuracy: float | None
    status: str
    train_seconds: float
    arch: dict[str, Any]
    intervals: dict[str, tuple[float, float]] | None = None  # the cost model's 90 % intervals of ``totals``

    def hardware_config(self, parts: Mapping[str, FpgaPart]) -> HardwareConfig | None:
        """The design's HardwareConfig (``None`` for user-supplied cost figures)."""
        if self.hardware is None:
            return None
        data = dict(self.hardware)
        data["part"] = parts[self.part].to_dict()
        return HardwareConfig.from_dict(data)


def design_id(trial: int, index: int) -> str:
    return f"{trial}-{index}"


def parse_design_id(text: str) -> tuple[int, int]:
    """``"12-3"`` -> ``(12, 3)``; SpecError for anything else."""
    trial, _, index = str(text).partition("-")
    if not (trial.isdigit() and index.isdigit()):
        raise SpecError(bad_value("design id", text, "'<trial>-<k>', e.g. '12-0' (see designs.csv)"))
    return int(trial), int(index)


def design_record(point: HardwarePoint, intervals: Mapping[str, Sequence[float]] | None = None) -> dict[str, Any]:
    """The JSON form of one hardware point (the part stored by name; the study holds the parts), with the
    cost model's 90 % intervals of its raw totals when it has them (``{"lut": [low, high], ...}``)."""
    hardware = None
    if point.hardware is not None:
        hardware = point.hardware.to_dict()
        hardware["part"] = point.hardware.part.name
    record = {
        "part": point.part_name,
        "family": point.family,
        "hardware": hardware,
        "totals": {k: round(float(v), 6) for k, v in point.totals.items()},
    }
    if intervals:
        record["intervals"] = {k: [round(float(lo), 6), round(float(hi), 6)] for k, (lo, hi) in intervals.items()}
    return record


def trial_designs(trial: Any) -> list[DesignRecord]:
    """The designs of a finished trial (``optuna.trial.FrozenTrial``) that has an accuracy."""
    attrs = trial.user_attrs
    accuracy = attrs.get("accuracy")
    # A duplicate trial's designs are those of the trial that trained the same architecture.
    if accuracy is None or attrs.get("status") not in ("trained", "stopped"):
        return []
    out = []
    for k, entry in enumerate(attrs.get("designs", [])):
        out.append(
            DesignRecord(
                design_id=design_id(trial.number, k),
                trial=trial.number,
                index=k,
                part=entry["part"],
                family=entry["family"],
                hardware=entry.get("hardware"),
                totals=dict(entry["totals"]),
                accuracy=float(accuracy),
                status=attrs.get("status", ""),
                train_seconds=float(attrs.get("train_seconds", 0.0)),
                arch=dict(attrs.get("arch", {})),
                intervals={k: (float(v[0]), float(v[1])) for k, v in entry["intervals"].items()}
                if entry.get("intervals")
                else None,
            )
        )
    return out


def trial_status(trial: Any) -> str:
    """A trial's status: its ``status`` attribute (see the module docstring), else ``running`` or
    ``waiting`` (a retry queued), or ``lost`` for a failed trial that never recorded one (its worker died:
    the trial was failed when its heartbeat went stale and retried under a new number)."""
    name = getattr(trial.state, "name", str(trial.state))
    if name in ("RUNNING", "WAITING"):
        return name.lower()
    return trial.user_attrs.get("status") or ("lost" if name == "FAIL" else name.lower())


def tool_versions() -> dict[str, str]:
    """Installed versions of the tools a run depends on (``"absent"`` when not installed)."""
    out = {"python": platform.python_version()}
    for name in _TOOLS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


RUN_LENGTH_KEYS = ("trials", "evaluations", "timeout_s")


def config_fingerprint(config: Mapping[str, Any], ignore: Sequence[str] = RUN_LENGTH_KEYS) -> str:
    """A hash of the config that decides what a study means (run length settings left out)."""
    data = json.loads(json.dumps(config, default=str))
    inner = data.get("config", data)
    search = dict(inner.get("search", {}))
    for key in ignore:
        search.pop(key, None)
    inner["search"] = search
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def run_record(
    config: Mapping[str, Any],
    parts: Sequence[FpgaPart],
    *,
    mode: str,
    formulation: str,
    objectives: Sequence[str],
    value_names: Sequence[str],
    cost_metrics: Sequence[str],
    clock_ns: float,
    seed: int,
    problem: Mapping[str, Any],
    budgets: Sequence[Any] = (),
    scalarization: Any = None,
) -> dict[str, Any]:
    """The study user attributes a run records once (the fingerprint covers what the study means)."""
    record = {
        "config": json.loads(json.dumps(config, default=str)),
        "parts": [p.to_dict() for p in parts],
        "mode": mode,
        "formulation": formulation,
        "objectives": list(objectives),
        "value_names": list(value_names),
        "cost_metrics": list(cost_metrics),
        "clock_ns": clock_ns,
        "seed": seed,
        "budgets": {b.metric: (f"{b.percent:g}%" if b.percent is not None else b.limit) for b in budgets},
        "scalarization": None
        if scalarization is None
        else {
            "method": scalarization.method,
            "targets": dict(scalarization.targets),
            "weights": dict(scalarization.weights),
        },
    }
    meaning = {k: v for k, v in record.items() if k != "seed"}
    record["config_fingerprint"] = config_fingerprint(meaning)
    record["problem"] = dict(problem)
    record["versions"] = tool_versions()
    return record
