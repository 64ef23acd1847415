"""The JSON form of the IR: a :class:`~cost_models.ir.LayerGraph` round-trips through
``to_dict``/``from_dict`` (and ``to_json``/``from_json``) without loss. A layer's attributes at their
defaults are left out; ``ir_version`` (:data:`IR_VERSION`) is checked on reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from enum import Enum
from typing import Any

from cost_models._ir_types import TUPLE_FIELDS, Activation, Layer, LayerGraph, LayerPrecision
from cost_models.kinds import LayerKind
from hw_templates.errors import SpecError, bad_value

__all__ = ["IR_VERSION", "graph_from_dict", "graph_to_dict", "layer_from_dict", "layer_to_dict"]

IR_VERSION = 1


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    """JSON-ready dict; attributes at their defaults are left out."""
    out: dict[str, Any] = {}
    for f in fields(layer):
        value = getattr(layer, f.name)
        if f.name in ("name", "kind", "inputs", "input_shape", "output_shape", "precision"):
            pass
        elif value == f.default:
            continue
        out[f.name] = _to_json_value(value)
    return out


def layer_from_dict(cls: type[Layer], data: Mapping[str, Any]) -> Layer:
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise SpecError(bad_value("layer field", sorted(unknown)[0], "a Layer attribute", sorted(known)))
    kwargs = dict(data)
    kwargs["kind"] = LayerKind(kwargs["kind"])
    kwargs["precision"] = LayerPrecision.from_dict(kwargs["precision"])
    if kwargs.get("function") is not None:
        kwargs["function"] = Activation(kwargs["function"])
    for key in TUPLE_FIELDS:
        if key in kwargs:
            kwargs[key] = tuple(kwargs[key])
    if "input_shapes" in kwargs:
        kwargs["input_shapes"] = tuple(tuple(s) for s in kwargs["input_shapes"])
    return cls(**kwargs)


def _to_json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, LayerPrecision):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_to_json_value(v) for v in value]
    return value


def graph_to_dict(graph: LayerGraph) -> dict[str, Any]:
    return {"ir_version": IR_VERSION, "name": graph.name, "layers": [x.to_dict() for x in graph.layers]}


def graph_from_dict(cls: type[LayerGraph], data: Mapping[str, Any]) -> LayerGraph:
    version = data.get("ir_version", IR_VERSION)
    if version != IR_VERSION:
        raise SpecError(bad_value("ir_version", version, f"{IR_VERSION}"))
    return cls(str(data["name"]), tuple(Layer.from_dict(x) for x in data["layers"]))
