"""Build a Brevitas ``nn.Module`` from a LayerGraph, quantized exactly where the graph says.

Every number format comes from the graph (see :mod:`codesign.models._quant` for the mapping):

* the input layer's ``result`` -> a ``QuantIdentity`` on the input;
* ``weight`` / ``bias`` of dense and convolution layers -> constant power-of-two weight/bias quantizers;
* an activation layer's ``result`` -> its activation quantizer (``QuantReLU``, or ``QuantIdentity`` for
  ``linear``);
* any other layer's ``result`` -> an output quantizer, added only where that type cannot hold the exact
  value (rules in :mod:`codesign.models.precision_rules`), which is where the hardware rounds too.

So the trained model computes what the hls4ml project will (STACK.md, "Brevitas to hls4ml").
BatchNorm is built as a float ``nn.BatchNorm`` and must directly follow a dense/conv layer: training
folds it into that layer (:func:`codesign.models.fold.fold_batchnorm`) before accuracy is measured, so
what is reported is what is exported. A final ``softmax`` is the identity while training (the
loss takes the logits) and hls4ml's table softmax plus its result quantizer in eval mode
(:class:`FinalSoftmax`).

Layout: the module takes torch's channels-first tensors (``(N, C, W)`` / ``(N, C, H, W)``); the graph
is channels-last like hls4ml, and ``flatten`` flattens in channels-last order so dense weights line up
with hls4ml's. Submodules carry the IR layer names (``model.fc1`` is the graph's ``fc1``).

This module keeps one builder per layer kind (``_BUILDERS``); the activations live in
:mod:`codesign.models._build_activation`, the refusals in :mod:`codesign.models._build_checks` and the
plain torch modules (wiring, :class:`QuantNet`) in :mod:`codesign.models._torch_modules`, all re-exported
here.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from dataclasses import replace

import brevitas.nn as qnn
import torch
from torch import nn

from codesign.models._build_activation import SUPPORTED_FUNCTIONS, FinalSoftmax, HardSigmoid, build_activation
from codesign.models._build_checks import (
    Exact,
    PrecisionRefusal,
    check_accumulator,
    refuse_unbuildable,
    refuse_wrap,
    unsupported,
    where,
)
from codesign.models._quant import act_quant, bias_quant, weight_quant
from codesign.models._torch_modules import Add, ChannelsLastFlatten, Concat, GlobalPool, QuantNet
from codesign.models.precision_rules import (
    accumulator_precision,
    add_precision,
    concat_precision,
    holds,
    wraps_only,
)
from cost_models.ir import Layer, LayerGraph, LayerKind
from cost_models.kinds import RECURRENT_NOT_BUILT, KindCoverage
from hw_templates.precision import FixedType

__all__ = [
    "KIND_COVERAGE",
    "SUPPORTED_FUNCTIONS",
    "SUPPORTED_KINDS",
    "UNSUPPORTED",
    "Add",
    "ChannelsLastFlatten",
    "Concat",
    "FinalSoftmax",
    "GlobalPool",
    "HardSigmoid",
    "QuantNet",
    "build_model",
    "to_torch_layout",
]

logger = logging.getLogger(__name__)


def _output_quant(layer: Layer, exact: Exact) -> tuple[type | None, Exact]:
    """The quantizer that rounds an exact value of type ``exact`` to the layer's result type, if needed."""
    result = layer.precision.result
    if exact is not None and holds(result, exact):
        return None, exact
    if exact is not None and wraps_only(result, exact):
        # a tightened accumulator (codesign.models.tighten): same numbers on every reachable value
        return None, result
    refuse_wrap(layer, result, exact)
    return act_quant(result, f"{where(layer)} result"), result


def _weighted(layer: Layer, exact_in: Exact) -> tuple[nn.Module, Exact]:
    prec = layer.precision
    if prec.weight is None or (layer.use_bias and prec.bias is None):
        raise unsupported(layer, "needs weight and bias precisions")
    bias = prec.bias if layer.use_bias else None
    if layer.sparsity:
        logger.warning(
            "%s: sparsity %.2f is a cost-model attribute; the built model is not pruned", where(layer), layer.sparsity
        )
    exact = accumulator_precision(exact_in, prec.weight, bias, layer.mult_units()[0][0]) if exact_in else None
    check_accumulator(layer, exact)
    out_quant, exact = _output_quant(layer, exact)
    at = where(layer)
    kwargs = {
        "bias": layer.use_bias,
        "weight_quant": weight_quant(prec.weight, f"{at} weight"),
        "bias_quant": bias_quant(bias, f"{at} bias") if bias else None,
        "output_quant": out_quant,
        "return_quant_tensor": False,
    }
    if layer.kind is LayerKind.DENSE:
        return qnn.QuantLinear(layer.n_inputs, int(layer.units or 0), **kwargs), exact
    return _conv(layer, kwargs), exact


def _conv(layer: Layer, kwargs: dict) -> nn.Module:
    c_in = layer.in_channels
    depthwise = layer.kind.value.startswith("depthwise")
    out = c_in * layer.depth_multiplier if depthwise else int(layer.filters or 0)
    padding: tuple[int, ...] = (0,) * len(layer.kernel)
    if layer.padding == "same":
        # Explicit symmetric pads: QONNX's channels-last Conv needs a 'pads' attribute (torch's 'same'
        # string exports without one), and odd kernels at stride 1 pad symmetrically in hls4ml too.
        if any(s != 1 for s in layer.stride) or any(k % 2 == 0 for k in layer.kernel):
            raise unsupported(layer, "padding 'same' is supported for odd kernels at stride 1 only; use 'valid'")
        padding = tuple((k - 1) // 2 for k in layer.kernel)
    cls = qnn.QuantConv2d if layer.kind.spatial_dims == 2 else qnn.QuantConv1d
    return cls(
        c_in,
        out,
        kernel_size=layer.kernel,
        stride=layer.stride,
        padding=padding,
        groups=c_in if depthwise else 1,
        **kwargs,
    )


def _pool(layer: Layer, exact_in: Exact) -> tuple[nn.Module, Exact]:
    dims = layer.kind.spatial_dims
    if layer.padding != "valid":
        raise unsupported(layer, "pooling supports padding 'valid' only")
    if layer.kind.value.startswith("max"):
        core: nn.Module = (nn.MaxPool2d if dims == 2 else nn.MaxPool1d)(layer.pool, layer.stride)
        exact = exact_in
    else:
        core = (nn.AvgPool2d if dims == 2 else nn.AvgPool1d)(layer.pool, layer.stride)
        exact = _mean_type(exact_in, math.prod(layer.pool))
    return _with_quant(layer, core, exact)


def _mean_type(exact_in: Exact, count: int) -> Exact:
    """Exact type of a mean of ``count`` values; None when the division does not terminate in binary."""
    if exact_in is None or count & (count - 1):
        return None
    extra = count.bit_length() - 1
    return FixedType(exact_in.width + extra, exact_in.integer, exact_in.signed)


def _with_quant(layer: Layer, core: nn.Module, exact: Exact) -> tuple[nn.Module, Exact]:
    quant, exact = _output_quant(layer, exact)
    if quant is None:
        return core, exact
    return nn.Sequential(core, qnn.QuantIdentity(act_quant=quant, return_quant_tensor=False)), exact


_Types = dict[str, Exact]  # exact type of every built layer's output, by layer name


def _first(layer: Layer, exact: _Types) -> Exact:
    return exact[layer.inputs[0]] if layer.inputs else None


def _input(layer: Layer, graph: LayerGraph, exact: _Types) -> tuple[nn.Module, Exact]:
    quant = act_quant(layer.precision.result, f"{where(layer)} result")
    return qnn.QuantIdentity(act_quant=quant, return_quant_tensor=False), layer.precision.result


def _global_pool(layer: Layer, graph: LayerGraph, exact: _Types) -> tuple[nn.Module, Exact]:
    op = "max" if "max" in layer.kind.value else "avg"
    first = _first(layer, exact)
    count = math.prod(layer.input_shape[:-1])
    return _with_quant(
        layer, GlobalPool(op, layer.kind.spatial_dims), first if op == "max" else _mean_type(first, count)
    )


#: Kinds without a builder, and why.
UNSUPPORTED: dict[LayerKind, str] = {
    LayerKind.SEPARABLE_CONV1D: "build it as depthwise_conv1d then conv1d with kernel 1",
    LayerKind.SEPARABLE_CONV2D: "build it as depthwise_conv2d then conv2d with kernel 1",
    LayerKind.RESHAPE: "not built (use flatten)",
    LayerKind.LSTM: RECURRENT_NOT_BUILT,
    LayerKind.GRU: RECURRENT_NOT_BUILT,
}
_Builder = Callable[[Layer, LayerGraph, _Types], tuple[nn.Module, Exact]]
#: One builder per kind: (layer, graph, exact types so far) -> (module, exact type of its output).
_BUILDERS: dict[LayerKind, _Builder] = {
    LayerKind.INPUT: _input,
    **{k: (lambda x, g, e: _weighted(x, _first(x, e))) for k in LayerKind if k.has_weights and k not in UNSUPPORTED},
    **{k: (lambda x, g, e: _pool(x, _first(x, e))) for k in LayerKind if k.info.shape_rule == "pool"},
    **{k: _global_pool for k in LayerKind if k.info.shape_rule == "global"},
    LayerKind.BATCHNORM: lambda x, g, e: (_batchnorm(x, g), None),
    LayerKind.ACTIVATION: lambda x, g, e: build_activation(x, _first(x, e), x is g.output),
    LayerKind.FLATTEN: lambda x, g, e: _with_quant(x, ChannelsLastFlatten(), _first(x, e)),
    **{
        k: (lambda x, g, e: _with_quant(x, _resize(x), _first(x, e)))
        for k in LayerKind
        if k.info.shape_rule in ("upsample", "pad")
    },
    LayerKind.ADD: lambda x, g, e: _merge(x, e),
    LayerKind.CONCAT: lambda x, g, e: _merge(x, e),
}
#: Layer kinds :func:`build_model` can build.
SUPPORTED_KINDS = tuple(k for k in LayerKind if k in _BUILDERS)
KIND_COVERAGE = KindCoverage("Brevitas model builder", frozenset(_BUILDERS), UNSUPPORTED)


def _resize(layer: Layer) -> nn.Module:
    """Nearest-neighbour upsampling or zero padding (values pass through unchanged)."""
    if layer.kind.info.shape_rule == "upsample":
        return nn.Upsample(scale_factor=tuple(float(s) for s in layer.scale), mode="nearest")
    pairs = [layer.pad[i : i + 2] for i in range(0, len(layer.pad), 2)]  # (before, after) per dimension
    return (
        nn.ConstantPad2d(tuple(p for pair in reversed(pairs) for p in pair), 0.0)
        if len(pairs) == 2
        else (nn.ConstantPad1d(tuple(pairs[0]), 0.0))
    )


def _merge(layer: Layer, exact: dict[str, Exact]) -> tuple[nn.Module, Exact]:
    types = [exact[i] for i in layer.inputs]
    combine: Callable[[FixedType, FixedType], FixedType]
    combine = add_precision if layer.kind is LayerKind.ADD else concat_precision
    out: Exact = types[0]
    for other in types[1:]:
        out = combine(out, other) if out is not None and other is not None else None
    if layer.kind is LayerKind.ADD:
        return _with_quant(layer, Add(), out)
    rank = len(layer.input_shape)
    axis = layer.axis % rank
    # channels-last axis -> channels-first dim (batch dimension first)
    dim = 1 if axis == rank - 1 else (axis + 2 if rank > 1 else 1)
    return _with_quant(layer, Concat(dim), out)


def _batchnorm(layer: Layer, graph: LayerGraph) -> nn.Module:
    source = graph.layer(layer.inputs[0])
    consumers = [x.name for x in graph.consumers(source.name)]
    if not source.kind.has_weights or consumers != [layer.name]:
        raise unsupported(
            layer, "batchnorm must directly follow a dense/conv layer whose only consumer it is (it is folded into it)"
        )
    if source.precision.bias is None:
        raise unsupported(layer, f"folding needs a bias precision on {source.name!r} to fold the shift into")
    channels = layer.input_shape[-1]
    return nn.BatchNorm2d(channels) if len(layer.input_shape) == 3 else nn.BatchNorm1d(channels)


def build_model(graph: LayerGraph) -> QuantNet:
    """Build the Brevitas module that computes ``graph`` (random initial weights from torch's RNG).

    Raises:
        UnsupportedLayerError: a layer kind, activation or setting that cannot be built, naming the layer.

    Example:
        >>> from codesign.spec import load_design_spec
        >>> model = build_model(load_design_spec("examples/digits_mlp_4bit.yaml").graph)  # doctest: +SKIP
    """
    refuse_unbuildable(graph, SUPPORTED_KINDS, UNSUPPORTED)
    modules: dict[str, nn.Module] = {}
    exact: dict[str, Exact] = {}
    refusals: list[PrecisionRefusal] = []
    for layer in graph.layers:
        modules[layer.name], exact[layer.name] = _build_layer(layer, graph, exact, refusals)
    if refusals:
        raise functools.reduce(PrecisionRefusal.merged_with, refusals)
    return QuantNet(graph, modules)


def _build_layer(layer: Layer, graph: LayerGraph, exact: _Types, refusals: list[PrecisionRefusal]) -> tuple:
    """Build one layer; a precision refusal is kept and the layer built with the types it names, so the
    error raised at the end names every layer's types at once (one run, not one per layer)."""
    for _ in range(3):  # accumulator (with result), then result: at most two refusals per layer
        try:
            return _BUILDERS[layer.kind](layer, graph, exact)
        except PrecisionRefusal as err:
            refusals.append(err)
            layer = replace(layer, precision=replace(layer.precision, **err.fixes[0][1]))
    return _BUILDERS[layer.kind](layer, graph, exact)


def to_torch_layout(x: torch.Tensor) -> torch.Tensor:
    """Channels-last data (as the graph and hls4ml describe it) -> torch's channels-first layout."""
    return x.movedim(-1, 1) if x.dim() > 2 else x
