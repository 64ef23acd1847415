"""The design spec file's schema: what keys a spec may hold, their types and limits, checked by pydantic
(strict, unknown keys refused). :mod:`codesign.spec` turns a validated :class:`SpecFile` into the
typed :class:`~codesign.spec.DesignSpec` and re-exports what is public here.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cost_models.ir import Activation, LayerKind
from hw_templates.errors import did_you_mean
from hw_templates.parts import NO_PART_WITHOUT

__all__ = [
    "DEFAULT_PRECISION",
    "MAX_INPUT_VALUES",
    "MAX_LAYERS",
    "MAX_NAME_CHARS",
    "MAX_SIZE",
    "TYPE_TO_KIND",
    "LayerSpec",
    "PartDecl",
    "SpecFile",
    "TrainingSpec",
]

#: hls4ml 1.3's default precision (``config_from_*_model(default_precision=...)``).
DEFAULT_PRECISION = "ap_fixed<16,6>"

#: Limits that refuse absurd specs with one line naming the limit (a spec of 10^5 layers or 10^9 units is
#: a typo or an attack, and would take minutes or all memory): layers per spec, units/filters/kernel and
#: other sizes, values in one input sample, characters of a name.
MAX_LAYERS = 4096
MAX_SIZE = 65_536
MAX_INPUT_VALUES = 1 << 24
MAX_NAME_CHARS = 128

PosInt = Annotated[int, Field(strict=True, ge=1)]
Size = Annotated[int, Field(strict=True, ge=1, le=MAX_SIZE)]
Sizes = Size | list[Size]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartDecl(_Model):
    """A user-declared FPGA part (``parts: {name: {...}}``).

    ``dsp`` and ``bram18`` are at least 1, as :class:`~hw_templates.parts.FpgaPart` checks: every part
    with DSP48E1/DSP48E2 slices (the two the cost models know) has both, and a part without DSPs would
    need every multiplier in fabric, which neither the cost models nor the export enforce; ``uram`` may be 0.
    """

    lut: PosInt
    ff: PosInt
    dsp: PosInt
    bram18: PosInt
    uram: Annotated[int, Field(strict=True, ge=0)] = 0
    dsp_slice: str = "DSP48E2"
    full_name: str | None = None

    @field_validator("dsp", "bram18", mode="before")
    @classmethod
    def _not_none_of(cls, value: Any, info: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ValueError(f"expected at least 1 ({NO_PART_WITHOUT[info.field_name]})")
        return value


class LayerSpec(_Model):
    """One entry of ``layers:``; which size keys apply depends on ``type``."""

    type: str
    name: Name | None = None
    inputs: list[Name] | None = None
    units: Size | None = None
    filters: Size | None = None
    kernel: Sizes | None = None
    stride: Sizes | None = None
    padding: str | None = None
    pool: Sizes | None = None
    scale: Sizes | None = None
    pad: (
        Annotated[int, Field(strict=True, ge=0, le=MAX_SIZE)]
        | list[Annotated[int, Field(strict=True, ge=0, le=MAX_SIZE)]]
        | None
    ) = None
    target_shape: list[Size] | None = None
    depth_multiplier: Size | None = None
    alpha: float | None = None
    axis: Annotated[int, Field(strict=True)] | None = None
    use_bias: bool | None = None
    activation: str | None = None
    sparsity: Annotated[float, Field(ge=0.0, lt=1.0)] | None = None
    table_size: PosInt | None = None
    return_sequences: bool | None = None
    precision: Any = None  # validated by _precisions (clearer messages than a union type gives)
    reuse_factor: PosInt | None = None
    strategy: str | None = None
    parallelization_factor: PosInt | None = None
    fifo_depth: PosInt | None = None
    conv_implementation: str | None = None
    multiplier_impl: str | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in TYPE_TO_KIND:
            raise ValueError(f"expected a known layer type{did_you_mean(value, TYPE_TO_KIND)}")
        return value


class TrainingSpec(_Model):
    """Optional ``training:`` block used by ``codesign train``."""

    dataset: str = "digits"
    epochs: PosInt = 30
    batch_size: PosInt = 64
    learning_rate: Annotated[float, Field(gt=0)] = 1e-2
    seed: Annotated[int, Field(strict=True, ge=0)] = 0
    patience: PosInt | None = None
    proxy_fraction: Annotated[float, Field(gt=0, le=1)] = 1.0
    label_column: str | None = None


class SpecFile(_Model):
    """The top level of a design spec."""

    name: Name = "design"
    part: str = "xcu250-figd2104-2L-e"
    parts: dict[str, PartDecl] = Field(default_factory=dict)
    clock_ns: Annotated[float, Field(gt=0)] = 5.0
    clock_uncertainty_ns: Annotated[float, Field(ge=0)] | None = None
    backend: str = "vitis"
    tool_version: str | None = None
    io_type: str = "io_parallel"
    strategy: str = "latency"
    reuse_factor: PosInt = 1
    multiplier_impl: str = "auto"
    fifo_depths: str = "full"
    input_shape: Annotated[list[Size], Field(min_length=1, max_length=3)]
    precision: Any = DEFAULT_PRECISION
    layers: list[LayerSpec] = Field(min_length=1, max_length=MAX_LAYERS)

    @field_validator("input_shape")
    @classmethod
    def _input_size(cls, value: list[int]) -> list[int]:
        if math.prod(value) > MAX_INPUT_VALUES:
            raise ValueError(f"expected at most {MAX_INPUT_VALUES:,} values per sample (the limit)")
        return value

    training: TrainingSpec | None = None


# Spec ``type`` -> (IR kind, activation function).
TYPE_TO_KIND: dict[str, tuple[LayerKind, Activation | None]] = {
    k.value: (k, None) for k in LayerKind if k not in (LayerKind.INPUT, LayerKind.ACTIVATION)
}
TYPE_TO_KIND.update({a.value: (LayerKind.ACTIVATION, a) for a in Activation})
TYPE_TO_KIND["batchnormalization"] = (LayerKind.BATCHNORM, None)
