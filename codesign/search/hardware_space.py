"""The hardware search space: which hls4ml configurations a search may give an architecture.

A :class:`HardwareSpace` holds the target parts, the clock, the backend and one or more design
*families*. A family is a template (:mod:`hw_templates.templates`) or the user's own parameter ranges
(``custom``) under one io type; it fixes the model-wide settings and says which per-layer settings of
each weight layer are open:

* reuse factor: only values hls4ml 1.3 keeps unchanged for that layer (:func:`valid_reuse_factors`; the
  same set is used under Latency, where hls4ml accepts any value, so every design exports as estimated),
  within ``reuse_factor_min .. reuse_factor_max`` and the template's own list;
* strategy: Latency and/or Resource (depthwise and separable convolutions: Latency only, whatever the
  family says, because hls4ml 1.3 builds no correct Resource version: ``LATENCY_ONLY_KINDS``);
* parallelization factor of convolutions: divisors of the output pixel count (hls4ml 1.3
  ``get_valid_conv_partition_splits``) up to ``parallelization_max``.

Precision is not a hardware knob here: it changes what the network computes, so it is searched with
the architecture (the space's bit widths); a template can only restrict it (``dsp_free``), which is
checked on the architecture before training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cost_models.ir import Layer, LayerGraph, LayerKind
from cost_models.kinds import KindCoverage
from hw_templates.config import (
    LATENCY_ONLY_KINDS,
    Backend,
    ConvImplementation,
    FifoDepths,
    HardwareConfig,
    IoType,
    LayerHardware,
    Strategy,
)
from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import FpgaPart
from hw_templates.reuse import closest_valid_reuse_factor, valid_reuse_factors
from hw_templates.templates import HardwareTemplate, get_template

__all__ = ["CUSTOM", "KIND_COVERAGE", "Family", "HardwareRanges", "HardwareSpace", "LayerOption"]

#: Weight layers get per-layer options (reuse factor, strategy, parallelization factor); the rest have none.
KIND_COVERAGE = KindCoverage(
    "hardware space",
    frozenset(k for k in LayerKind if k.has_weights),
    {
        k: "no multipliers: no per-layer reuse factor, strategy or parallelization factor"
        for k in LayerKind
        if not k.has_weights
    },
)

#: Name of the family built from the user's parameter ranges.
CUSTOM = "custom"


@dataclass(frozen=True)
class LayerOption:
    """One choice of per-layer settings for a weight layer."""

    strategy: Strategy
    reuse_factor: int
    parallelization_factor: int = 1


@dataclass(frozen=True)
class HardwareRanges:
    """The user's parameter ranges (``hardware:`` in a search config).

    Attributes:
        io_types: io types to consider.
        strategies: strategies of weight layers.
        reuse_factor_min / reuse_factor_max: bounds on every layer's reuse factor.
        parallelization_max: largest convolution ``ParallelizationFactor``.
        fifo_depths: io_stream FIFO depth modes (``full``, ``sized``), one family each.
    """

    io_types: tuple[IoType, ...] = (IoType.PARALLEL,)
    strategies: tuple[Strategy, ...] = (Strategy.LATENCY, Strategy.RESOURCE)
    reuse_factor_min: int = 1
    reuse_factor_max: int = 64
    parallelization_max: int = 1
    fifo_depths: tuple[FifoDepths, ...] = (FifoDepths.FULL,)

    def __post_init__(self) -> None:
        if not self.fifo_depths:
            raise SpecError("hardware.fifo_depths: expected at least one of full, sized, got an empty list")
        if not self.io_types:
            raise SpecError("hardware.io_types: expected at least one io type, got an empty list")
        if not self.strategies:
            raise SpecError("hardware.strategies: expected at least one strategy, got an empty list")
        if not 1 <= self.reuse_factor_min <= self.reuse_factor_max:
            raise SpecError(
                bad_value(
                    "hardware.reuse_factor_max",
                    self.reuse_factor_max,
                    f"an integer >= reuse_factor_min ({self.reuse_factor_min}) >= 1",
                )
            )
        if self.parallelization_max < 1:
            raise SpecError(bad_value("hardware.parallelization_max", self.parallelization_max, "an integer >= 1"))


@dataclass(frozen=True)
class Family:
    """A template (or the user's ranges) under one io type: what every design of it shares."""

    name: str
    io_type: IoType
    strategies: tuple[Strategy, ...]
    reuse_factors: tuple[int, ...] | None
    reuse_factor_min: int
    reuse_factor_max: int
    parallelization_max: int
    conv_implementation: ConvImplementation = ConvImplementation.LINE_BUFFER
    max_weight_bits: int | None = None
    max_dsp: int | None = None
    fifo_depths: FifoDepths = FifoDepths.FULL

    @property
    def label(self) -> str:
        """``name/io_type`` (plus ``/sized_fifos``), unique within a space."""
        sized = "/sized_fifos" if self.fifo_depths is FifoDepths.SIZED else ""
        return f"{self.name}/{self.io_type.value}{sized}"

    def base_config(self, part: FpgaPart, clock_ns: float, backend: Backend) -> HardwareConfig:
        """The model-wide settings of this family on ``part`` (per-layer settings come on top)."""
        return HardwareConfig(
            part=part,
            clock_ns=clock_ns,
            backend=backend,
            io_type=self.io_type,
            strategy=Strategy.LATENCY,
            fifo_depths=self.fifo_depths,
        )

    def config(
        self, part: FpgaPart, clock_ns: float, backend: Backend, choices: dict[str, LayerOption]
    ) -> HardwareConfig:
        """The full hardware configuration with ``choices`` per weight layer."""
        base = self.base_config(part, clock_ns, backend)
        layers = {}
        for name, option in choices.items():
            layers[name] = LayerHardware(
                reuse_factor=option.reuse_factor,
                strategy=option.strategy,
                parallelization_factor=option.parallelization_factor if option.parallelization_factor > 1 else None,
                conv_implementation=self.conv_implementation if self.io_type is IoType.STREAM else None,
            )
        return HardwareConfig(
            part=base.part,
            clock_ns=base.clock_ns,
            backend=base.backend,
            io_type=base.io_type,
            strategy=base.strategy,
            reuse_factor=1,
            layers=layers,
            fifo_depths=base.fifo_depths,
        )

    def rejection(self, graph: LayerGraph) -> str | None:
        """Why ``graph`` cannot be built in this family (``None`` when it can)."""
        if self.max_weight_bits is None:
            return None
        for layer in graph.weight_layers():
            weight = layer.precision.weight
            bits = weight.width if weight is not None else 16
            if bits > self.max_weight_bits:
                limit = self.max_weight_bits
                return f"layer {layer.name!r} has {bits}-bit weights (template {self.name} allows <= {limit})"
        return None

    def reuse_choices(self, layer: Layer) -> tuple[int, ...]:
        """Reuse factors legal for every multiplication unit of ``layer`` the reuse factor is checked against
        (``Layer.reuse_units``) and allowed by the family."""
        units = layer.reuse_units()
        legal = set(valid_reuse_factors(*units[0]))
        for unit in units[1:]:
            legal &= set(valid_reuse_factors(*unit))
        allowed = sorted(
            rf
            for rf in legal
            if self.reuse_factor_min <= rf <= self.reuse_factor_max
            and (self.reuse_factors is None or rf in self.reuse_factors)
        )
        if allowed:
            return tuple(allowed)
        # No legal value inside the range (e.g. a prime-sized layer): the legal value nearest the range.
        target = self.reuse_factors[0] if self.reuse_factors else self.reuse_factor_min
        return (closest_valid_reuse_factor(*units[0], target),)

    def parallelization_choices(self, layer: Layer) -> tuple[int, ...]:
        """ParallelizationFactor values for a convolution (divisors of its output pixels), else (1,)."""
        if not layer.kind.spatial_dims or self.parallelization_max <= 1:
            return (1,)
        pixels = layer.output_positions
        return tuple(d for d in range(1, min(pixels, self.parallelization_max) + 1) if pixels % d == 0)

    def layer_options(self, layer: Layer) -> list[LayerOption]:
        """Every per-layer choice of this family for weight layer ``layer``."""
        rfs = self.reuse_choices(layer)
        pfs = self.parallelization_choices(layer)
        strategies = self.strategies
        if layer.kind.value in LATENCY_ONLY_KINDS:  # hls4ml builds no (correct) Resource depthwise convolution
            strategies = (Strategy.LATENCY,)
        return [LayerOption(s, rf, pf) for s in strategies for pf in pfs for rf in rfs]


def _families(template: HardwareTemplate, io_type: IoType, ranges: HardwareRanges) -> list[Family]:
    """One family per FIFO depth mode under io_stream (FIFO depths do not exist under io_parallel)."""
    if io_type is not IoType.STREAM:
        return [_family(template, io_type, ranges, FifoDepths.FULL)]
    modes = template.fifo_depths if template.fifo_depths is not None else ranges.fifo_depths
    return [_family(template, io_type, ranges, mode) for mode in modes]


def _family(template: HardwareTemplate, io_type: IoType, ranges: HardwareRanges, fifo: FifoDepths) -> Family:
    strategies = template.strategies if template.strategies is not None else ranges.strategies
    return Family(
        name=template.name,
        io_type=io_type,
        strategies=tuple(strategies),
        reuse_factors=template.reuse_factors,
        reuse_factor_min=1 if template.reuse_factors else ranges.reuse_factor_min,
        reuse_factor_max=max(template.reuse_factors) if template.reuse_factors else ranges.reuse_factor_max,
        parallelization_max=ranges.parallelization_max if template.parallelization else 1,
        conv_implementation=template.conv_implementation,
        max_weight_bits=template.max_weight_bits,
        max_dsp=template.max_dsp,
        fifo_depths=fifo,
    )


@dataclass(frozen=True)
class HardwareSpace:
    """Target parts, clock, backend and the design families a search explores.

    Attributes:
        parts: target parts; the first is the primary one (objectives are reported on it).
        clock_ns: clock period of every design.
        backend: hls4ml backend.
        families: the design families (templates and/or ``custom`` ranges, one per io type).

    Example:
        >>> from hw_templates import resolve_part
        >>> space = HardwareSpace.build([resolve_part("xc7z020")], templates=["low_latency_dataflow"])
        >>> [f.label for f in space.families]
        ['low_latency_dataflow/io_parallel']
    """

    parts: tuple[FpgaPart, ...]
    clock_ns: float
    backend: Backend
    families: tuple[Family, ...]

    def __post_init__(self) -> None:
        if not self.parts:
            raise SpecError("parts: expected at least one target part, got none")
        if not self.families:
            raise SpecError("hardware: expected at least one template or parameter range, got none")
        if not (isinstance(self.clock_ns, (int, float)) and 0.5 <= self.clock_ns <= 1000):
            raise SpecError(bad_value("clock_ns", self.clock_ns, "a clock period between 0.5 and 1000 ns"))

    @classmethod
    def build(
        cls,
        parts: list[FpgaPart] | tuple[FpgaPart, ...],
        *,
        clock_ns: float = 5.0,
        backend: Backend = Backend.VITIS,
        templates: list[str] | tuple[str, ...] = (),
        ranges: HardwareRanges | None = None,
    ) -> HardwareSpace:
        """A space from template names and/or parameter ranges (ranges alone when no template is given).

        Raises:
            SpecError: unknown template (with did-you-mean), empty ranges, bad clock, no part.
        """
        families: list[Family] = []
        use_ranges = ranges or HardwareRanges()
        for name in templates:
            template = get_template(name)
            families.extend(f for io in template.io_types for f in _families(template, io, use_ranges))
        if ranges is not None or not templates:
            custom = HardwareTemplate(CUSTOM, "parameter ranges", use_ranges.io_types, None, None, True)
            families.extend(f for io in use_ranges.io_types for f in _families(custom, io, use_ranges))
        return cls(tuple(parts), float(clock_ns), backend, tuple(families))

    @property
    def primary(self) -> FpgaPart:
        return self.parts[0]

    def size(self, graph: LayerGraph) -> int:
        """Number of hardware configurations of ``graph`` in this space (per part)."""
        total = 0
        for family in self.families:
            total += math.prod(len(family.layer_options(x)) for x in graph.weight_layers())
        return total
