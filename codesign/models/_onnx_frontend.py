"""QONNX/ONNX -> LayerGraph (the reader behind :func:`codesign.models.frontends.graph_from_onnx`).

Node rules, for the graphs Brevitas' ``export_qonnx`` writes (channels-first, batch dimension first):

* ``Quant`` on a constant gives a weight/bias type; on a tensor it is the input's type, the previous
  layer's output type (hls4ml's ``MergeLinearActivation``), a ``Relu``'s type, or a linear activation;
* ``MatMul``/``Gemm`` -> dense, ``Conv`` -> conv or depthwise conv, a following ``Add`` of a constant
  -> that layer's bias;
* ``Relu``, ``Softmax``, ``MaxPool``, ``AveragePool``, ``Global*Pool``, ``ReduceMax``/``ReduceMean`` over
  the spatial axes, ``BatchNormalization``, ``Add``, ``Concat``, ``Flatten``/``Reshape`` to 2D (a
  ``Transpose`` to channels-last before it is part of the flatten), ``Identity``/``Dropout``.

Anything else raises UnsupportedLayerError naming the node.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from codesign.config_io import check_input_file
from codesign.models._assembler import (
    DEFAULT_TYPE,
    INPUT_KEY,
    READ_KINDS,
    Assembler,
    channels_last,
    fixed_type,
    padding_mode,
)
from cost_models.ir import LayerGraph, LayerKind
from cost_models.kinds import RECURRENT_NOT_BUILT, KindCoverage
from hw_templates.errors import SpecError, UnsupportedLayerError, clip
from hw_templates.precision import FixedType

__all__ = ["KIND_COVERAGE", "MAX_ONNX_BYTES", "read_onnx"]

logger = logging.getLogger(__name__)


#: Largest .onnx file read (the toolkit's own exports are well under 1 MiB).
MAX_ONNX_BYTES = 512 << 20
#: Most nodes read: a few per layer of a spec's MAX_LAYERS (4096); Brevitas writes ~4 per layer.
MAX_ONNX_NODES = 32_768


def _wrapper(model: Any) -> Any:
    """A checked, cleaned-up qonnx ModelWrapper of ``model`` (a path, an ``onnx.ModelProto`` or a wrapper).

    The raw protobuf is checked first (node count, ONNX checker, inputs), before qonnx wraps it: qonnx
    indexes into empty graphs and takes seconds on huge ones.
    """
    import onnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    where = "onnx model"
    if isinstance(model, (str, Path)):
        path = check_input_file(model, "onnx", MAX_ONNX_BYTES, ".onnx file")
        where = f"onnx {clip(path.name)}"
        try:
            model = onnx.load(str(path), load_external_data=False)
        except Exception as err:  # protobuf raises its own DecodeError types
            raise SpecError(
                f"{where}: expected an ONNX model, got a file protobuf cannot read ({type(err).__name__})"
            ) from None
    proto = model.model if isinstance(model, ModelWrapper) else model
    _check_proto(proto, where)
    try:
        return cleanup_model(model if isinstance(model, ModelWrapper) else ModelWrapper(proto))
    except Exception as err:  # qonnx transformations raise anything on graphs they do not expect
        raise SpecError(f"{where}: qonnx cannot clean up this model ({type(err).__name__}: {clip(err, 120)})") from None


def _check_proto(proto: Any, where: str) -> None:
    import onnx

    if len(proto.graph.node) > MAX_ONNX_NODES:
        raise SpecError(
            f"{where}: expected at most {MAX_ONNX_NODES:,} nodes (the limit), got {len(proto.graph.node):,}"
        )
    try:  # an empty or truncated file parses as an empty model: refuse it before qonnx indexes into it
        onnx.checker.check_model(proto)
    except (onnx.checker.ValidationError, ValueError) as err:
        raise SpecError(
            f"{where}: expected a valid ONNX model, got one the ONNX checker refuses ({clip(err, 160)})"
        ) from None
    if not proto.graph.input or not proto.graph.node:
        raise SpecError(
            f"{where}: expected a model with an input and nodes, got an empty graph (empty or truncated file?)"
        )


class _Reader:
    def __init__(self, wrapper: Any, name: str) -> None:
        self.m = wrapper
        graph = wrapper.graph
        self.inp = graph.input[0].name
        shape = tuple(int(d) for d in wrapper.get_tensor_shape(self.inp)[1:])
        self.asm = Assembler(name, channels_last(shape))
        self.asm.alias(self.inp, INPUT_KEY)
        self.const: dict[str, FixedType] = {}  # tensor -> type of a quantized constant
        self.transposed: set[str] = set()

    def value(self, tensor: str) -> np.ndarray | None:
        return self.m.get_initializer(tensor)

    def is_const(self, tensor: str) -> bool:
        return tensor in self.const or self.value(tensor) is not None

    def const_value(self, tensor: str) -> np.ndarray:
        value = self.value(tensor)
        if value is None:
            producer = self.m.find_producer(tensor)
            value = self.value(producer.input[0])
        return value

    def type_of(self, tensor: str) -> FixedType:
        return self.const.get(tensor, DEFAULT_TYPE)

    def attr(self, node: Any, name: str, default: Any = None) -> Any:
        from onnx import helper

        for a in node.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
        return default

    def quant(self, node: Any) -> None:
        scale = float(np.max(self.value(node.input[1])))
        bits = float(self.value(node.input[3]))
        rounding = self.attr(node, "rounding_mode", b"ROUND")
        rounding = rounding.decode() if isinstance(rounding, bytes) else rounding
        ftype = fixed_type(
            bits, scale, bool(self.attr(node, "signed", 1)), bool(self.attr(node, "narrow", 0)), rounding
        )
        if self.is_const(node.input[0]):
            self.const[node.output[0]] = ftype
        else:
            sole = len(self.m.find_consumers(node.input[0]) or []) == 1
            self.asm.requantize(node.output[0], node.input[0], ftype, sole)

    def dense(self, node: Any) -> None:
        data, weight = (node.input[1], node.input[0]) if self.is_const(node.input[0]) else node.input[:2]
        w = self.const_value(weight)
        trans = node.op_type == "Gemm" and self.attr(node, "transB", 0)
        units = int(w.shape[0] if trans else w.shape[-1])
        bias = self.type_of(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        self.asm.weighted(node.output[0], "dense", data, self.type_of(weight), bias, {"units": units})

    def conv(self, node: Any) -> None:
        w = self.const_value(node.input[1])
        dims = w.ndim - 2
        kernel = tuple(int(k) for k in (self.attr(node, "kernel_shape") or w.shape[2:]))
        stride = tuple(self.attr(node, "strides", [1] * dims))
        pads = tuple(self.attr(node, "pads", [0] * 2 * dims))
        if pads[:dims] != pads[dims:]:
            raise UnsupportedLayerError(f"node {node.name!r} (Conv): asymmetric pads {list(pads)}")
        attrs = {
            "kernel": kernel,
            "stride": stride,
            "padding": padding_mode(pads[:dims], kernel, stride, f"node {node.name!r}"),
        }
        group = int(self.attr(node, "group", 1))
        bias = self.type_of(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if group == 1:
            kind, attrs["filters"] = f"conv{dims}d", int(w.shape[0])
        elif group * w.shape[1] == group and w.shape[0] % group == 0:
            kind, attrs["depth_multiplier"] = f"depthwise_conv{dims}d", int(w.shape[0]) // group
        else:
            raise UnsupportedLayerError(
                f"node {node.name!r} (Conv): grouped convolution (group={group}) is not in the IR"
            )
        self.asm.weighted(node.output[0], kind, node.input[0], self.type_of(node.input[1]), bias, attrs)

    def add(self, node: Any) -> None:
        a, b = node.input[:2]
        if self.is_const(a) or self.is_const(b):
            data, bias = (b, a) if self.is_const(a) else (a, b)
            last = self.asm.ops[-1] if self.asm.ops else None
            if last is None or last.key != self.asm.resolve(data) or last.weight is None or last.bias is not None:
                raise UnsupportedLayerError(f"node {node.name!r} (Add): a constant added anywhere but as a bias")
            last.bias, last.attrs["use_bias"] = self.type_of(bias), True
            self.asm.alias(node.output[0], data)
        else:
            self.asm.add(node.output[0], LayerKind.ADD, [a, b])

    def pool(self, node: Any) -> None:
        kernel = tuple(self.attr(node, "kernel_shape"))
        if any(self.attr(node, "pads", [0])):
            raise UnsupportedLayerError(f"node {node.name!r} ({node.op_type}): padded pooling")
        op = "maxpool" if node.op_type == "MaxPool" else "avgpool"
        stride = tuple(self.attr(node, "strides", kernel))
        self.asm.add(node.output[0], f"{op}{len(kernel)}d", [node.input[0]], pool=kernel, stride=stride)

    def reduce(self, node: Any) -> None:
        rank = len(self.m.get_tensor_shape(node.input[0]))
        axes = self.attr(node, "axes")
        if axes is None and len(node.input) > 1:
            axes = self.value(node.input[1]).tolist()
        if sorted(a % rank for a in axes or []) != list(range(2, rank)) or self.attr(node, "keepdims", 1):
            raise UnsupportedLayerError(f"node {node.name!r} ({node.op_type}): only a global pool over all positions")
        op = "max" if node.op_type == "ReduceMax" else "avg"
        self.asm.add(node.output[0], f"global_{op}pool{rank - 2}d", [node.input[0]])

    def flatten(self, node: Any) -> None:
        out_rank = len(self.m.get_tensor_shape(node.output[0]) or [])
        if node.op_type == "Reshape" and out_rank != 2:
            raise UnsupportedLayerError(f"node {node.name!r} (Reshape): only a flatten to (batch, features)")
        self.asm.add(node.output[0], LayerKind.FLATTEN, [node.input[0]])

    def transpose(self, node: Any) -> None:
        consumers = self.m.find_consumers(node.output[0]) or []
        if len(consumers) != 1 or consumers[0].op_type not in ("Flatten", "Reshape"):
            raise UnsupportedLayerError(f"node {node.name!r} (Transpose): only a channels-last flatten")
        self.asm.alias(node.output[0], node.input[0])

    def node(self, node: Any) -> None:
        op = node.op_type
        self.asm.names[node.output[0]] = node.name
        handlers = {
            "Quant": self.quant,
            "MatMul": self.dense,
            "Gemm": self.dense,
            "Conv": self.conv,
            "Add": self.add,
            "MaxPool": self.pool,
            "AveragePool": self.pool,
            "ReduceMax": self.reduce,
            "ReduceMean": self.reduce,
            "Flatten": self.flatten,
            "Reshape": self.flatten,
            "Transpose": self.transpose,
        }
        simple = {"Relu": "relu", "Softmax": "softmax"}
        if op in handlers:
            handlers[op](node)
        elif op in simple:
            result = DEFAULT_TYPE if op == "Softmax" else None
            self.asm.add(node.output[0], LayerKind.ACTIVATION, [node.input[0]], result, function=simple[op])
        elif op in ("GlobalAveragePool", "GlobalMaxPool"):
            rank = len(self.m.get_tensor_shape(node.input[0]))
            kind = f"global_{'avg' if 'Average' in op else 'max'}pool{rank - 2}d"
            self.asm.add(node.output[0], kind, [node.input[0]])
        elif op == "BatchNormalization":
            self.asm.add(node.output[0], LayerKind.BATCHNORM, [node.input[0]])
        elif op == "Concat":
            axis = int(self.attr(node, "axis", 1))
            self.asm.add(node.output[0], LayerKind.CONCAT, list(node.input), axis=-1 if axis == 1 else axis - 2)
        elif op in ("Identity", "Dropout"):
            self.asm.alias(node.output[0], node.input[0])
        elif op in ("LSTM", "GRU", "RNN"):
            raise UnsupportedLayerError(f"node {node.name!r} ({op}): {RECURRENT_NOT_BUILT}")
        else:
            raise UnsupportedLayerError(f"node {node.name!r} ({op}): no IR layer for this ONNX operation")


#: Kinds the ONNX reader produces (``_Reader.node`` dispatches on the op type: the torch frontend's), and the others.
KIND_COVERAGE = KindCoverage(
    "QONNX/ONNX frontend",
    READ_KINDS,
    {
        LayerKind.INPUT: "the graph input",
        LayerKind.SEPARABLE_CONV1D: "ONNX has no separable op: read as depthwise then pointwise Conv",
        LayerKind.SEPARABLE_CONV2D: "ONNX has no separable op: read as depthwise then pointwise Conv",
        LayerKind.UPSAMPLING1D: "no ONNX op mapped yet",
        LayerKind.UPSAMPLING2D: "no ONNX op mapped yet",
        LayerKind.ZEROPADDING1D: "no ONNX op mapped yet",
        LayerKind.ZEROPADDING2D: "no ONNX op mapped yet",
        LayerKind.RESHAPE: "only a Reshape to (batch, features) is read, as flatten",
        LayerKind.LSTM: RECURRENT_NOT_BUILT,
        LayerKind.GRU: RECURRENT_NOT_BUILT,
    },
)


def read_onnx(model: Any, name: str | None = None) -> LayerGraph:
    """See :func:`codesign.models.frontends.graph_from_onnx`."""
    wrapper = _wrapper(model)
    default = Path(model).stem if isinstance(model, (str, Path)) else (wrapper.graph.name or "onnx")
    reader = _Reader(wrapper, name or default)
    for node in wrapper.graph.node:
        reader.node(node)
    if not any(node.op_type == "Quant" for node in wrapper.graph.node):
        logger.warning(
            "onnx model %r has no Quant nodes: every layer is costed at hls4ml's default precision %s",
            name or default,
            DEFAULT_TYPE,
        )
    return reader.asm.build()
