"""What the torch and the ONNX frontend share: :class:`Assembler` collects the layers a frontend reads and
builds the graph with the exact types hls4ml infers; :func:`fixed_type` turns a quantizer's bits and scale
into a type; :data:`READ_KINDS` are the kinds both read.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from codesign.models.precision_rules import accumulator_precision, add_precision, concat_precision
from cost_models.ir import SOFTMAX_TABLE_TYPE, GraphBuilder, Layer, LayerGraph, LayerKind, LayerPrecision
from hw_templates.errors import UnsupportedLayerError
from hw_templates.precision import FixedType

__all__ = [
    "DEFAULT_TYPE",
    "INPUT_KEY",
    "READ_KINDS",
    "Assembler",
    "channels_last",
    "fixed_type",
    "padding_mode",
]

logger = logging.getLogger("codesign.models.frontends")  # the frontends' records keep the name they had

#: hls4ml 1.3's default precision, for tensors no quantizer describes.
DEFAULT_TYPE = FixedType(16, 6)
_ROUNDING = {"ROUND": "RND_CONV", "FLOOR": "TRN"}


def fixed_type(bits: float, scale: float, signed: bool, narrow: bool = False, rounding: str = "ROUND") -> FixedType:
    """The fixed-point type of a quantizer with ``bits`` and ``scale`` (integer bits = bits + log2(scale))."""
    exponent = math.log2(scale)
    if exponent != round(exponent):
        logger.warning("quantizer scale %g is not a power of two: rounded up for the estimate", scale)
    width = round(bits)
    return FixedType(
        width,
        width + math.ceil(exponent - 1e-9),
        bool(signed),
        rounding=_ROUNDING.get(str(rounding).upper(), "RND_CONV"),
        saturation="SAT_SYM" if narrow else "SAT",
    )


@dataclass
class _Op:
    """A layer to be: precisions left None are inferred when the graph is built."""

    key: str
    kind: LayerKind
    inputs: list[str]
    attrs: dict[str, Any]
    result: FixedType | None = None
    weight: FixedType | None = None
    bias: FixedType | None = None
    name: str | None = None  # IR layer name (default: from key)
    bias_bits_from_input: int | None = None  # bias scaled by input x weight scale (Brevitas Int16Bias)


#: Internal key of the graph input (not a valid tensor or module name, so it never collides).
INPUT_KEY = "<input>"


class Assembler:
    """Collects layers from a frontend, then builds the graph (shapes and exact types in one pass)."""

    def __init__(self, name: str, shape: tuple[int, ...]) -> None:
        self.name = name
        self.shape = shape
        self.input_type: FixedType | None = None
        self.ops: list[_Op] = []
        self.alias_of: dict[str, str] = {}  # source tensor -> tensor that holds the same values
        self.names: dict[str, str] = {}  # key -> preferred IR name (module path)

    def resolve(self, key: str) -> str:
        while key in self.alias_of:
            key = self.alias_of[key]
        return key

    def add(
        self, key: str, kind: LayerKind | str, inputs: list[str], result: FixedType | None = None, **attrs: Any
    ) -> _Op:
        op = _Op(key, LayerKind(kind), [self.resolve(i) for i in inputs], attrs, result, name=self.names.get(key))
        self.ops.append(op)
        return op

    def alias(self, key: str, source: str) -> None:
        target = self.resolve(source)
        if target != key:
            self.alias_of[key] = target

    def weighted(self, key: str, kind: str, src: str, weight: FixedType, bias: FixedType | None, attrs: dict) -> None:
        op = self.add(key, kind, [src], use_bias=bias is not None, **attrs)
        op.weight, op.bias = weight, bias

    def requantize(self, key: str, src: str, ftype: FixedType, sole_consumer: bool) -> None:
        """A quantizer reading ``src``: it sets the graph input's type, or the result type of the layer
        producing ``src`` (an unquantized activation, or any non-activation layer it alone reads, as
        hls4ml's ``MergeLinearActivation`` does), or else becomes a linear activation."""
        source = self.resolve(src)
        producer = next((op for op in self.ops if op.key == source), None)
        if source == INPUT_KEY and self.input_type is None and sole_consumer:
            self.input_type = ftype
            self.alias(key, src)
        elif (
            producer is not None
            and producer.result is None
            and (producer.kind is LayerKind.ACTIVATION or sole_consumer)
        ):
            producer.result = ftype
            self.alias(key, src)
        else:
            self.add(key, LayerKind.ACTIVATION, [src], ftype, function="linear")

    def build(self) -> LayerGraph:
        builder = GraphBuilder(self.name, self.shape, self.input_type or DEFAULT_TYPE)
        names = {INPUT_KEY: "input"}
        taken = {"input"}
        for op in self.ops:
            srcs = [builder.get(names[i]) for i in op.inputs]
            name = _unique(_clean(op.name or op.key), taken)
            layer = builder.add(
                op.kind, name=name, inputs=[s.name for s in srcs], precision=_precision(op, srcs), **op.attrs
            )
            taken.add(layer.name)
            names[op.key] = layer.name
        return builder.build()


def _precision(op: _Op, srcs: list[Layer]) -> LayerPrecision | None:
    in_type = srcs[0].precision.result
    if op.weight is not None:
        bias = op.bias
        if op.bias_bits_from_input is not None:  # scale = input LSB x weight LSB, as the exported Quant says
            bits = op.bias_bits_from_input
            exponent = in_type.integer - in_type.width + op.weight.integer - op.weight.width
            bias = FixedType(bits, bits + exponent, True, rounding="RND_CONV", saturation="SAT")
        n_ops = _n_ops(op.kind.value, srcs[0].output_shape, op.attrs)
        return LayerPrecision(op.result or accumulator_precision(in_type, op.weight, bias, n_ops), op.weight, bias)
    if op.kind in (LayerKind.ADD, LayerKind.CONCAT) and op.result is None:
        combine = add_precision if op.kind is LayerKind.ADD else concat_precision
        result = in_type
        for other in srcs[1:]:
            result = combine(result, other.precision.result)
        return LayerPrecision(result)
    if op.kind is LayerKind.BATCHNORM:
        return LayerPrecision(op.result or in_type, DEFAULT_TYPE, DEFAULT_TYPE)
    if op.attrs.get("function") == "softmax":  # the tables the toolkit's export builds
        return LayerPrecision(op.result or in_type, table=SOFTMAX_TABLE_TYPE)
    return LayerPrecision(op.result) if op.result is not None else None


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def _clean(key: str) -> str:
    return key.replace(".", "_").replace("/", "_").strip("_") or "layer"


def _n_ops(kind: str, in_shape: tuple[int, ...], attrs: dict) -> int:
    if kind == "dense":
        return math.prod(in_shape)
    kernel = attrs["kernel"]
    taps = math.prod(kernel) ** (len(in_shape) - 1) if len(kernel) == 1 else math.prod(kernel)
    return taps if kind.startswith("depthwise") else taps * in_shape[-1]


def channels_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(shape[1:]) + (shape[0],) if len(shape) > 1 else tuple(shape)


def padding_mode(pads: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...], where: str) -> str:
    if not any(pads):
        return "valid"
    if (
        all(s == 1 for s in stride)
        and tuple(pads) == tuple((k - 1) // 2 for k in kernel)
        and all(k % 2 for k in kernel)
    ):
        return "same"
    raise UnsupportedLayerError(f"{where}: padding {list(pads)} is neither 'valid' nor 'same' (odd kernel, stride 1)")


_K = LayerKind
#: Kinds both frontends read: the torch frontend from modules and functions (handlers: ``_module_layer``,
#: ``_plain_module``, ``_function_layer`` in :mod:`codesign.models.frontends`), the ONNX frontend from ops
#: (``_Reader.node`` in :mod:`codesign.models._onnx_frontend`). Listed, not derived from the kind table, so
#: that a new kind is reported by ``tests/cost_models/test_kinds.py`` until both frontends read it or say why
#: not.
READ_KINDS = frozenset(
    {
        *(_K.DENSE, _K.CONV1D, _K.CONV2D, _K.DEPTHWISE_CONV1D, _K.DEPTHWISE_CONV2D),
        *(_K.MAXPOOL1D, _K.MAXPOOL2D, _K.AVGPOOL1D, _K.AVGPOOL2D),
        *(_K.GLOBAL_MAXPOOL1D, _K.GLOBAL_MAXPOOL2D, _K.GLOBAL_AVGPOOL1D, _K.GLOBAL_AVGPOOL2D),
        *(_K.BATCHNORM, _K.ACTIVATION, _K.FLATTEN, _K.ADD, _K.CONCAT),
    }
)
