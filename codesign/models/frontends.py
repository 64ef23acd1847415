"""Frontends: a torch/Brevitas module or a QONNX/ONNX model -> LayerGraph, for cost estimates of any model.

Both frontends read the same things hls4ml would: layer kinds and sizes, and the number formats of the
quantizers (bit width, signedness, and integer bits from the power-of-two scale). Dense/conv results
get the exact accumulator hls4ml infers (:mod:`codesign.models.precision_rules`) unless an output
quantizer narrows them. As in hls4ml's ``MergeLinearActivation``, a quantizer directly after a
non-activation layer sets that layer's result type instead of becoming a layer of its own. Tensors with no
quantizer at all (a float torch model) get hls4ml's default ``ap_fixed<16,6>``.

A scale that is not a power of two (float-scale Brevitas quantizers) is rounded up to one, with a
warning: the graph is then a cost estimate only, since hls4ml cannot export such a model bit-exactly.

This module reads torch modules; the ONNX reader is :mod:`codesign.models._onnx_frontend`, and what both
share (the graph assembler, the quantizer-to-type rule, the kinds they read) is :mod:`codesign.models._assembler`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
from torch import fx, nn

from codesign.models._assembler import (
    DEFAULT_TYPE,
    INPUT_KEY,
    READ_KINDS,
    Assembler,
    channels_last,
    fixed_type,
    padding_mode,
)
from codesign.models.builder import QuantNet
from cost_models.ir import LayerGraph, LayerKind
from cost_models.kinds import RECURRENT_NOT_BUILT, KindCoverage
from hw_templates.errors import ShapeError, UnsupportedLayerError
from hw_templates.precision import FixedType

__all__ = ["DEFAULT_TYPE", "KIND_COVERAGE", "READ_KINDS", "fixed_type", "graph_from_module", "graph_from_onnx"]

# --------------------------------------------------------------------------- torch / Brevitas modules


class _LeafTracer(fx.Tracer):
    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return (
            type(m).__module__.startswith(("brevitas.", "torch.nn.", "codesign."))
            and not isinstance(m, (nn.Sequential, nn.ModuleList, nn.ModuleDict))
            and not isinstance(m, QuantNet)
        )


def _act_type(proxy: Any) -> FixedType | None:
    if proxy is None or not getattr(proxy, "is_quant_enabled", False):
        return None
    bits, scale = proxy.bit_width().detach(), proxy.scale().detach()  # a learned scale requires grad
    return fixed_type(float(bits), float(scale), proxy.is_signed, proxy.is_narrow_range, proxy.rounding_mode)


def _param_types(m: nn.Module) -> tuple[FixedType, FixedType | int | None]:
    """Weight and bias types; an int bias is a bit width whose scale is input scale x weight scale."""
    if not hasattr(m, "quant_weight"):
        return DEFAULT_TYPE, DEFAULT_TYPE if m.bias is not None else None
    w = m.quant_weight().detach()
    narrow = m.weight_quant.is_narrow_range
    weight = fixed_type(float(w.bit_width), float(w.scale), bool(w.signed), narrow, m.weight_quant.rounding_mode)
    if m.bias is None:
        return weight, None
    if not m.bias_quant.is_quant_enabled:
        return weight, DEFAULT_TYPE
    if m.bias_quant.requires_input_scale:
        return weight, int(m.bias_quant.quant_injector.bit_width)  # bit_width() itself needs the input scale
    b = m.quant_bias()
    return weight, fixed_type(float(b.bit_width), float(b.scale), True)


def _module_layer(asm: Assembler, node: fx.Node, m: nn.Module) -> None:
    from brevitas import nn as qnn

    src = node.args[0].name
    key = node.name
    asm.names[key] = node.target
    if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
        _torch_weighted(asm, key, src, m)
        out_type = _act_type(getattr(m, "output_quant", None))
        if out_type is not None:
            # the output quantizer is the layer's own: it always sets the layer's result type
            asm.requantize(f"{key}.output_quant", key, out_type, sole_consumer=True)
    elif isinstance(m, (qnn.QuantReLU, nn.ReLU)):
        asm.add(key, LayerKind.ACTIVATION, [src], _act_type(getattr(m, "act_quant", None)), function="relu")
    elif isinstance(m, qnn.QuantIdentity):
        ftype = _act_type(m.act_quant)
        if ftype is None:
            asm.alias(key, src)
        else:
            asm.requantize(key, src, ftype, sole_consumer=len(node.args[0].users) == 1)
    elif isinstance(m, (nn.Identity, nn.Dropout)):
        asm.alias(key, src)
    else:
        _plain_module(asm, node, m, key, src)


def _torch_weighted(asm: Assembler, key: str, src: str, m: nn.Module) -> None:
    weight, bias_or_bits = _param_types(m)
    bias = bias_or_bits if not isinstance(bias_or_bits, int) else DEFAULT_TYPE
    _torch_layer(asm, key, src, m, weight, bias)
    if isinstance(bias_or_bits, int):
        asm.ops[-1].bias_bits_from_input = bias_or_bits


def _torch_layer(asm: Assembler, key: str, src: str, m: nn.Module, weight: FixedType, bias: FixedType | None) -> None:
    if isinstance(m, nn.Linear):
        asm.weighted(key, "dense", src, weight, bias, {"units": m.out_features})
        return
    dims = 2 if isinstance(m, nn.Conv2d) else 1
    kernel, stride = tuple(m.kernel_size), tuple(m.stride)
    if isinstance(m.padding, str):
        raise UnsupportedLayerError(f"module {asm.names.get(key, key)!r}: padding {m.padding!r} (give explicit pads)")
    padding = padding_mode(tuple(m.padding), kernel, stride, f"module {asm.names.get(key, key)!r}")
    attrs = {"kernel": kernel, "stride": stride, "padding": padding}
    if m.groups == 1:
        asm.weighted(key, f"conv{dims}d", src, weight, bias, {**attrs, "filters": m.out_channels})
    elif m.groups == m.in_channels:
        asm.weighted(
            key,
            f"depthwise_conv{dims}d",
            src,
            weight,
            bias,
            {**attrs, "depth_multiplier": m.out_channels // m.in_channels},
        )
    else:
        raise UnsupportedLayerError(
            f"module {asm.names.get(key, key)!r}: grouped convolution (groups={m.groups}) is not in the IR"
        )


def _plain_module(asm: Assembler, node: fx.Node, m: nn.Module, key: str, src: str) -> None:
    from codesign.models import builder as b

    name = type(m).__name__
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)):
        dims = 2 if name.endswith("2d") else 1
        pool = _tuple(m.kernel_size, dims)
        stride = _tuple(m.stride or m.kernel_size, dims)
        op = "maxpool" if "Max" in name else "avgpool"
        asm.add(key, f"{op}{dims}d", [src], pool=pool, stride=stride)
    elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        asm.add(key, LayerKind.BATCHNORM, [src])
    elif isinstance(m, (b.ChannelsLastFlatten, nn.Flatten)):
        asm.add(key, LayerKind.FLATTEN, [src])
    elif isinstance(m, b.GlobalPool):
        asm.add(key, f"global_{m.op}pool{len(m.axes)}d", [src])
    elif isinstance(m, _ADAPTIVE) and _tuple(m.output_size, 1) in ((1,), (1, 1)):
        # adaptive pooling to one position is global pooling (its (N, C, 1[, 1]) output holds C values)
        asm.add(key, f"global_{'max' if 'Max' in name else 'avg'}pool{2 if name.endswith('2d') else 1}d", [src])
    elif isinstance(m, (b.Add, b.Concat)):
        kind = LayerKind.ADD if isinstance(m, b.Add) else LayerKind.CONCAT
        attrs = {} if kind is LayerKind.ADD else {"axis": -1 if m.dim == 1 else m.dim - 2}
        asm.add(key, kind, [a.name for a in node.args], **attrs)
    elif isinstance(m, nn.Softmax):
        asm.add(key, LayerKind.ACTIVATION, [src], DEFAULT_TYPE, function="softmax")
    elif isinstance(m, nn.RNNBase) or name in _RECURRENT_MODULES:
        raise UnsupportedLayerError(f"module {node.target!r} ({name}): {RECURRENT_NOT_BUILT}")
    else:
        raise UnsupportedLayerError(f"module {node.target!r} ({name}): no IR layer for it")


#: Brevitas' recurrent modules (``brevitas.nn``), refused like torch's ``nn.RNNBase`` subclasses.
_RECURRENT_MODULES = frozenset({"QuantRNN", "QuantLSTM"})


KIND_COVERAGE = KindCoverage(
    "torch/Brevitas frontend",
    READ_KINDS,
    {
        LayerKind.INPUT: "the traced module's argument",
        LayerKind.SEPARABLE_CONV1D: "torch has no separable module: read as depthwise then pointwise conv1d",
        LayerKind.SEPARABLE_CONV2D: "torch has no separable module: read as depthwise then pointwise conv2d",
        LayerKind.UPSAMPLING1D: "no torch module mapped yet",
        LayerKind.UPSAMPLING2D: "no torch module mapped yet",
        LayerKind.ZEROPADDING1D: "no torch module mapped yet",
        LayerKind.ZEROPADDING2D: "no torch module mapped yet",
        LayerKind.RESHAPE: "only flattens are read",
        LayerKind.LSTM: RECURRENT_NOT_BUILT,
        LayerKind.GRU: RECURRENT_NOT_BUILT,
    },
)


_ADAPTIVE = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)


def _tuple(value: Any, dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value),) * dims


_FUNCTIONS: dict[Callable, str] = {operator.add: "add", torch.add: "add", torch.relu: "relu"}


def _function_layer(asm: Assembler, node: fx.Node) -> None:
    kind = _FUNCTIONS.get(node.target) or getattr(node.target, "__name__", str(node.target))
    args = [a for a in node.args if isinstance(a, fx.Node)]
    if kind == "relu":
        asm.add(node.name, LayerKind.ACTIVATION, [args[0].name], function="relu")
    elif kind == "add":
        asm.add(node.name, LayerKind.ADD, [a.name for a in args])
    elif kind == "flatten":
        asm.add(node.name, LayerKind.FLATTEN, [args[0].name])
    else:
        raise UnsupportedLayerError(f"operation {node.name!r} ({kind}): no IR layer for it")


def graph_from_module(module: nn.Module, sample_input: torch.Tensor, name: str | None = None) -> LayerGraph:
    """Trace ``module`` (torch.fx, Brevitas/torch layers as leaves) into a LayerGraph.

    Args:
        module: a torch or Brevitas module taking one tensor in torch layout (channels first).
        sample_input: an input batch; only its shape is used.
        name: graph name (default: the module's class name).

    Raises:
        UnsupportedLayerError: a module or operation the IR cannot express, named.
    """
    traced = _LeafTracer().trace(module)
    modules = dict(module.named_modules())
    asm: Assembler | None = None
    for node in traced.nodes:
        if node.op == "placeholder":
            if asm is not None:
                raise UnsupportedLayerError(f"module {type(module).__name__}: expected one input, got more")
            shape = channels_last(tuple(sample_input.shape[1:]))
            asm = Assembler(name or type(module).__name__, shape)
            asm.alias(node.name, INPUT_KEY)
        elif node.op == "call_module":
            _module_layer(asm, node, modules[node.target])
        elif node.op in ("call_function", "call_method"):
            _function_layer(asm, node)
        elif node.op == "output":
            out = node.args[0]
            if not isinstance(out, fx.Node) or not asm.ops or asm.resolve(out.name) != asm.ops[-1].key:
                raise UnsupportedLayerError("module output: expected one tensor computed by the last layer")
    if asm is None:
        raise ShapeError(f"module {type(module).__name__}: forward takes no input")
    return asm.build()


def graph_from_onnx(model: Any, name: str | None = None) -> LayerGraph:
    """Read a QONNX/ONNX model (path or ``onnx.ModelProto``/qonnx ``ModelWrapper``) into a LayerGraph.

    Quant nodes give the number formats; see :mod:`codesign.models._onnx_frontend` for the node rules.
    """
    from codesign.models._onnx_frontend import read_onnx

    return read_onnx(model, name)
