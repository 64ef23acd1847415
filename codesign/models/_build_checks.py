"""What :func:`codesign.models.builder.build_model` refuses, and why: the checks that keep the trained
Brevitas model computing what the hls4ml project will.

* a layer kind without a builder, or a layer name torch cannot hold (:func:`refuse_unbuildable`);
* a result type that wraps on overflow where the value may exceed it (:func:`refuse_wrap`): Brevitas
  quantizers saturate;
* an accumulator that drops fraction bits of the exact sum (:func:`check_accumulator`): hls4ml would round
  every product, Brevitas rounds after the sum.

Every refusal is an :class:`UnsupportedLayerError` naming the layer (:func:`unsupported`) and, where there
is one, the precision to write instead.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

from torch import nn

from codesign.models.precision_rules import holds, wraps_only
from cost_models.ir import Layer, LayerGraph, LayerKind
from hw_templates.errors import UnsupportedLayerError
from hw_templates.precision import FixedType

__all__ = [
    "Exact",
    "PrecisionRefusal",
    "check_accumulator",
    "refuse_unbuildable",
    "refuse_wrap",
    "unsupported",
    "where",
]

logger = logging.getLogger("codesign.models.builder")  # the builder's records keep the name they had

Exact = FixedType | None  # exact type of a tensor; None: not tracked (float BatchNorm output)


def unsupported(layer: Layer, why: str) -> UnsupportedLayerError:
    return UnsupportedLayerError(f"layer {layer.name!r} ({layer.kind.value}): {why}")


class PrecisionRefusal(UnsupportedLayerError):
    """Layers whose types a Brevitas model cannot compute as hls4ml builds them, with the types that build.

    Attributes:
        fixes: (layer name, {precision key: type to write}) in layer order; the message is the refusal's
            own for one layer, else every layer's types in one line, so one run names them all.
    """

    def __init__(self, first: str, fixes: list[tuple[str, dict[str, FixedType]]]) -> None:
        merged: dict[str, dict[str, FixedType]] = {}
        for name, fix in fixes:
            merged.setdefault(name, {}).update(fix)
        self.fixes = list(merged.items())
        message = first
        if len(self.fixes) > 1 or len(self.fixes[0][1]) > len(fixes[0][1]):
            every = "; ".join(f"{name}: {_yaml(fix)}" for name, fix in self.fixes)
            message = (
                f"{len(self.fixes)} layers need other types for the trained model to compute what hls4ml builds "
                f"(accumulators keeping every fraction bit, results that saturate); write precision: {every}"
            )
        super().__init__(message)
        self.first = first

    def merged_with(self, other: PrecisionRefusal) -> PrecisionRefusal:
        return PrecisionRefusal(self.first, self.fixes + [f for f in other.fixes if f[0] not in dict(self.fixes)])


def _yaml(fix: Mapping[str, FixedType]) -> str:
    return "{" + ", ".join(f'{key}: "{ftype.to_hls()}"' for key, ftype in fix.items()) + "}"


def _refusal(layer: Layer, why: str, fix: dict[str, FixedType]) -> PrecisionRefusal:
    return PrecisionRefusal(str(unsupported(layer, why)), [(layer.name, fix)])


def where(layer: Layer) -> str:
    return f"layer {layer.name!r} ({layer.kind.value})"


def refuse_unbuildable(graph: LayerGraph, supported: Collection[LayerKind], reasons: Mapping[LayerKind, str]) -> None:
    """Refuse the first layer of a kind without a builder (every kind first: a kind that is never built is
    the first thing to say), then the first name that cannot be a torch submodule name."""
    for layer in graph.layers:
        if layer.kind not in supported:
            allowed = ", ".join(k.value for k in supported if k is not LayerKind.INPUT)
            why = reasons.get(layer.kind, "")
            raise unsupported(layer, f"this layer kind cannot be built ({why}; supported: {allowed})")
    for layer in graph.layers:
        if "." in layer.name or not layer.name or hasattr(nn.Module, layer.name) or layer.name in ("graph", "_plan"):
            raise unsupported(layer, "the name cannot be a torch submodule name (no dots, not a Module attribute)")


def _saturating(result: FixedType, exact: Exact) -> FixedType | None:
    """``result`` saturating instead of wrapping, when a value of type ``exact`` may exceed its range."""
    if exact is None or result.saturation != "WRAP":
        return None
    need_integer = exact.integer + (1 if result.signed and not exact.signed else 0)
    if (exact.signed and not result.signed) or result.integer < need_integer:
        return FixedType(result.width, result.integer, result.signed, result.rounding, "SAT")
    return None


def refuse_wrap(layer: Layer, result: FixedType, exact: Exact) -> None:
    """A result whose integer range may be exceeded must not wrap: Brevitas quantizers saturate, so the
    trained model and the HLS type (``AP_WRAP`` is the HLS default) would differ on every overflow."""
    fixed = _saturating(result, exact)
    if fixed is not None:
        raise _refusal(
            layer,
            f"result {result.to_hls()} wraps on overflow (the HLS default), which a Brevitas quantizer cannot do "
            f'(it saturates); write precision: {{result: "{fixed.to_hls()}"}} on this layer',
            {"result": fixed},
        )


def check_accumulator(layer: Layer, exact: Exact) -> None:
    """Refuse an accumulator (stated, or the result when unset, as hls4ml reads it) that drops fraction bits
    of the exact sum: hls4ml would round every product, which Brevitas cannot model (it rounds after the sum).

    The message names the type to write: the exact sum as ``accum`` (the result may stay narrower; the
    export then gives hls4ml both types, so it builds what the cost model prices), and the result made
    saturating when it would wrap (:func:`refuse_wrap`, the next refusal otherwise).
    """
    accum = layer.precision.accum_or_result
    if exact is None or holds(accum, exact):
        return
    if accum.fractional < exact.fractional:
        stated = "accum" if layer.precision.accum is not None else "accum (unset, so the result type)"
        result = layer.precision.result
        fixed = None if holds(result, exact) or wraps_only(result, exact) else _saturating(result, exact)
        fix = {"accum": exact} if fixed is None else {"accum": exact, "result": fixed}
        why = f"on this layer (its result may stay {result.to_hls()})"
        if fixed is not None:
            why = "on this layer (a result that may overflow must saturate, as Brevitas quantizers do)"
        raise _refusal(
            layer,
            f"{stated} {accum.to_hls()} drops fraction bits of the exact sum {exact.to_hls()} (hls4ml would round "
            f"every product, Brevitas cannot round inside a sum); write precision: {_yaml(fix)} {why}",
            fix,
        )
    logger.debug("%s: accum %s assumed never to overflow", where(layer), accum.to_hls())
