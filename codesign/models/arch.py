"""Architecture specs: a quantized network as pure data, convertible to a LayerGraph without torch.

An :class:`ArchSpec` is what a search space samples: layers in order, each with its sizes and its own
bit widths (mixed precision). :meth:`ArchSpec.to_graph` turns it into the cost model's
:class:`~cost_models.ir.LayerGraph`, so a candidate's cost is known before any torch module exists;
:func:`codesign.models.builder.build_model` then builds exactly that graph.

Bit widths become power-of-two fixed-point types (the only kind hls4ml's QONNX path keeps bit-exact):

* weights ``ap_fixed<weight_bits, weight_integer>`` (default integer bits 1: values in [-1, 1));
* biases ``ap_fixed<bias_bits, bias_integer>`` (default 8 bits, 3 integer bits: [-4, 4));
* activations ``ap_ufixed<act_bits, act_integer>`` after ReLU (signed after ``linear``); default integer
  bits 2 ([0, 4)), 1 below 3 bits;
* dense/conv results are the exact accumulators hls4ml infers (:mod:`codesign.models.precision_rules`).

Example:
    >>> spec = ArchSpec("mlp", (ArchLayer("dense", units=32, weight_bits=4), ArchLayer("activation", act_bits=4),
    ...                         ArchLayer("dense", units=10, weight_bits=4)))
    >>> [x.output_shape for x in spec.to_graph((64,))]
    [(64,), (32,), (32,), (10,)]
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from codesign.models.precision_rules import accumulator_precision, add_precision, concat_precision, quantizer_type
from cost_models.ir import GraphBuilder, LayerGraph, LayerKind, LayerPrecision
from cost_models.kinds import RECURRENT_NOT_BUILT, KindCoverage
from hw_templates.errors import SpecError, bad_value
from hw_templates.precision import FixedType

__all__ = ["KIND_COVERAGE", "MAX_BITS", "MIN_BITS", "ArchLayer", "ArchSpec"]

#: Bit widths a spec may ask for (a 1-bit signed fixed-point number cannot hold a useful weight).
MIN_BITS, MAX_BITS = 2, 16

_KINDS = (
    "dense",
    "conv1d",
    "conv2d",
    "depthwise_conv1d",
    "depthwise_conv2d",
    "maxpool1d",
    "maxpool2d",
    "avgpool1d",
    "avgpool2d",
    "global_maxpool1d",
    "global_maxpool2d",
    "global_avgpool1d",
    "global_avgpool2d",
    "batchnorm",
    "activation",
    "flatten",
    "add",
    "concat",
)
_FUNCTIONS = ("relu", "linear", "sigmoid", "tanh", "hard_tanh", "hard_sigmoid", "leaky_relu")
#: The leaky_relu slope of search-space layers: a power of two, so hls4ml's multiply is exact.
LEAKY_ALPHA = 0.125
#: The hard_sigmoid slope of search-space layers (``clip(x / 4 + 1/2, 0, 1)``): a power of two, exact.
HARD_SIGMOID_ALPHA = 0.25
_ALPHAS = {"leaky_relu": LEAKY_ALPHA, "hard_sigmoid": HARD_SIGMOID_ALPHA}
KIND_COVERAGE = KindCoverage(
    "architecture spec (ArchLayer)",
    frozenset(LayerKind(k) for k in _KINDS),
    {
        LayerKind.INPUT: "the input is the spec's input_bits/input_integer",
        LayerKind.SEPARABLE_CONV1D: "not sampled by the search spaces; use depthwise_conv1d then conv1d (kernel 1)",
        LayerKind.SEPARABLE_CONV2D: "not sampled by the search spaces; use depthwise_conv2d then conv2d (kernel 1)",
        LayerKind.UPSAMPLING1D: "not sampled by the search spaces (a design spec can state it)",
        LayerKind.UPSAMPLING2D: "not sampled by the search spaces (a design spec can state it)",
        LayerKind.ZEROPADDING1D: "not sampled by the search spaces (a design spec can state it)",
        LayerKind.ZEROPADDING2D: "not sampled by the search spaces (a design spec can state it)",
        LayerKind.RESHAPE: "not sampled by the search spaces (flatten is)",
        LayerKind.LSTM: RECURRENT_NOT_BUILT,
        LayerKind.GRU: RECURRENT_NOT_BUILT,
    },
)
_BIT_FIELDS = ("weight_bits", "bias_bits", "act_bits")
#: hls4ml 1.3's default precision, used for batchnorm parameters (folded away before export).
_BN_TYPE = FixedType(16, 6)


@dataclass(frozen=True)
class ArchLayer:
    """One layer of an :class:`ArchSpec`; only the fields meaningful for ``kind`` matter.

    Attributes:
        kind: one of dense, conv1d/2d, depthwise_conv1d/2d, (global_)max/avgpool1d/2d, batchnorm,
            activation, flatten, add, concat.
        name: layer name (generated when None); name layers that ``inputs`` refer to.
        inputs: earlier layers feeding this one (default: the previous layer); two or more for add/concat.
        units, filters, kernel, stride, padding, pool: sizes, as in the IR.
        function: activation function (relu, linear, sigmoid, tanh, hard_tanh or leaky_relu).
        weight_bits, weight_integer, bias_bits, bias_integer: weighted layers' number formats.
        act_bits, act_integer: an activation's output format (integer bits default by width).
    """

    kind: str
    name: str | None = None
    inputs: tuple[str, ...] = ()
    units: int | None = None
    filters: int | None = None
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    padding: str = "valid"
    pool: tuple[int, ...] = ()
    function: str = "relu"
    weight_bits: int = 8
    weight_integer: int = 1
    bias_bits: int = 8
    bias_integer: int = 3
    act_bits: int = 8
    act_integer: int | None = None

    def __post_init__(self) -> None:
        where = f"layer {self.name or self.kind!r}"
        if self.kind not in _KINDS:
            raise SpecError(bad_value(f"{where} kind", self.kind, "a supported layer kind", _KINDS))
        if self.kind == "activation" and self.function not in _FUNCTIONS:
            expected = "one of " + ", ".join(_FUNCTIONS)
            raise SpecError(bad_value(f"{where} function", self.function, expected, _FUNCTIONS))
        for name in _BIT_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not MIN_BITS <= value <= MAX_BITS:
                raise SpecError(bad_value(f"{where} {name}", value, f"an integer {MIN_BITS}..{MAX_BITS}"))
        for name in ("kernel", "stride", "pool", "inputs"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def act_type(self) -> FixedType:
        """The activation quantizer's type (unsigned after relu)."""
        # sigmoid and tanh outputs lie in [0, 1] and [-1, 1]: one integer bit by default
        default = 1 if self.function in ("sigmoid", "tanh", "hard_tanh") or self.act_bits < 3 else 2
        integer = self.act_integer if self.act_integer is not None else default
        return quantizer_type(self.act_bits, integer, signed=self.function not in ("relu", "sigmoid"))

    def to_dict(self) -> dict[str, Any]:
        """Only the fields that differ from their defaults (``kind`` always)."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self)[1:]:
            value = getattr(self, f.name)
            if value != f.default:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "layer") -> ArchLayer:
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                raise SpecError(bad_value(f"{where} key", key, "an ArchLayer field", known))
        if "kind" not in data:
            raise SpecError(f"{where}: required key 'kind' is missing")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True)
class ArchSpec:
    """A quantized network: layers in order plus the input's number format.

    Attributes:
        name: graph name.
        layers: the layers after the input.
        input_bits, input_integer: input quantizer ``ap_fixed<input_bits, input_integer>``
            (default ``<8,3>``: standardised features in [-4, 4)).
    """

    name: str
    layers: tuple[ArchLayer, ...]
    input_bits: int = 8
    input_integer: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise SpecError(f"arch {self.name!r}: expected at least one layer, got none")
        if not MIN_BITS <= self.input_bits <= MAX_BITS:
            raise SpecError(bad_value("input_bits", self.input_bits, f"an integer {MIN_BITS}..{MAX_BITS}"))

    def to_graph(self, input_shape: tuple[int, ...], name: str | None = None) -> LayerGraph:
        """The LayerGraph of this network for inputs of ``input_shape`` (per sample, channels-last).

        Raises:
            SpecError / ShapeError: sizes that do not fit the input (one line naming the layer).
        """
        input_type = quantizer_type(self.input_bits, self.input_integer)
        builder = GraphBuilder(name or self.name, tuple(input_shape), input_type)
        for index, layer in enumerate(self.layers):
            try:
                _add(builder, layer)
            except SpecError as err:
                raise type(err)(f"arch {self.name!r} layers[{index}]: {err}") from None
        return builder.build()

    def with_bits(self, **bits: int) -> ArchSpec:
        """A copy with the given bit fields (e.g. ``weight_bits=4``) set on every layer."""
        return replace(self, layers=tuple(replace(x, **bits) for x in self.layers))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "input_bits": self.input_bits,
            "input_integer": self.input_integer,
            "layers": [x.to_dict() for x in self.layers],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArchSpec:
        known = ("name", "layers", "input_bits", "input_integer")
        for key in data:
            if key not in known:
                raise SpecError(bad_value("arch key", key, "one of " + ", ".join(known), known))
        if not isinstance(data.get("layers"), list):
            raise SpecError(bad_value("arch layers", data.get("layers"), "a list of layer mappings"))
        layers = tuple(ArchLayer.from_dict(x, f"layers[{i}]") for i, x in enumerate(data["layers"]))
        return cls(
            str(data.get("name", "arch")), layers, int(data.get("input_bits", 8)), int(data.get("input_integer", 3))
        )

    @classmethod
    def from_json(cls, text: str) -> ArchSpec:
        return cls.from_dict(json.loads(text))


def _n_ops(layer: ArchLayer, in_shape: tuple[int, ...]) -> int:
    if layer.kind == "dense":
        return math.prod(in_shape)
    dims = len(in_shape) - 1
    kernel = layer.kernel * dims if len(layer.kernel) == 1 else layer.kernel
    taps = math.prod(kernel) if kernel else 1
    return taps if layer.kind.startswith("depthwise") else taps * in_shape[-1]


def _add(builder: GraphBuilder, layer: ArchLayer) -> None:
    sources = [builder.get(i) for i in layer.inputs] if layer.inputs else [builder.last]
    in_type = sources[0].precision.result
    attrs: dict[str, Any] = {}
    precision: LayerPrecision | None = None
    kind = LayerKind(layer.kind)
    if kind.has_weights:
        weight = quantizer_type(layer.weight_bits, layer.weight_integer)
        bias = quantizer_type(layer.bias_bits, layer.bias_integer)
        result = accumulator_precision(in_type, weight, bias, _n_ops(layer, sources[0].output_shape))
        precision = LayerPrecision(result, weight, bias)
        attrs = {"units": layer.units, "filters": layer.filters, "kernel": layer.kernel, "stride": layer.stride}
        # a 1-wide kernel needs no padding: 'valid' is what the exported ONNX (pads 0) says too
        attrs["padding"] = "valid" if set(layer.kernel) == {1} else layer.padding
        if kind is LayerKind.DENSE:
            attrs = {"units": layer.units}
    elif kind is LayerKind.ACTIVATION:
        precision = LayerPrecision(layer.act_type)
        alpha = _ALPHAS.get(layer.function or "")
        attrs = {"function": layer.function, **({"alpha": alpha} if alpha else {})}
    elif kind is LayerKind.BATCHNORM:
        precision = LayerPrecision(in_type, _BN_TYPE, _BN_TYPE)
    elif kind.value.startswith(("maxpool", "avgpool")):
        attrs = {"pool": layer.pool, "stride": layer.stride, "padding": layer.padding}
    elif kind in (LayerKind.ADD, LayerKind.CONCAT):
        result = sources[0].precision.result
        combine = add_precision if kind is LayerKind.ADD else concat_precision
        for other in sources[1:]:
            result = combine(result, other.precision.result)
        precision = LayerPrecision(result)
    attrs = {k: v for k, v in attrs.items() if v not in (None, ())}
    builder.add(kind, name=layer.name, inputs=layer.inputs or None, precision=precision, **attrs)
