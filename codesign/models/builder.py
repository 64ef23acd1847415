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
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

import brevitas.nn as qnn
import torch
from torch import nn

from codesign.models._quant import act_quant, bias_quant, weight_quant
from codesign.models.precision_rules import (
    accumulator_precision,
    add_precision,
    concat_precision,
    holds,
    wraps_only,
)
from cost_models.ir import Activation, Layer, LayerGraph, LayerKind
from cost_models.kinds import RECURRENT_NOT_BUILT, KindCoverage
from hw_templates.errors import UnsupportedLayerError
from hw_templates.precision import FixedType

__all__ = ["KIND_COVERAGE", "SUPPORTED_FUNCTIONS", "SUPPORTED_KINDS", "QuantNet", "build_model", "to_torch_layout"]

logger = logging.getLogger(__name__)

_Exact = FixedType | None  # exact type of a tensor; None: not tracked (float BatchNorm output)


class ChannelsLastFlatten(nn.Module):
    """Flatten in channels-last order (hls4ml's and Keras' order), from a channels-first tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.movedim(1, -1) if x.dim() > 2 else x).flatten(1)


class Add(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


class GlobalPool(nn.Module):
    def __init__(self, op: str, dims: int) -> None:
        super().__init__()
        self.op = op
        self.axes = tuple(range(2, 2 + dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # adaptive pooling to one position exports as ONNX GlobalAveragePool/GlobalMaxPool, which the
        # exporter's channels-last pass turns into a pooling hls4ml translates (torch's mean/amax export
        # as ReduceMean/ReduceMax, which hls4ml 1.3 does not)
        functions = {
            ("avg", 1): nn.functional.adaptive_avg_pool1d,
            ("avg", 2): nn.functional.adaptive_avg_pool2d,
            ("max", 1): nn.functional.adaptive_max_pool1d,
            ("max", 2): nn.functional.adaptive_max_pool2d,
        }
        return functions[self.op, len(self.axes)](x, 1).flatten(1)


class FinalSoftmax(nn.Module):
    """A last-layer softmax: the identity while training (the loss takes the logits); in eval mode
    (accuracy, reference outputs) hls4ml's table softmax with the tables the export writes
    (:mod:`codesign.export._softmax_table`), followed by the layer's result quantizer, so the reported
    accuracy is the built design's. The ONNX export sees a float softmax: hls4ml builds the table from it."""

    def __init__(self, quant: nn.Module, table_size: int) -> None:
        super().__init__()
        self.quant = quant
        self.table_size = table_size
        self.function: Callable[[torch.Tensor], torch.Tensor] = self.table_softmax

    def table_softmax(self, x: torch.Tensor) -> torch.Tensor:
        from codesign.export._softmax_table import softmax_stable, softmax_tables

        tables = softmax_tables(x.shape[-1], self.table_size)
        return torch.from_numpy(softmax_stable(x.detach().double().numpy(), tables)).to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return x
        if torch.onnx.is_in_onnx_export():
            return self.quant(torch.softmax(x, dim=-1))
        return self.quant(self.function(x))


class QuantNet(nn.Module):
    """A LayerGraph as a Brevitas module; ``graph`` is the graph it was built from.

    ``forward`` takes the input in torch layout (channels first) and returns the last layer's output.
    """

    def __init__(self, graph: LayerGraph, modules: dict[str, nn.Module]) -> None:
        super().__init__()
        self.graph = graph
        for name, module in modules.items():
            self.add_module(name, module)
        self._plan = tuple((x.name, x.inputs) for x in graph.layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {}
        for name, inputs in self._plan:
            module = getattr(self, name)
            values[name] = module(*(values[i] for i in inputs)) if inputs else module(x)
        return values[self._plan[-1][0]]


SUPPORTED_FUNCTIONS = (
    Activation.RELU,
    Activation.LINEAR,
    Activation.SIGMOID,
    Activation.TANH,
    Activation.LEAKY_RELU,
    Activation.HARD_TANH,
    Activation.HARD_SIGMOID,
    Activation.SOFTMAX,
)
#: Functions built as a float torch function followed by the layer's result quantizer.
_FLOAT_FUNCTIONS: dict[Activation, Callable[[Layer], nn.Module]] = {
    Activation.SIGMOID: lambda layer: nn.Sigmoid(),
    Activation.TANH: lambda layer: nn.Tanh(),
    Activation.LEAKY_RELU: lambda layer: nn.LeakyReLU(_dyadic_alpha(layer)),
    Activation.HARD_TANH: lambda layer: nn.Hardtanh(),
    Activation.HARD_SIGMOID: lambda layer: HardSigmoid(_dyadic_alpha(layer)),
}


class _HardSigmoidOnnx(torch.autograd.Function):
    """ONNX ``HardSigmoid(alpha, beta=0.5)`` in the exported graph (torch's own export fixes alpha to 1/6)."""

    @staticmethod
    def forward(ctx: object, x: torch.Tensor, alpha: float) -> torch.Tensor:
        return torch.clamp(x * alpha + 0.5, 0.0, 1.0)

    @staticmethod
    def symbolic(g: object, x: object, alpha: float) -> object:
        return g.op("HardSigmoid", x, alpha_f=alpha, beta_f=0.5)  # type: ignore[attr-defined]


class HardSigmoid(nn.Module):
    """``clip(alpha * x + 1/2, 0, 1)`` with a dyadic slope, which hls4ml's ``hard_sigmoid`` computes exactly
    (``slope_t`` ``ap_ufixed<16,0>``, ``shift_t`` ``ap_ufixed<2,0>``); torch's slope 1/6 and Keras' 0.2
    are not dyadic, so they are refused instead."""

    def __init__(self, alpha: float) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export():
            return _HardSigmoidOnnx.apply(x, self.alpha)
        return torch.clamp(x * self.alpha + 0.5, 0.0, 1.0)


def _dyadic_alpha(layer: Layer) -> float:
    """leaky_relu's and hard_sigmoid's slope: positive and a multiple of 2^-8 below 1, which hls4ml's
    parameter types hold exactly (so the hardware's ``alpha * x`` equals the trained model's)."""
    alpha, name = layer.alpha, layer.function.value if layer.function else ""
    if not 0 < alpha < 1 or alpha * 256 != int(alpha * 256):
        example = "0.25; torch's 1/6 and Keras' 0.2 are not" if layer.function is Activation.HARD_SIGMOID else "0.125"
        raise _unsupported(
            layer, f"{name} alpha {alpha!r}: expected a multiple of 1/256 in (0, 1), exact in hardware (e.g. {example})"
        )
    return alpha


def _unsupported(layer: Layer, why: str) -> UnsupportedLayerError:
    return UnsupportedLayerError(f"layer {layer.name!r} ({layer.kind.value}): {why}")


def _where(layer: Layer) -> str:
    return f"layer {layer.name!r} ({layer.kind.value})"


def _output_quant(layer: Layer, exact: _Exact) -> tuple[type | None, _Exact]:
    """The quantizer that rounds an exact value of type ``exact`` to the layer's result type, if needed."""
    result = layer.precision.result
    if exact is not None and holds(result, exact):
        return None, exact
    if exact is not None and wraps_only(result, exact):
        # a tightened accumulator (codesign.models.tighten): same numbers on every reachable value
        return None, result
    _refuse_wrap(layer, result, exact)
    return act_quant(result, f"{_where(layer)} result"), result


def _refuse_wrap(layer: Layer, result: FixedType, exact: _Exact) -> None:
    """A result whose integer range may be exceeded must not wrap: Brevitas quantizers saturate, so the
    trained model and the HLS type (``AP_WRAP`` is the HLS default) would differ on every overflow."""
    if exact is None or result.saturation != "WRAP":
        return
    need_integer = exact.integer + (1 if result.signed and not exact.signed else 0)
    if (exact.signed and not result.signed) or result.integer < need_integer:
        fixed = FixedType(result.width, result.integer, result.signed, result.rounding, "SAT")
        raise _unsupported(
            layer,
            f"result {result.to_hls()} wraps on overflow (the HLS default), which a Brevitas quantizer cannot do "
            f'(it saturates); write precision: {{result: "{fixed.to_hls()}"}} on this layer',
        )


def _weighted(layer: Layer, exact_in: _Exact) -> tuple[nn.Module, _Exact]:
    prec = layer.precision
    if prec.weight is None or (layer.use_bias and prec.bias is None):
        raise _unsupported(layer, "needs weight and bias precisions")
    bias = prec.bias if layer.use_bias else None
    if layer.sparsity:
        logger.warning(
            "%s: sparsity %.2f is a cost-model attribute; the built model is not pruned", _where(layer), layer.sparsity
        )
    exact = accumulator_precision(exact_in, prec.weight, bias, layer.mult_units()[0][0]) if exact_in else None
    _check_accumulator(layer, exact)
    out_quant, exact = _output_quant(layer, exact)
    where = _where(layer)
    kwargs = {
        "bias": layer.use_bias,
        "weight_quant": weight_quant(prec.weight, f"{where} weight"),
        "bias_quant": bias_quant(bias, f"{where} bias") if bias else None,
        "output_quant": out_quant,
        "return_quant_tensor": False,
    }
    if layer.kind is LayerKind.DENSE:
        return qnn.QuantLinear(layer.n_inputs, int(layer.units or 0), **kwargs), exact
    return _conv(layer, kwargs), exact


def _check_accumulator(layer: Layer, exact: _Exact) -> None:
    """Refuse an accumulator (stated, or the result when unset, as hls4ml reads it) that drops fraction bits
    of the exact sum: hls4ml would round every product, which Brevitas cannot model (it rounds after the sum).

    The message names the type to write: the exact sum as ``accum`` (the result may stay narrower; the
    export then gives hls4ml both types, so it builds what the cost model prices).
    """
    accum = layer.precision.accum_or_result
    if exact is None or holds(accum, exact):
        return
    if accum.fractional < exact.fractional:
        stated = "accum" if layer.precision.accum is not None else "accum (unset, so the result type)"
        raise _unsupported(
            layer,
            f"{stated} {accum.to_hls()} drops fraction bits of the exact sum {exact.to_hls()} (hls4ml would round "
            f'every product, Brevitas cannot round inside a sum); write precision: {{accum: "{exact.to_hls()}"}} '
            f"on this layer (its result may stay {layer.precision.result.to_hls()})",
        )
    logger.debug("%s: accum %s assumed never to overflow", _where(layer), accum.to_hls())


def _conv(layer: Layer, kwargs: dict) -> nn.Module:
    c_in = layer.in_channels
    depthwise = layer.kind.value.startswith("depthwise")
    out = c_in * layer.depth_multiplier if depthwise else int(layer.filters or 0)
    padding: tuple[int, ...] = (0,) * len(layer.kernel)
    if layer.padding == "same":
        # Explicit symmetric pads: QONNX's channels-last Conv needs a 'pads' attribute (torch's 'same'
        # string exports without one), and odd kernels at stride 1 pad symmetrically in hls4ml too.
        if any(s != 1 for s in layer.stride) or any(k % 2 == 0 for k in layer.kernel):
            raise _unsupported(layer, "padding 'same' is supported for odd kernels at stride 1 only; use 'valid'")
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


def _pool(layer: Layer, exact_in: _Exact) -> tuple[nn.Module, _Exact]:
    dims = layer.kind.spatial_dims
    if layer.padding != "valid":
        raise _unsupported(layer, "pooling supports padding 'valid' only")
    if layer.kind.value.startswith("max"):
        core: nn.Module = (nn.MaxPool2d if dims == 2 else nn.MaxPool1d)(layer.pool, layer.stride)
        exact = exact_in
    else:
        core = (nn.AvgPool2d if dims == 2 else nn.AvgPool1d)(layer.pool, layer.stride)
        exact = _mean_type(exact_in, math.prod(layer.pool))
    return _with_quant(layer, core, exact)


def _mean_type(exact_in: _Exact, count: int) -> _Exact:
    """Exact type of a mean of ``count`` values; None when the division does not terminate in binary."""
    if exact_in is None or count & (count - 1):
        return None
    extra = count.bit_length() - 1
    return FixedType(exact_in.width + extra, exact_in.integer, exact_in.signed)


def _with_quant(layer: Layer, core: nn.Module, exact: _Exact) -> tuple[nn.Module, _Exact]:
    quant, exact = _output_quant(layer, exact)
    if quant is None:
        return core, exact
    return nn.Sequential(core, qnn.QuantIdentity(act_quant=quant, return_quant_tensor=False)), exact


def _relu_type(exact: FixedType) -> FixedType:
    """Exact type of relu(x) for x of type ``exact`` (non-negative, same integer and fraction bits)."""
    if not exact.signed:
        return exact
    return FixedType(exact.width - 1, exact.integer - 1, False)


def _activation(layer: Layer, exact_in: _Exact, is_last: bool) -> tuple[nn.Module, _Exact]:
    fn = layer.function
    result = layer.precision.result
    where = f"{_where(layer)} result"
    if fn in (Activation.RELU, Activation.LINEAR):
        _refuse_wrap(layer, result, exact_in if fn is Activation.LINEAR or exact_in is None else _relu_type(exact_in))
    if fn is Activation.RELU:
        return qnn.QuantReLU(act_quant=act_quant(result, where), return_quant_tensor=False), result
    if fn is Activation.LINEAR:
        return qnn.QuantIdentity(act_quant=act_quant(result, where), return_quant_tensor=False), result
    if fn in _FLOAT_FUNCTIONS:
        quant = qnn.QuantIdentity(act_quant=act_quant(result, where), return_quant_tensor=False)
        return nn.Sequential(_FLOAT_FUNCTIONS[fn](layer), quant), result
    if fn is Activation.SOFTMAX and is_last:
        quant = qnn.QuantIdentity(act_quant=act_quant(result, where), return_quant_tensor=False)
        return FinalSoftmax(quant, layer.table_size), result
    allowed = ", ".join(a.value for a in SUPPORTED_FUNCTIONS)
    raise _unsupported(
        layer,
        f"activation {fn.value if fn else None!r} cannot be built (supported: {allowed}; "
        "softmax only as the last layer)",
    )


_Types = dict[str, _Exact]  # exact type of every built layer's output, by layer name


def _first(layer: Layer, exact: _Types) -> _Exact:
    return exact[layer.inputs[0]] if layer.inputs else None


def _input(layer: Layer, graph: LayerGraph, exact: _Types) -> tuple[nn.Module, _Exact]:
    quant = act_quant(layer.precision.result, f"{_where(layer)} result")
    return qnn.QuantIdentity(act_quant=quant, return_quant_tensor=False), layer.precision.result


def _global_pool(layer: Layer, graph: LayerGraph, exact: _Types) -> tuple[nn.Module, _Exact]:
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
_Builder = Callable[[Layer, LayerGraph, _Types], tuple[nn.Module, _Exact]]
#: One builder per kind: (layer, graph, exact types so far) -> (module, exact type of its output).
_BUILDERS: dict[LayerKind, _Builder] = {
    LayerKind.INPUT: _input,
    **{k: (lambda x, g, e: _weighted(x, _first(x, e))) for k in LayerKind if k.has_weights and k not in UNSUPPORTED},
    **{k: (lambda x, g, e: _pool(x, _first(x, e))) for k in LayerKind if k.info.shape_rule == "pool"},
    **{k: _global_pool for k in LayerKind if k.info.shape_rule == "global"},
    LayerKind.BATCHNORM: lambda x, g, e: (_batchnorm(x, g), None),
    LayerKind.ACTIVATION: lambda x, g, e: _activation(x, _first(x, e), x is g.output),
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


def _merge(layer: Layer, exact: dict[str, _Exact]) -> tuple[nn.Module, _Exact]:
    types = [exact[i] for i in layer.inputs]
    combine: Callable[[FixedType, FixedType], FixedType]
    combine = add_precision if layer.kind is LayerKind.ADD else concat_precision
    out: _Exact = types[0]
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
        raise _unsupported(
            layer, "batchnorm must directly follow a dense/conv layer whose only consumer it is (it is folded into it)"
        )
    if source.precision.bias is None:
        raise _unsupported(layer, f"folding needs a bias precision on {source.name!r} to fold the shift into")
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
    modules: dict[str, nn.Module] = {}
    exact: dict[str, _Exact] = {}
    for layer in graph.layers:  # every kind first: a kind that is never built is the first thing to say
        if layer.kind not in SUPPORTED_KINDS:
            allowed = ", ".join(k.value for k in SUPPORTED_KINDS if k is not LayerKind.INPUT)
            why = UNSUPPORTED.get(layer.kind, "")
            raise _unsupported(layer, f"this layer kind cannot be built ({why}; supported: {allowed})")
    for layer in graph.layers:
        if "." in layer.name or not layer.name or hasattr(nn.Module, layer.name) or layer.name in ("graph", "_plan"):
            raise _unsupported(layer, "the name cannot be a torch submodule name (no dots, not a Module attribute)")
        modules[layer.name], exact[layer.name] = _BUILDERS[layer.kind](layer, graph, exact)
    return QuantNet(graph, modules)


def to_torch_layout(x: torch.Tensor) -> torch.Tensor:
    """Channels-last data (as the graph and hls4ml describe it) -> torch's channels-first layout."""
    return x.movedim(-1, 1) if x.dim() > 2 else x
