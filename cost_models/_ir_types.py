"""The IR's typed records: :class:`Activation`, :class:`LayerPrecision`, :class:`Layer` and :class:`LayerGraph`
(frozen dataclasses; what a layer is and the sizes derived from it). Import them from :mod:`cost_models.ir`.

Their JSON form is :mod:`cost_models._ir_json`; graphs are built by :class:`cost_models.ir.GraphBuilder`
(:mod:`cost_models._graph_builder`), which infers the shapes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any

from cost_models.kinds import RECURRENT_GATES, RECURRENT_KINDS, LayerKind
from hw_templates.errors import ShapeError, SpecError, bad_value
from hw_templates.precision import FixedType

__all__ = [
    "DEFAULT_TABLE_SIZE",
    "SOFTMAX_TABLE_TYPE",
    "TUPLE_FIELDS",
    "Activation",
    "Layer",
    "LayerGraph",
    "LayerPrecision",
]


class Activation(str, Enum):
    """Activation functions. hls4ml implements the non-piecewise-linear ones as lookup tables."""

    LINEAR = "linear"
    RELU = "relu"
    LEAKY_RELU = "leaky_relu"
    ELU = "elu"
    SELU = "selu"
    SIGMOID = "sigmoid"
    TANH = "tanh"
    HARD_SIGMOID = "hard_sigmoid"
    HARD_TANH = "hard_tanh"
    SOFTMAX = "softmax"
    SOFTPLUS = "softplus"
    SOFTSIGN = "softsign"

    @property
    def uses_table(self) -> bool:
        """True when hls4ml evaluates the function through a ROM lookup table."""
        return self in _TABLE_ACTIVATIONS


_TABLE_ACTIVATIONS = {
    Activation.ELU,
    Activation.SELU,
    Activation.SIGMOID,
    Activation.TANH,
    Activation.SOFTMAX,
    Activation.SOFTPLUS,
    Activation.SOFTSIGN,
}

#: hls4ml 1.3 defaults (hls4ml/model/types.py / config_from_* helpers): lookup tables of 1024
#: entries of ``ap_fixed<18,8>``.
DEFAULT_TABLE_SIZE = 1024
#: The exp and inverse table type the toolkit's export writes for every softmax (``exp_table_t`` and
#: ``inv_table_t``: values in [0, 1] with 12 fraction bits; codesign/export/_softmax_table.py, which reads
#: it from here). The toolkit's graph builders give a softmax layer this ``table`` type, so the cost model
#: prices the 13-bit tables that are built rather than hls4ml's default ``ap_fixed<18,8>``.
SOFTMAX_TABLE_TYPE = FixedType(13, 1, False, "RND", "SAT")


@dataclass(frozen=True)
class LayerPrecision:
    """Number formats of one layer, named as hls4ml names them.

    Attributes:
        result: output activations (``result_t``).
        weight: weights (``weight_t``); ``None`` for layers without weights.
        bias: biases (``bias_t``); ``None`` without bias.
        accum: accumulator (``accum_t``); ``None`` means "as ``result``" (hls4ml's default).
        table: lookup-table entries for table-based activations (``table_t``).
    """

    result: FixedType
    weight: FixedType | None = None
    bias: FixedType | None = None
    accum: FixedType | None = None
    table: FixedType | None = None

    @property
    def accum_or_result(self) -> FixedType:
        """The accumulator type actually used (hls4ml falls back to the result type)."""
        return self.accum or self.result

    def to_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name).to_hls() for f in fields(self) if getattr(self, f.name)}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> LayerPrecision:
        return cls(**{k: FixedType.parse(v) for k, v in data.items()})


@dataclass(frozen=True)
class Layer:
    """One layer. Only the attributes meaningful for ``kind`` are set; the rest keep their defaults.

    Attributes:
        name: unique within the graph.
        kind: the layer kind.
        inputs: names of the layers feeding this one (several for ``add`` / ``concat``).
        input_shape: shape of the (first) input tensor, per sample, channels-last.
        output_shape: shape of the output tensor.
        precision: number formats.
        units: dense output features.
        filters: convolution output channels (pointwise filters for separable convolutions).
        kernel: convolution kernel per spatial dimension.
        stride: convolution or pooling stride per spatial dimension.
        padding: ``"valid"`` or ``"same"`` for convolutions and pooling.
        pool: pooling window per spatial dimension.
        scale: upsampling factor per spatial dimension.
        pad: zero-padding amounts ``(before, after)`` per spatial dimension, flattened.
        target_shape: output shape of a ``reshape``.
        depth_multiplier: depthwise channel multiplier.
        function: activation function (``kind == activation``).
        alpha: slope/scale parameter of leaky_relu / elu.
        axis: concatenation axis (negative counts from the end, channels-last).
        use_bias: whether the layer adds a bias.
        sparsity: fraction of weights that are exactly zero (pruning); hls4ml's Latency strategy drops
            their multipliers.
        table_size: entries of an activation lookup table.
        return_sequences: a recurrent layer outputs its state at every step (``(steps, units)``), not
            only the last one (``(units,)``).
    """

    name: str
    kind: LayerKind
    inputs: tuple[str, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    precision: LayerPrecision
    units: int | None = None
    filters: int | None = None
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    padding: str = "valid"
    pool: tuple[int, ...] = ()
    scale: tuple[int, ...] = ()
    pad: tuple[int, ...] = ()
    target_shape: tuple[int, ...] = ()
    depth_multiplier: int = 1
    function: Activation | None = None
    alpha: float = 0.0
    axis: int = -1
    use_bias: bool = True
    sparsity: float = 0.0
    table_size: int = DEFAULT_TABLE_SIZE
    return_sequences: bool = False
    input_shapes: tuple[tuple[int, ...], ...] = field(default=(), repr=False)

    @property
    def in_channels(self) -> int:
        return self.input_shape[-1] if self.input_shape else 0

    @property
    def n_outputs(self) -> int:
        """Number of output values per sample."""
        return _prod(self.output_shape)

    @property
    def n_inputs(self) -> int:
        """Number of input values per sample (first input)."""
        return _prod(self.input_shape)

    @property
    def weight_count(self) -> int:
        """Weights (without biases), including the zero ones."""
        return sum(n_in * n_out for n_in, n_out in self.mult_units())

    @property
    def bias_count(self) -> int:
        if not self.use_bias or not self.kind.has_weights:
            return 0
        return self.mult_units()[-1][1]

    @property
    def output_positions(self) -> int:
        """Spatial output positions (1 for dense): how often the multiplication unit runs per sample."""
        return _prod(self.output_shape[:-1]) if self.kind.spatial_dims else 1

    def mult_units(self) -> tuple[tuple[int, int], ...]:
        """The (n_in, n_out) matrix-vector products hls4ml builds for this layer, in order.

        Computed once per layer (the layer is frozen; cost models ask for this on every estimate).

        These are the sizes hls4ml's reuse-factor rule is applied to: a dense layer is one
        ``n_in x n_out`` product; a convolution's product runs once per output position with
        ``n_in = C_in * prod(kernel)`` and ``n_out = filters``; a depthwise convolution multiplies each
        channel by its own ``prod(kernel)`` weights (hls4ml 1.3 builds it with ``n_in = C_in *
        prod(kernel)`` and ``n_out = C_in * depth_multiplier`` but only the diagonal blocks are
        non-zero: we count those); a separable convolution is a depthwise then a pointwise product; a
        recurrent layer (LSTM, GRU) runs, once per time step, its kernel product ``features x gates *
        units`` and its recurrent product ``units x gates * units`` (hls4ml ``nnet_recurrent.h``
        ``mult_config1`` / ``mult_config2``).
        """
        units = self.__dict__.get("_mult_units")
        if units is None:
            units = self._compute_mult_units()
            object.__setattr__(self, "_mult_units", units)
        return units

    def _compute_mult_units(self) -> tuple[tuple[int, int], ...]:
        k = _prod(self.kernel)
        c_in = self.in_channels
        kind = self.kind
        if kind is LayerKind.DENSE:
            return ((self.n_inputs, int(self.units or 0)),)
        if kind in (LayerKind.CONV1D, LayerKind.CONV2D):
            return ((c_in * k, int(self.filters or 0)),)
        if kind in (LayerKind.DEPTHWISE_CONV1D, LayerKind.DEPTHWISE_CONV2D):
            return ((k, c_in * self.depth_multiplier),)
        if kind in (LayerKind.SEPARABLE_CONV1D, LayerKind.SEPARABLE_CONV2D):
            mid = c_in * self.depth_multiplier
            return ((k, mid), (mid, int(self.filters or 0)))
        if kind in RECURRENT_KINDS:
            units = int(self.units or 0)
            rows = RECURRENT_GATES[kind] * units
            return ((c_in, rows), (units, rows))
        return ()

    def reuse_units(self) -> tuple[tuple[int, int], ...]:
        """The units the layer's reuse factor is checked against: all of :meth:`mult_units`, except for a
        recurrent layer, whose recurrent product gets the reuse factor hls4ml derives for it (the
        closest legal value, ``recurrent_reuse_factor`` in ``init_lstm`` / ``init_gru`` of hls4ml
        v0.8.1-v1.3.0 ``vivado_backend.py``; see ``cost_models.analytical.recurrent``)."""
        units = self.mult_units()
        return units[:1] if self.kind in RECURRENT_KINDS else units

    @property
    def steps(self) -> int:
        """Time steps of a recurrent layer (its input's first dimension); 1 for every other kind."""
        return self.input_shape[0] if self.kind in RECURRENT_KINDS else 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; attributes at their defaults are left out."""
        from cost_models._ir_json import layer_to_dict  # imported here: the JSON form imports these records

        return layer_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Layer:
        from cost_models._ir_json import layer_from_dict

        return layer_from_dict(cls, data)


#: The tuple-valued attributes of :class:`Layer` (JSON lists).
TUPLE_FIELDS = ("inputs", "input_shape", "output_shape", "kernel", "stride", "pool", "scale", "pad", "target_shape")


def _prod(values: tuple[int, ...]) -> int:
    out = 1
    for v in values:
        out *= v
    return out


@dataclass(frozen=True)
class LayerGraph:
    """A network as a topologically ordered tuple of layers; the first layer is the input.

    Construction checks that names are unique and that every input names an earlier layer.
    """

    name: str
    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        if not self.layers or self.layers[0].kind is not LayerKind.INPUT:
            raise SpecError(f"graph {self.name!r}: expected the first layer to be the input layer")
        seen: set[str] = set()
        for layer in self.layers:
            if layer.name in seen:
                raise SpecError(f"graph {self.name!r}: layer name {layer.name!r} is used twice")
            for src in layer.inputs:
                if src not in seen:
                    raise ShapeError(
                        f"layer {layer.name!r}: input {src!r} is not an earlier layer (expected one of {sorted(seen)})"
                    )
            seen.add(layer.name)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def layer(self, name: str) -> Layer:
        """The layer called ``name``."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise SpecError(bad_value("layer name", name, "a layer of this graph", [x.name for x in self.layers]))

    def consumers(self, name: str) -> tuple[Layer, ...]:
        """The layers that take layer ``name``'s output as an input, in graph order."""
        return tuple(x for x in self.layers if name in x.inputs)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.layers[0].output_shape

    @property
    def output(self) -> Layer:
        return self.layers[-1]

    def weight_layers(self) -> tuple[Layer, ...]:
        """Layers with weights (where reuse factor and strategy matter)."""
        return tuple(x for x in self.layers if x.kind.has_weights)

    def to_dict(self) -> dict[str, Any]:
        from cost_models._ir_json import graph_to_dict

        return graph_to_dict(self)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerGraph:
        from cost_models._ir_json import graph_from_dict

        return graph_from_dict(cls, data)

    @classmethod
    def from_json(cls, text: str) -> LayerGraph:
        return cls.from_dict(json.loads(text))
