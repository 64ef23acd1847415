"""The layer-graph IR: the one typed description of a network that every cost model reads.

A :class:`LayerGraph` is a frozen, topologically ordered tuple of :class:`Layer` records. Shapes are
per sample (no batch dimension) and channels-last, as in hls4ml: Conv1D tensors are ``(width,
channels)``, Conv2D tensors ``(height, width, channels)``. Each layer carries its own precisions
(:class:`LayerPrecision`), so mixed-precision designs need no side tables. Skip connections are
expressed by ``inputs`` naming earlier layers (``add`` / ``concat``).

Build graphs with :class:`GraphBuilder`, which infers every output shape and names layers; a graph
round-trips through JSON (``to_json`` / ``from_json``) without loss.

The records live in :mod:`cost_models._ir_types`, their JSON form in :mod:`cost_models._ir_json` and the
builder in :mod:`cost_models._graph_builder`; import them from here.

Example:
    >>> from hw_templates.precision import FixedType
    >>> b = GraphBuilder("mlp", input_shape=(16,), input_precision=FixedType(16, 6))
    >>> _ = b.add("dense", units=64)
    >>> _ = b.add("activation", function="relu")
    >>> b.build().layers[-1].output_shape
    (64,)
"""

from __future__ import annotations

from cost_models._graph_builder import GraphBuilder
from cost_models._ir_json import IR_VERSION
from cost_models._ir_types import DEFAULT_TABLE_SIZE, SOFTMAX_TABLE_TYPE, Activation, Layer, LayerGraph, LayerPrecision
from cost_models.kinds import LayerKind

__all__ = [
    "DEFAULT_TABLE_SIZE",
    "IR_VERSION",
    "SOFTMAX_TABLE_TYPE",
    "Activation",
    "GraphBuilder",
    "Layer",
    "LayerGraph",
    "LayerKind",
    "LayerPrecision",
]
