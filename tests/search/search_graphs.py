"""Small layer graphs and hardware spaces shared by the search tests."""

from __future__ import annotations

from cost_models import GraphBuilder
from cost_models.ir import LayerGraph, LayerPrecision
from hw_templates.precision import FixedType


def mlp_graph(widths: tuple[int, ...] = (16, 10), n_in: int = 16, weight_bits: int = 4) -> LayerGraph:
    """A quantized MLP: dense layers with ReLU between them."""
    b = GraphBuilder("mlp", (n_in,), FixedType(8, 3))
    for i, w in enumerate(widths):
        p = LayerPrecision(result=FixedType(16, 6), weight=FixedType(weight_bits, 1), bias=FixedType(8, 3))
        b.add("dense", units=w, precision=p)
        if i + 1 < len(widths):
            b.add("activation", function="relu")
    return b.build()


def branched_graph() -> LayerGraph:
    """A residual block: dense -> relu -> dense, added to the block's input, then a classifier."""
    b = GraphBuilder("res", (8,), FixedType(8, 3))
    p = LayerPrecision(result=FixedType(16, 6), weight=FixedType(4, 1), bias=FixedType(8, 3))
    first = b.add("dense", units=8, precision=p)
    b.add("activation", function="relu")
    b.add("dense", units=8, precision=p)
    b.add("add", inputs=[first.name, b.last.name])
    b.add("dense", units=4, precision=p)
    return b.build()


def cnn_graph() -> LayerGraph:
    b = GraphBuilder("cnn", (8, 8, 1), FixedType(8, 3))
    p = LayerPrecision(result=FixedType(16, 6), weight=FixedType(4, 1), bias=FixedType(8, 3))
    b.add("conv2d", filters=4, kernel=(3, 3), precision=p)
    b.add("activation", function="relu")
    b.add("flatten")
    b.add("dense", units=10, precision=p)
    return b.build()
