"""Tight accumulators: narrow each trained layer's accumulator to what its weights can actually reach.

hls4ml gives a Dense/Conv layer the exact accumulator of its input and weight *types*
(:func:`~codesign.models.precision_rules.accumulator_precision`): wide enough for every weight at its
largest magnitude. After training the weights are known, so a tighter bound holds for every input the
input type allows::

    |sum_i w_ij x_i + b_j|  <=  max_j (sum_i |w_ij|) * max|x| + max|b|

:func:`tighten_accumulators` gives each eligible layer an accumulator and result type with the same
fraction bits and only the integer bits that bound needs (:func:`~.precision_rules.tight_accumulator`).
The network computes exactly the same numbers (hls4ml accumulates with ``AP_WRAP``, modulo the type's
range, so the final sum is exact whenever it fits, and it always fits), while the hardware's adder trees,
accumulator registers and the next layer's input shrink. This is the precision the hardware may narrow
without changing the network; the export writes these types into the hls4ml project, reads them back and
checks the C simulation bit for bit.

Eligible layers: dense and convolutions whose result is the exact accumulator (not a type a spec
narrowed) and whose every consumer is an activation with its own quantizer type (or that are the
network's output): a layer whose result type feeds hls4ml's type inference of another layer (pooling,
add, concatenate, a following dense) keeps the exact type, so what hls4ml infers downstream is unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from codesign.models.precision_rules import accumulator_precision, tight_accumulator
from cost_models.ir import Activation, Layer, LayerGraph, LayerKind, LayerPrecision
from hw_templates.precision import FixedType

if TYPE_CHECKING:
    from codesign.models.builder import QuantNet
    from codesign.models.train import TrainResult

__all__ = ["TIGHTENED_KINDS", "tighten_accumulators", "tighten_result"]

#: Layer kinds whose accumulators are tightened.
TIGHTENED_KINDS = frozenset(
    {LayerKind.DENSE, LayerKind.CONV1D, LayerKind.CONV2D, LayerKind.DEPTHWISE_CONV1D, LayerKind.DEPTHWISE_CONV2D}
)

#: Activations that carry their own quantizer type (their result does not follow their input's).
_QUANTIZED = frozenset({Activation.RELU, Activation.LINEAR})


def tighten_accumulators(model: QuantNet, graph: LayerGraph | None = None) -> LayerGraph:
    """``graph`` (default ``model.graph``) with each eligible layer's accumulator and result narrowed to
    the trained weights of ``model`` (its modules are named after the graph's layers).

    Returns the graph unchanged (the same object) when no layer gets narrower.

    Example:
        >>> graph = tighten_accumulators(result.model)  # doctest: +SKIP
        >>> graph.layer("fc1").precision.accum.to_hls()  # doctest: +SKIP
        'ap_fixed<15,7>'
    """
    graph = graph if graph is not None else model.graph
    layers, changed = [], False
    for layer in graph.layers:
        tight = _tight(layer, graph, model)
        if tight is not None:
            layer, changed = replace(layer, precision=tight), True
        layers.append(layer)
    return LayerGraph(graph.name, tuple(layers)) if changed else graph


def tighten_result(result: TrainResult) -> TrainResult:
    """A training result whose graph has tight accumulators (:func:`tighten_accumulators` on its model);
    the result itself when the run diverged or kept no model."""
    if result.model is None or result.status == "diverged":
        return result
    return replace(result, graph=tighten_accumulators(result.model, result.graph), tightened=True)


def _tight(layer: Layer, graph: LayerGraph, model: QuantNet) -> LayerPrecision | None:
    prec = layer.precision
    if layer.kind not in TIGHTENED_KINDS or prec.weight is None or prec.accum is not None or not layer.inputs:
        return None
    if any(c.kind is not LayerKind.ACTIVATION or c.function not in _QUANTIZED for c in graph.consumers(layer.name)):
        return None
    in_type = graph.layer(layer.inputs[0]).precision.result
    bias = prec.bias if layer.use_bias else None
    exact = accumulator_precision(in_type, prec.weight, bias, layer.mult_units()[0][0])
    if prec.result != exact:
        return None  # a stated (narrowed) result: the spec's choice stands
    bound = _weight_bound(getattr(model, layer.name)) * _max_abs(in_type) + (_max_abs(bias) if bias else 0.0)
    narrow = tight_accumulator(exact, bound)
    if narrow == exact:
        return None
    return replace(prec, result=narrow, accum=narrow)


def _weight_bound(module: object) -> float:
    """The largest sum of absolute quantized weights feeding one output (one filter of a convolution)."""
    weight = module.quant_weight().value.detach()  # type: ignore[attr-defined]
    return float(weight.abs().reshape(weight.shape[0], -1).sum(dim=1).max())


def _max_abs(ftype: FixedType) -> float:
    """The largest magnitude a value of ``ftype`` can have (``-2**(I-1)`` for signed types)."""
    return 2.0 ** (ftype.integer - 1) if ftype.signed else 2.0**ftype.integer
