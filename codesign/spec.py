"""Design specs: one hand-writable YAML/JSON file that describes a design to estimate, train and export.

A spec names the part and clock, the model-wide hardware settings, the input, a default precision and
the layers in order (see ``docs/spec.md`` for every key, and ``examples/`` for complete files)::

    name: jet_tagger
    part: xcu250-figd2104-2L-e
    clock_ns: 5
    io_type: io_parallel
    strategy: latency
    reuse_factor: 1
    input_shape: [16]
    precision: ap_fixed<16,6>          # or {input: .., weight: .., bias: .., result: .., accum: ..}
    layers:
      - {type: dense, units: 64, name: fc1, precision: {weight: ap_fixed<6,1>}}
      - {type: relu}
      - {type: dense, units: 5, reuse_factor: 4}
      - {type: softmax}

:func:`load_design_spec` turns it into the typed :class:`DesignSpec` (a LayerGraph plus a
HardwareConfig), checking every key, precision and reuse factor first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from codesign._spec_schema import (
    DEFAULT_PRECISION,
    MAX_INPUT_VALUES,
    MAX_LAYERS,
    MAX_NAME_CHARS,
    MAX_SIZE,
    TYPE_TO_KIND,
    LayerSpec,
    PartDecl,
    SpecFile,
    TrainingSpec,
)
from codesign.config_io import read_mapping, validate
from cost_models.ir import SOFTMAX_TABLE_TYPE, Activation, GraphBuilder, LayerGraph, LayerKind, LayerPrecision
from cost_models.kinds import KindCoverage
from hw_templates.config import (
    Backend,
    ConvImplementation,
    FifoDepths,
    HardwareConfig,
    IoType,
    LayerHardware,
    MultiplierImpl,
    Strategy,
    strategy_problem,
)
from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import FpgaPart, declare_part, resolve_part
from hw_templates.precision import FixedType, parse_precision
from hw_templates.reuse import check_reuse_factor

__all__ = [
    "DEFAULT_PRECISION",
    "MAX_INPUT_VALUES",
    "MAX_LAYERS",
    "MAX_NAME_CHARS",
    "MAX_SIZE",
    "DesignSpec",
    "LayerSpec",
    "PartDecl",
    "SpecFile",
    "TrainingSpec",
    "check_reuse_factors",
    "design_spec_from_dict",
    "load_design_spec",
]

_PRECISION_KEYS = ("input", "weight", "bias", "result", "accum", "table")
_HW_KEYS = (
    "reuse_factor",
    "strategy",
    "parallelization_factor",
    "fifo_depth",
    "conv_implementation",
    "multiplier_impl",
)
_COMMON_KEYS = {"type", "name", "inputs", "precision"}
KIND_COVERAGE = KindCoverage(
    "design spec",
    frozenset(kind for kind, _ in TYPE_TO_KIND.values()),
    {LayerKind.INPUT: "the input is implied by input_shape and precision.input"},
)


@dataclass(frozen=True)
class DesignSpec:
    """A validated design spec: the network, its hardware, and optional training settings."""

    name: str
    graph: LayerGraph
    hardware: HardwareConfig
    training: TrainingSpec | None = None
    tool_version: str | None = None
    source: str = "<dict>"
    raw: Mapping[str, Any] = field(default_factory=dict)


def _precisions(value: Any, where: str) -> dict[str, FixedType]:
    if value is None:
        return {}
    if isinstance(value, dict) and any(str(k).endswith(">") for k in value):
        _parse(next(v for v in value.values() if v is None or "<" in str(v)), where)
    if not isinstance(value, dict):
        fixed = _parse(value, where)
        return dict.fromkeys(("weight", "bias", "result", "accum", "input"), fixed)
    out = {}
    for key, text in value.items():
        if key not in _PRECISION_KEYS:
            raise SpecError(bad_value(f"{where} key", key, "one of " + ", ".join(_PRECISION_KEYS), _PRECISION_KEYS))
        out[key] = _parse(text, f"{where}.{key}")
    return out


def _parse(text: Any, where: str) -> FixedType:
    if text is None or (isinstance(text, str) and text.count("<") != text.count(">")):
        raise SpecError(
            f"{where}: expected a type such as 'ap_fixed<8,3>', got a broken one ({text!r}); inside "
            'YAML {...} flow mappings, quote types that contain a comma: {result: "ap_fixed<8,3>"}'
        )
    try:
        return parse_precision(text)
    except SpecError as err:
        raise SpecError(f"{where}: {err}") from None


def _layer_precision(
    kind: LayerKind, default: dict[str, FixedType], own: dict[str, FixedType], input_result: FixedType
) -> LayerPrecision:
    merged = {**default, **own}
    if kind.info.pass_through and "result" not in own:
        merged["result"] = input_result
    if kind.has_weights:
        return LayerPrecision(merged["result"], merged["weight"], merged["bias"], merged.get("accum"))
    if kind is LayerKind.BATCHNORM:
        return LayerPrecision(merged["result"], merged["weight"], merged["bias"])
    return LayerPrecision(merged["result"], table=own.get("table"), accum=own.get("accum"))


def _check_keys(spec: LayerSpec, kind: LayerKind, where: str) -> None:
    allowed = kind.info.spec_keys | _COMMON_KEYS
    for key in spec.model_fields_set:
        if key not in allowed and getattr(spec, key) is not None:
            raise SpecError(
                f"{where}: key {key!r} does not apply to a {spec.type} layer "
                f"(allowed: {', '.join(sorted(allowed - {'type'}))})"
            )


def _sizes(value: int | list[int] | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, int) else tuple(value)


def _add_layer(builder: GraphBuilder, spec: LayerSpec, where: str, default: dict[str, FixedType]) -> str:
    kind, function = TYPE_TO_KIND[spec.type]
    _check_keys(spec, kind, where)
    attrs: dict[str, Any] = {"function": function} if function else {}
    for key in (
        "units",
        "filters",
        "padding",
        "depth_multiplier",
        "alpha",
        "axis",
        "use_bias",
        "sparsity",
        "table_size",
        "return_sequences",
    ):
        if getattr(spec, key) is not None:
            attrs[key] = getattr(spec, key)
    for key in ("kernel", "stride", "pool", "scale", "pad", "target_shape"):
        if getattr(spec, key) is not None:
            attrs[key] = _sizes(getattr(spec, key))
    input_result = builder.get(spec.inputs[0]).precision.result if spec.inputs else builder.last.precision.result
    precision = _layer_precision(kind, default, _precisions(spec.precision, f"{where}.precision"), input_result)
    if function == Activation.SOFTMAX.value and precision.table is None:  # the tables the export builds
        precision = replace(precision, table=SOFTMAX_TABLE_TYPE)
    try:
        layer = builder.add(kind, name=spec.name, inputs=spec.inputs, precision=precision, **attrs)
    except SpecError as err:
        raise SpecError(f"{where}: {err}") from None
    if spec.activation:
        fused = LayerSpec(type=spec.activation, name=f"{layer.name}_{spec.activation}")
        _add_layer(builder, fused, f"{where}.activation", default)
    return layer.name


def _layer_hardware(spec: LayerSpec, where: str) -> LayerHardware | None:
    values = {k: getattr(spec, k) for k in _HW_KEYS if getattr(spec, k) is not None}
    if "strategy" in values:
        values["strategy"] = Strategy.parse(values["strategy"], f"{where}.strategy")
    if "conv_implementation" in values:
        values["conv_implementation"] = ConvImplementation.parse(
            values["conv_implementation"], f"{where}.conv_implementation"
        )
    if "multiplier_impl" in values:
        values["multiplier_impl"] = MultiplierImpl.parse(values["multiplier_impl"], f"{where}.multiplier_impl")
    return LayerHardware(**values) if values else None


def _resolve_part(name: str, declared: dict[str, PartDecl]) -> FpgaPart:
    custom = {key.lower(): declare_part(key, **decl.model_dump()) for key, decl in declared.items()}
    return resolve_part(name, custom)


def check_reuse_factors(graph: LayerGraph, hw: HardwareConfig) -> None:
    """Refuse any reuse factor hls4ml would silently change (ReuseFactorError names the layer), and a
    strategy hls4ml cannot build for a layer (SpecError; :func:`hw_templates.config.strategy_problem`).

    hls4ml 1.3 checks (and snaps) reuse factors only where the Resource-style implementation is used:
    the Resource strategy on Vivado/Vitis/Catapult, and every Dense/Conv on Quartus
    (see :mod:`hw_templates.reuse`). The Latency strategy accepts any value.
    """
    for layer in graph.weight_layers():
        settings = hw.resolve(layer.name)
        problem = strategy_problem(layer.name, layer.kind.value, settings.strategy, hw.backend)
        if problem:
            raise SpecError(problem)
        if settings.strategy is not Strategy.RESOURCE and hw.backend is not Backend.QUARTUS:
            continue
        rf = settings.reuse_factor
        for n_in, n_out in layer.reuse_units():
            check_reuse_factor(f"layer {layer.name!r}", n_in, n_out, rf)


def design_spec_from_dict(data: dict[str, Any], source: str = "<dict>") -> DesignSpec:
    """Validate a spec given as a mapping (what :func:`load_design_spec` reads from a file).

    Raises:
        SpecError: the first problem, on one line, naming the key (e.g. ``layers[2].units``).
    """
    spec = validate(SpecFile, data, f"spec {source}")
    try:
        return _design_spec(spec, data, source)
    except SpecError as err:
        raise type(err)(f"spec {source}: {err}") from None


def _design_spec(spec: SpecFile, data: dict[str, Any], source: str) -> DesignSpec:
    default = {k: parse_precision(DEFAULT_PRECISION) for k in ("weight", "bias", "result")}
    default.update(_precisions(spec.precision, "precision"))
    input_precision = default.pop("input", default["result"])
    builder = GraphBuilder(spec.name, tuple(spec.input_shape), input_precision)
    overrides = {}
    for index, layer_spec in enumerate(spec.layers):
        where = f"layers[{index}]"
        name = _add_layer(builder, layer_spec, where, default)
        hw_override = _layer_hardware(layer_spec, where)
        if hw_override:
            overrides[name] = hw_override
    hardware = HardwareConfig(
        part=_resolve_part(spec.part, spec.parts),
        clock_ns=spec.clock_ns,
        clock_uncertainty_ns=spec.clock_uncertainty_ns,
        backend=Backend.parse(spec.backend, "backend"),
        io_type=IoType.parse(spec.io_type, "io_type"),
        strategy=Strategy.parse(spec.strategy, "strategy"),
        reuse_factor=spec.reuse_factor,
        layers=overrides,
        multiplier_impl=MultiplierImpl.parse(spec.multiplier_impl, "multiplier_impl"),
        fifo_depths=FifoDepths.parse(spec.fifo_depths, "fifo_depths"),
        tool_version=spec.tool_version,
    )
    graph = builder.build()
    check_reuse_factors(graph, hardware)
    return DesignSpec(spec.name, graph, hardware, spec.training, spec.tool_version, source, MappingProxyType(data))


def load_design_spec(path: str | Path) -> DesignSpec:
    """Read and validate a design spec file (YAML or JSON).

    Raises:
        SpecError: the first problem, on one line, naming the key (e.g. ``layers[2].units``).

    Example:
        >>> spec = load_design_spec("examples/jet_tagger.yaml")  # doctest: +SKIP
        >>> spec.hardware.part.name, len(spec.graph)  # doctest: +SKIP
        ('xcu250', 8)
    """
    path = Path(path)
    return design_spec_from_dict(read_mapping(path, "spec"), path.name)
