"""What hls4ml built, read back from the converted model, and the check that it is what the design (and its
cost estimate) describes.

hls4ml silently replaces an illegal reuse factor or parallelization factor
(``FPGABackend.set_closest_reuse_factor`` prints a warning and moves on), and a precision that differs
from the graph's means the cost estimate priced another circuit: :func:`check_applied` makes either an
:class:`~hw_templates.errors.ExportError` naming the layer. :mod:`codesign.export.translate` runs it after
every conversion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from codesign.export._qonnx import LayerMap
from cost_models.ir import Activation, Layer, LayerGraph, LayerKind
from hw_templates.config import Backend, HardwareConfig, IoType
from hw_templates.errors import ExportError, PrecisionError
from hw_templates.precision import FixedType
from hw_templates.reuse import valid_reuse_factors

__all__ = ["AppliedLayer", "check_applied", "fused_linear", "read_back"]


@dataclass(frozen=True)
class AppliedLayer:
    """What hls4ml actually built for one layer.

    Attributes:
        hls_name: hls4ml's layer name (e.g. ``Dense_MatMul_0``).
        class_name: hls4ml layer class (``Dense``, ``Conv2D``, ``Activation``, ...).
        ir_name: the design's layer it implements, or ``None`` for plumbing (transposes, reshapes).
        reuse_factor / strategy / parallelization_factor: as applied (``None`` where not an attribute).
        precision: hls4ml type name (``weight``, ``bias``, ``accum``, ``result``, ...) -> type.
    """

    hls_name: str
    class_name: str
    ir_name: str | None
    reuse_factor: int | None
    strategy: str | None
    parallelization_factor: int | None
    precision: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "precision", MappingProxyType(dict(self.precision)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "hls_name": self.hls_name,
            "class_name": self.class_name,
            "ir_name": self.ir_name,
            "reuse_factor": self.reuse_factor,
            "strategy": self.strategy,
            "parallelization_factor": self.parallelization_factor,
            "precision": dict(self.precision),
        }


def _int_attr(layer: Any, name: str) -> int | None:
    value = layer.get_attr(name, None)
    return int(value) if value is not None else None


def read_back(hls_model: Any, layer_map: LayerMap) -> tuple[AppliedLayer, ...]:
    """What hls4ml applied to each layer of the converted model."""
    out = []
    for layer in hls_model.get_layers():
        strategy = layer.get_attr("strategy", None)
        out.append(
            AppliedLayer(
                hls_name=layer.name,
                class_name=layer.class_name,
                ir_name=layer_map.ir_name(layer.name),
                reuse_factor=_int_attr(layer, "reuse_factor"),
                strategy=str(strategy).lower() if strategy is not None else None,
                parallelization_factor=_int_attr(layer, "parallelization_factor"),
                precision={k.removesuffix("_t"): str(v.precision) for k, v in layer.types.items()},
            )
        )
    return tuple(out)


def _same_number_format(applied: str | None, assumed: FixedType | None) -> bool:
    if applied is None or assumed is None:
        return True
    try:
        got = FixedType.parse(applied)
    except PrecisionError:
        return False
    return (got.width, got.integer, got.signed) == (assumed.width, assumed.integer, assumed.signed)


def fused_linear(graph: LayerGraph, name: str) -> Layer | None:
    """The linear activation that is ``name``'s only consumer, if any.

    hls4ml 1.3 folds a quantizer that directly follows a Dense/Conv (Brevitas: a linear
    ``QuantIdentity``) into that layer's ``result_t``: the layer then outputs the activation's type and
    no separate layer is built. The cost model prices the same rounding as a linear activation layer.
    """
    consumers = graph.consumers(name)
    if len(consumers) == 1 and consumers[0].kind is LayerKind.ACTIVATION and consumers[0].function is Activation.LINEAR:
        return consumers[0]
    return None


def _precision_problems(layer: AppliedLayer, graph: LayerGraph) -> list[str]:
    if layer.ir_name is None:
        return []
    ir_layer = graph.layer(layer.ir_name)
    stated = ir_layer.precision
    assumed = {"weight": stated.weight, "bias": stated.bias, "accum": stated.accum, "result": stated.result}
    if not ir_layer.kind.has_weights:
        assumed = {"result": stated.result}
    else:
        fused = fused_linear(graph, ir_layer.name)
        if fused is not None and _same_number_format(layer.precision.get("result"), fused.precision.result):
            assumed["result"] = fused.precision.result
    return [
        f"{key} precision {layer.precision[key]} (design: {ftype.to_hls()})"
        for key, ftype in assumed.items()
        if key in layer.precision and not _same_number_format(layer.precision[key], ftype)
    ]


def _reuse_hint(layer: Layer, requested: int) -> str:
    n_in, n_out = layer.mult_units()[0]
    valid = valid_reuse_factors(n_in, n_out)
    near = sorted(valid, key=lambda v: (abs(v - requested), v))[:3]
    return f"legal for this {n_in}x{n_out} layer near it: {', '.join(str(v) for v in sorted(near))}"


def _setting_problems(layer: AppliedLayer, graph: LayerGraph, hw: HardwareConfig, backend: Backend) -> list[str]:
    if layer.ir_name is None or not graph.layer(layer.ir_name).kind.has_weights:
        return []
    settings = hw.resolve(layer.ir_name)
    problems = []
    if layer.reuse_factor is not None and layer.reuse_factor != settings.reuse_factor:
        hint = _reuse_hint(graph.layer(layer.ir_name), settings.reuse_factor)
        problems.append(f"reuse_factor {layer.reuse_factor} (design: {settings.reuse_factor}; {hint})")
    if layer.strategy is not None and layer.strategy != settings.strategy.value:
        why = "; Quartus builds dense/conv layers with the resource strategy only" if backend is Backend.QUARTUS else ""
        problems.append(f"strategy {layer.strategy} (design: {settings.strategy.value}{why})")
    pf = layer.parallelization_factor
    if pf is not None and hw.io_type is IoType.PARALLEL and pf != settings.parallelization_factor:
        problems.append(f"parallelization_factor {pf} (design: {settings.parallelization_factor})")
    return problems


def check_applied(
    applied: tuple[AppliedLayer, ...], graph: LayerGraph, hw: HardwareConfig, backend: Backend | None = None
) -> None:
    """Fail when hls4ml built something other than what the design (and its cost estimate) describes.

    Raises:
        ExportError: one line naming the first differing layer, what hls4ml applied and the design's value.
    """
    backend = backend or hw.backend
    for layer in applied:
        problems = _setting_problems(layer, graph, hw, backend) + _precision_problems(layer, graph)
        if problems:
            raise ExportError(
                f"layer {layer.ir_name!r} (hls4ml {layer.hls_name}): hls4ml applied {'; '.join(problems)}; "
                "the design's cost estimate assumed the design's values"
            )
    missing = [x.name for x in graph.weight_layers() if x.name not in {a.ir_name for a in applied}]
    if missing:
        raise ExportError(f"layers {missing}: not found in the hls4ml model (hls4ml merged or dropped them)")
