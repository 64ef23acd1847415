"""Build a :class:`~cost_models.ir.LayerGraph` layer by layer: :class:`GraphBuilder` checks every layer's
type and inputs, names it, and infers its output shape (:mod:`cost_models._shapes`).
"""

from __future__ import annotations

from typing import Any

from cost_models._ir_types import TUPLE_FIELDS, Activation, Layer, LayerGraph, LayerPrecision
from cost_models._shapes import normalize_layer
from cost_models.kinds import LayerKind
from hw_templates.errors import ShapeError, SpecError, bad_value
from hw_templates.precision import FixedType

__all__ = ["GraphBuilder"]


class GraphBuilder:
    """Append layers one by one; shapes are inferred, names generated, inputs default to the last layer.

    Args:
        name: graph name.
        input_shape: per-sample input shape, channels-last.
        input_precision: precision of the input tensor.
    """

    def __init__(self, name: str, input_shape: tuple[int, ...], input_precision: FixedType) -> None:
        shape = tuple(int(s) for s in input_shape)
        if not shape or any(s < 1 for s in shape):
            raise ShapeError(bad_value("input_shape", list(input_shape), "a list of positive sizes, e.g. [16]"))
        self._name = name
        self._layers: list[Layer] = [
            Layer("input", LayerKind.INPUT, (), shape, shape, LayerPrecision(result=input_precision))
        ]
        self._counts: dict[str, int] = {}
        self._by_name: dict[str, Layer] = {"input": self._layers[0]}  # kept with _layers: add() is O(1)

    @property
    def last(self) -> Layer:
        return self._layers[-1]

    def get(self, name: str) -> Layer:
        """The layer added as ``name``."""
        if name in self._by_name:
            return self._by_name[name]
        raise ShapeError(bad_value("inputs", name, "an earlier layer", [x.name for x in self._layers]))

    def _new_name(self, kind: LayerKind) -> str:
        stem = kind.value
        n = self._counts.get(stem, 0)
        while True:
            n += 1
            candidate = f"{stem}{n}"
            if candidate not in self._by_name:
                self._counts[stem] = n
                return candidate

    def add(
        self,
        kind: str | LayerKind,
        *,
        name: str | None = None,
        inputs: tuple[str, ...] | list[str] | None = None,
        precision: LayerPrecision | None = None,
        **attrs: Any,
    ) -> Layer:
        """Append a layer and return it. ``attrs`` are :class:`Layer` attributes (units, kernel, ...).

        Without ``precision`` the layer computes at the result precision of its (first) input.
        """
        try:
            kind = LayerKind(kind)
        except ValueError:
            allowed = [k.value for k in LayerKind if k is not LayerKind.INPUT]
            raise SpecError(bad_value("layer type", kind, "a known layer type", allowed)) from None
        by_name = self._by_name
        srcs = tuple(inputs) if inputs else (self.last.name,)
        for src in srcs:
            if src not in by_name:
                raise ShapeError(bad_value(f"layer {name or kind.value!r} inputs", src, "an earlier layer", by_name))
        in_shapes = tuple(by_name[s].output_shape for s in srcs)
        layer_name = name or self._new_name(kind)
        if layer_name in by_name:
            raise SpecError(f"layer name {layer_name!r} is used twice; names must be unique")
        if "function" in attrs and attrs["function"] is not None:
            attrs["function"] = Activation(attrs["function"])
        for key in TUPLE_FIELDS[3:]:
            if key in attrs and attrs[key] is not None:
                attrs[key] = tuple(int(v) for v in attrs[key])
        draft = Layer(
            layer_name,
            kind,
            srcs,
            in_shapes[0],
            in_shapes[0],
            precision or LayerPrecision(result=by_name[srcs[0]].precision.result),
            input_shapes=in_shapes if len(in_shapes) > 1 else (),
            **attrs,
        )
        layer = normalize_layer(draft, in_shapes)
        self._layers.append(layer)
        by_name[layer.name] = layer
        return layer

    def build(self) -> LayerGraph:
        return LayerGraph(self._name, tuple(self._layers))
