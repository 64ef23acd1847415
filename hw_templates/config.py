"""Hardware configuration types: what an hls4ml design is built with, apart from the network itself.

A :class:`HardwareConfig` holds the model-wide settings (part, clock, backend, io type, strategy,
reuse factor) and per-layer overrides (:class:`LayerHardware`). ``resolve(name)`` merges them into
the :class:`ResolvedLayerHardware` a cost model or exporter reads for one layer, so the inheritance
rule lives in one place. Names follow hls4ml 1.3's configuration keys (``ReuseFactor``, ``Strategy``,
``IOType``, ``ParallelizationFactor``, ``ConvImplementation``, ``ClockPeriod``, ``ClockUncertainty``)
but the CamelCase dict itself is built only by the exporter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from types import MappingProxyType
from typing import Any

from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import FpgaPart
from hw_templates.precision import FixedType
from hw_templates.tools import resolve_tool_version

__all__ = [
    "LATENCY_ONLY_KINDS",
    "Backend",
    "ConvImplementation",
    "FifoDepths",
    "HardwareConfig",
    "IoType",
    "LayerHardware",
    "MultiplierImpl",
    "ResolvedLayerHardware",
    "Strategy",
    "strategy_problem",
]


class _StrEnum(str, Enum):
    @classmethod
    def parse(cls, value: object, field_name: str) -> _StrEnum:
        """Case-insensitive lookup by value; SpecError with the allowed values otherwise."""
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower()
        for member in cls:
            if text in (member.value, member.name.lower()):
                return member
        allowed = [m.value for m in cls]
        raise SpecError(bad_value(field_name, value, "one of " + ", ".join(allowed), allowed))

    def __str__(self) -> str:
        return self.value


class Strategy(_StrEnum):
    """hls4ml implementation strategy of a layer's matrix-vector product."""

    LATENCY = "latency"
    RESOURCE = "resource"


class IoType(_StrEnum):
    """How tensors pass between layers: arrays of registers or AXI-like FIFO streams."""

    PARALLEL = "io_parallel"
    STREAM = "io_stream"


class Backend(_StrEnum):
    """hls4ml backend (the HLS tool the project targets)."""

    VITIS = "vitis"
    VIVADO = "vivado"
    QUARTUS = "quartus"
    CATAPULT = "catapult"


#: Layer kinds hls4ml 1.3 builds with the Latency strategy only (Vivado/Vitis ``nnet_utils``): a Resource
#: depthwise convolution fails an assertion under io_parallel ("Resource strategy for DepthwiseConv2D is
#: not supported", ``nnet_sepconv2d.h``) and, measured here, computes wrong outputs under io_stream (C
#: simulation of a trained 8-channel 3x3 depthwise layer differed on every test sample at every reuse
#: factor, while Latency was bit-exact at reuse factors 1-72). Separable convolutions contain one.
LATENCY_ONLY_KINDS = frozenset({"depthwise_conv1d", "depthwise_conv2d", "separable_conv1d", "separable_conv2d"})


def strategy_problem(layer_name: str, kind: str, strategy: Strategy, backend: Backend) -> str | None:
    """Why hls4ml cannot build ``strategy`` for a layer of ``kind`` (IR kind name), or None when it can."""
    if strategy is Strategy.RESOURCE and kind in LATENCY_ONLY_KINDS and backend in (Backend.VIVADO, Backend.VITIS):
        return (
            f"layer {layer_name!r} ({kind}): strategy resource is not built correctly by hls4ml 1.3 for "
            f"depthwise/separable convolutions on {backend.value}; expected strategy: latency for this layer"
        )
    return None


class ConvImplementation(_StrEnum):
    """Streaming convolution implementation in hls4ml (``ConvImplementation``)."""

    LINE_BUFFER = "linebuffer"
    ENCODED = "encoded"


class MultiplierImpl(_StrEnum):
    """Where HLS builds the multipliers: its own choice, DSP slices, or LUT fabric.

    ``dsp`` / ``fabric`` correspond to the Vivado/Vitis HLS directive ``config_op mul -impl dsp|fabric``
    (UG1399, "config_op"), which hls4ml leaves to the user's build script; ``auto`` is the tool's default
    (narrow products in LUTs, wide ones in DSPs).
    """

    AUTO = "auto"
    DSP = "dsp"
    FABRIC = "fabric"


class FifoDepths(_StrEnum):
    """How deep the io_stream FIFOs between layers are built.

    ``full`` is hls4ml's default: every FIFO holds one whole tensor, so no layer ever waits for space
    (it cannot stall or deadlock). ``sized`` builds each FIFO between one producer and one consumer as
    deep as the cost model's bound on its occupancy (``cost_models.analytical.stream.sized_fifo_depth``),
    the analytical counterpart of hls4ml's co-simulation-based FIFO depth optimization; FIFOs at a
    fork or a join (skip connections) stay full. A per-layer ``fifo_depth`` always wins.
    """

    FULL = "full"
    SIZED = "sized"


@dataclass(frozen=True)
class LayerHardware:
    """Per-layer overrides; ``None`` means "inherit the model-wide setting"."""

    reuse_factor: int | None = None
    strategy: Strategy | None = None
    precision: Mapping[str, FixedType] | None = None
    parallelization_factor: int | None = None
    fifo_depth: int | None = None
    conv_implementation: ConvImplementation | None = None
    multiplier_impl: MultiplierImpl | None = None

    def __post_init__(self) -> None:
        for name in ("reuse_factor", "parallelization_factor", "fifo_depth"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise SpecError(bad_value(name, value, "a positive integer"))
        if self.precision is not None:
            object.__setattr__(self, "precision", MappingProxyType(dict(self.precision)))
        for name, kind in (("multiplier_impl", MultiplierImpl), ("strategy", Strategy),
                           ("conv_implementation", ConvImplementation)):  # fmt: skip
            if getattr(self, name) is not None:  # "resource" from Python as from a spec
                object.__setattr__(self, name, kind.parse(getattr(self, name), name))


@dataclass(frozen=True)
class ResolvedLayerHardware:
    """The settings one layer is built with, after inheritance."""

    reuse_factor: int
    strategy: Strategy
    io_type: IoType
    precision: Mapping[str, FixedType]
    parallelization_factor: int
    fifo_depth: int | None
    conv_implementation: ConvImplementation
    multiplier_impl: MultiplierImpl = MultiplierImpl.AUTO


@dataclass(frozen=True)
class HardwareConfig:
    """Everything about a design's hardware except the network.

    Attributes:
        part: the target FPGA.
        clock_ns: target clock period (hls4ml ``ClockPeriod``).
        clock_uncertainty_ns: HLS clock uncertainty; ``None`` uses the backend default
            (hls4ml 1.3: 12.5 % of the period for Vivado, 27 % for Vitis).
        backend: the HLS tool flavour.
        io_type: io_parallel or io_stream (model-wide in hls4ml).
        strategy: model-wide default strategy.
        reuse_factor: model-wide default reuse factor.
        layers: per-layer overrides by layer name.
        multiplier_impl: model-wide multiplier mapping (``config_op mul -impl``); ``auto`` by default.
        fifo_depths: io_stream FIFO depths: ``full`` (hls4ml's default) or ``sized`` (see :class:`FifoDepths`).
        tool_version: version of the HLS tool the design is built with (``"2019.2"``, ``"2023.1"``), as the
            csynth report header prints it; ``None`` when not known. Cost models may price what a
            version builds differently.

    Example:
        >>> from hw_templates import resolve_part
        >>> hw = HardwareConfig(resolve_part("xcu250"), clock_ns=5.0, reuse_factor=4)
        >>> hw.resolve("fc1").reuse_factor
        4
    """

    part: FpgaPart
    clock_ns: float = 5.0
    clock_uncertainty_ns: float | None = None
    backend: Backend = Backend.VITIS
    io_type: IoType = IoType.PARALLEL
    strategy: Strategy = Strategy.LATENCY
    reuse_factor: int = 1
    layers: Mapping[str, LayerHardware] = field(default_factory=dict)
    multiplier_impl: MultiplierImpl = MultiplierImpl.AUTO
    fifo_depths: FifoDepths = FifoDepths.FULL
    tool_version: str | None = None

    def __post_init__(self) -> None:
        if (
            isinstance(self.clock_ns, bool)
            or not isinstance(self.clock_ns, (int, float))
            or not (0.5 <= self.clock_ns <= 1000)
        ):
            raise SpecError(bad_value("clock_ns", self.clock_ns, "a clock period between 0.5 and 1000 ns"))
        unc = self.clock_uncertainty_ns
        if unc is not None and not 0 <= unc < self.clock_ns:
            raise SpecError(bad_value("clock_uncertainty_ns", unc, f"0 <= value < clock_ns ({self.clock_ns})"))
        if isinstance(self.reuse_factor, bool) or not isinstance(self.reuse_factor, int) or self.reuse_factor < 1:
            raise SpecError(bad_value("reuse_factor", self.reuse_factor, "a positive integer"))
        object.__setattr__(self, "layers", MappingProxyType(dict(self.layers)))
        for name, kind in (("backend", Backend), ("io_type", IoType), ("strategy", Strategy),
                           ("multiplier_impl", MultiplierImpl), ("fifo_depths", FifoDepths)):  # fmt: skip
            # strings ("io_stream", "resource") from Python as from a spec; the enum member is kept as is
            object.__setattr__(self, name, kind.parse(getattr(self, name), name))
        if self.tool_version is not None and (not isinstance(self.tool_version, str) or not self.tool_version.strip()):
            raise SpecError(bad_value("tool_version", self.tool_version, "a tool version such as '2023.2', or none"))
        if self.tool_version is not None:
            resolve_tool_version(self.tool_version)  # an unknown release is an error listing the known ones
        # resolve() results, per layer name: the config is frozen, so they never go stale. Cost models
        # call resolve() for every layer of every estimate (a search calls it millions of times).
        object.__setattr__(self, "_resolved", {})

    @property
    def effective_clock_uncertainty_ns(self) -> float:
        """The uncertainty HLS schedules with (backend default when not given)."""
        if self.clock_uncertainty_ns is not None:
            return self.clock_uncertainty_ns
        fraction = 0.27 if self.backend is Backend.VITIS else 0.125
        return self.clock_ns * fraction

    def resolve(self, layer_name: str) -> ResolvedLayerHardware:
        """Merge the per-layer override of ``layer_name`` (if any) over the model-wide settings."""
        cached = self._resolved.get(layer_name)
        if cached is None:
            key = layer_name if layer_name in self.layers else None  # layers without overrides share one record
            cached = self._resolved.get(key)
            if cached is None:
                cached = self._resolved[key] = self._merge(layer_name)
            self._resolved[layer_name] = cached
        return cached

    def _merge(self, layer_name: str) -> ResolvedLayerHardware:
        over = self.layers.get(layer_name, LayerHardware())
        return ResolvedLayerHardware(
            reuse_factor=over.reuse_factor or self.reuse_factor,
            strategy=over.strategy or self.strategy,
            io_type=self.io_type,
            precision=over.precision or MappingProxyType({}),
            parallelization_factor=over.parallelization_factor or 1,
            fifo_depth=over.fifo_depth,
            conv_implementation=over.conv_implementation or ConvImplementation.LINE_BUFFER,
            multiplier_impl=over.multiplier_impl or self.multiplier_impl,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; the part is stored whole so custom parts survive the round trip."""
        layers = {}
        for name, over in self.layers.items():
            entry = {
                f.name: _plain(getattr(over, f.name))
                for f in fields(over)
                if getattr(over, f.name) is not None and f.name != "precision"
            }
            if over.precision:
                entry["precision"] = {k: v.to_hls() for k, v in over.precision.items()}
            layers[name] = entry
        return {
            "part": self.part.to_dict(),
            "clock_ns": self.clock_ns,
            "clock_uncertainty_ns": self.clock_uncertainty_ns,
            "backend": self.backend.value,
            "io_type": self.io_type.value,
            "strategy": self.strategy.value,
            "reuse_factor": self.reuse_factor,
            "layers": layers,
            "multiplier_impl": self.multiplier_impl.value,
            "fifo_depths": self.fifo_depths.value,
            "tool_version": self.tool_version,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HardwareConfig:
        """Inverse of :meth:`to_dict`."""
        layers = {}
        for name, entry in dict(data.get("layers", {})).items():
            entry = dict(entry)
            if "strategy" in entry:
                entry["strategy"] = Strategy.parse(entry["strategy"], f"layers.{name}.strategy")
            if "conv_implementation" in entry:
                entry["conv_implementation"] = ConvImplementation.parse(
                    entry["conv_implementation"], f"layers.{name}.conv_implementation"
                )
            if "multiplier_impl" in entry:
                where = f"layers.{name}.multiplier_impl"
                entry["multiplier_impl"] = MultiplierImpl.parse(entry["multiplier_impl"], where)
            if "precision" in entry:
                entry["precision"] = {k: FixedType.parse(v) for k, v in entry["precision"].items()}
            layers[name] = LayerHardware(**entry)
        return cls(
            part=FpgaPart.from_dict(data["part"]),
            clock_ns=float(data["clock_ns"]),
            clock_uncertainty_ns=data.get("clock_uncertainty_ns"),
            backend=Backend.parse(data.get("backend", "vitis"), "backend"),
            io_type=IoType.parse(data.get("io_type", "io_parallel"), "io_type"),
            strategy=Strategy.parse(data.get("strategy", "latency"), "strategy"),
            reuse_factor=int(data.get("reuse_factor", 1)),
            layers=layers,
            multiplier_impl=MultiplierImpl.parse(data.get("multiplier_impl", "auto"), "multiplier_impl"),
            fifo_depths=FifoDepths.parse(data.get("fifo_depths", "full"), "fifo_depths"),
            tool_version=data.get("tool_version"),
        )

    def with_layer(self, layer_name: str, **overrides: object) -> HardwareConfig:
        """A copy with ``overrides`` merged into the per-layer settings of ``layer_name``."""
        current = self.layers.get(layer_name, LayerHardware())
        layers = dict(self.layers)
        layers[layer_name] = replace(current, **overrides)
        return replace(self, layers=layers)


def _plain(value: object) -> object:
    return value.value if isinstance(value, Enum) else value
