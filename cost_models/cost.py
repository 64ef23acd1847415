"""The ``Cost`` record every cost model returns, per layer and in total.

Resources are in the units vendor reports use (LUT, FF, DSP slices, 18 Kb block RAMs, UltraRAMs);
latency and initiation interval in clock cycles of the design's clock. Totals keep floats: a model's
estimate is not an integer count, and rounding it would hide the difference between two candidates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from types import MappingProxyType
from typing import Any

from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import FpgaPart

__all__ = ["RESOURCES", "Cost", "LayerCost", "Target"]

#: Resource columns, in report order.
RESOURCES = ("lut", "ff", "dsp", "bram18", "uram")


class Target(str, Enum):
    """What a cost model predicts: the HLS C-synthesis estimate, or post-synthesis utilization."""

    HLS = "hls"
    SYNTH = "synth"

    @classmethod
    def parse(cls, value: object) -> Target:
        text = str(getattr(value, "value", value)).lower()
        aliases = {"csynth": "hls", "hls": "hls", "synth": "synth", "vsynth": "synth", "post-synthesis": "synth"}
        if text not in aliases:
            raise SpecError(bad_value("target", value, "'hls' (csynth estimate) or 'synth' (post-synthesis)", aliases))
        return cls(aliases[text])


@dataclass(frozen=True)
class LayerCost:
    """Estimated cost of one layer as implemented.

    Attributes:
        name / kind: the IR layer.
        lut, ff, dsp, bram18, uram: resources.
        latency_cycles: cycles from the first input to the last output of this layer.
        ii_cycles: initiation interval: cycles between two successive inputs the layer accepts.
        reuse_factor / strategy: the settings the estimate assumed (``None`` for layers without them).
        flops / params / bops: counters (see :mod:`cost_models.counters`).
        notes: short remarks on how the figure was obtained (fallbacks, assumptions).
    """

    name: str
    kind: str
    lut: float
    ff: float
    dsp: float
    bram18: float
    latency_cycles: float
    ii_cycles: float
    uram: float = 0.0
    reuse_factor: int | None = None
    strategy: str | None = None
    flops: int = 0
    params: int = 0
    bops: int = 0
    notes: tuple[str, ...] = ()

    def resources(self) -> dict[str, float]:
        return {r: getattr(self, r) for r in RESOURCES}

    @classmethod
    def fast(cls, **values: Any) -> LayerCost:
        """The same record as ``LayerCost(**values)``, built without the frozen dataclass's per-field
        guarded ``__setattr__`` (a cost model builds one per layer per estimate: ~2 us -> ~0.5 us).
        Every field must be given (checked); no other validation runs (``LayerCost`` has none)."""
        if values.keys() != _LAYER_COST_FIELDS:
            raise TypeError(f"LayerCost.fast: expected the fields {sorted(_LAYER_COST_FIELDS)}, got {sorted(values)}")
        record = object.__new__(cls)
        record.__dict__.update(values)
        return record


_LAYER_COST_FIELDS = frozenset(f.name for f in fields(LayerCost))


@dataclass(frozen=True)
class Cost:
    """Cost of a whole design on one part.

    Attributes:
        model: name and version of the cost model that produced it.
        target: what was predicted (HLS estimate or post-synthesis).
        part: the FPGA the utilization refers to.
        clock_ns: the clock period latency is counted in.
        layers: per-layer costs, in graph order.
        lut, ff, dsp, bram18, uram, latency_cycles, ii_cycles: design totals (latency along the
            critical path, II the slowest stage).
        flops, params, bops: counters for the whole network.
        power_w: first-order dynamic + static power estimate (rough; see the model's docs), or None.
        intervals: optional ``{metric: (low, high)}`` prediction intervals (lookup-table models).
        notes: design-level remarks.
    """

    model: str
    target: Target
    part: FpgaPart
    clock_ns: float
    layers: tuple[LayerCost, ...]
    lut: float
    ff: float
    dsp: float
    bram18: float
    latency_cycles: float
    ii_cycles: float
    uram: float = 0.0
    flops: int = 0
    params: int = 0
    bops: int = 0
    power_w: float | None = None
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "intervals", MappingProxyType(dict(self.intervals)))

    @property
    def latency_ns(self) -> float:
        return self.latency_cycles * self.clock_ns

    @property
    def ii_ns(self) -> float:
        return self.ii_cycles * self.clock_ns

    @property
    def energy_uj(self) -> float | None:
        """Energy per inference in microjoules: power x the initiation interval (a pipelined design takes a
        new input every II cycles, so at full throughput one inference costs power x II; without
        pipelining II = latency). As rough as ``power_w``."""
        return None if self.power_w is None else self.power_w * self.ii_ns * 1e-3

    def resources(self) -> dict[str, float]:
        return {r: getattr(self, r) for r in RESOURCES}

    def utilization(self) -> dict[str, float]:
        """Fraction of the part used, per resource (``inf`` where the part has none but some is used)."""
        out = {}
        for r in RESOURCES:
            available = getattr(self.part, r)
            used = getattr(self, r)
            out[r] = used / available if available else (0.0 if used == 0 else float("inf"))
        return out

    def fits(self, max_utilization: float = 1.0) -> bool:
        """True when every resource stays within ``max_utilization`` of the part."""
        return all(u <= max_utilization for u in self.utilization().values())

    def totals(self) -> dict[str, float]:
        """The headline figures as a flat dict (what ``--json`` prints under ``total``)."""
        out = self.resources()
        out.update(latency_cycles=self.latency_cycles, ii_cycles=self.ii_cycles, latency_ns=self.latency_ns)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: totals, per-layer costs, utilization and counters."""
        return {
            "model": self.model,
            "target": self.target.value,
            "part": self.part.name,
            "clock_ns": self.clock_ns,
            "total": self.totals(),
            "utilization": self.utilization(),
            "layers": [asdict(x) for x in self.layers],
            "flops": self.flops,
            "params": self.params,
            "bops": self.bops,
            "power_w": self.power_w,
            "energy_uj": self.energy_uj,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "notes": list(self.notes),
        }
