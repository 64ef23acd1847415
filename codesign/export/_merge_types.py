"""The design's result types for adds and concatenations, written into the hls4ml config.

hls4ml 1.3.0 infers a ``Merge`` (add) result as the exact sum of its inputs and a ``Concatenate`` result as
the narrowest type holding both inputs (``InferPrecisionTypes._infer_merge_precision`` /
``_infer_cat_precision``), and every pass-through layer after them (upsampling, zero padding, max pooling)
copies that type. A design spec's add or concat keeps the default ``ap_fixed<16,6>`` unless it states
another: the cost model prices that type, and an average pooling behind it divides in it, while hls4ml's
narrower inferred type would drop the fraction bits of the mean (measured: an add of two ``ufixed<6,2>``
maps inferred ``ufixed<7,3>``, then a 2-wide average pooling kept ``ufixed<7,3>``).

So each add/concat node gets the design's result type in the config, before hls4ml infers the layers
after it, when the trained model does not quantize the node's output (no Quant node follows it): the
Brevitas builder then proved the design's type holds the exact value, and the cast is value-preserving.
A node followed by a Quant keeps hls4ml's exact type; the Quant (a linear activation in hls4ml) rounds
as the trained model does.
"""

from __future__ import annotations

from typing import Any

from codesign.export._export_order import in_layer_order
from cost_models.ir import LayerGraph, LayerKind
from hw_templates.precision import FixedType

__all__ = ["merge_result_types"]

_MERGE_OPS = {"Add": LayerKind.ADD, "Concat": LayerKind.CONCAT}


def _is_constant(model: Any, tensor: str) -> bool:
    """An initializer, or a quantized one (a Dense/Conv bias added by its own Add node)."""
    if model.get_initializer(tensor) is not None:
        return True
    source = model.find_producer(tensor)
    return source is not None and source.op_type == "Quant" and model.get_initializer(source.input[0]) is not None


def merge_result_types(model: Any, graph: LayerGraph) -> dict[str, FixedType]:
    """ONNX node name -> the design's result type, for add/concat nodes whose output is not quantized.

    Nodes pair with the IR's add/concat layers in layer order; when the counts differ nothing is set
    (hls4ml's inferred types stay, and the read-back of the layers after them reports any difference).
    """
    out: dict[str, FixedType] = {}
    for op, kind in _MERGE_OPS.items():
        layers = [x for x in graph.layers if x.kind is kind]
        nodes = [n for n in model.graph.node if n.op_type == op and not any(_is_constant(model, t) for t in n.input)]
        nodes = in_layer_order(nodes, [x.name for x in layers])
        if len(nodes) != len(layers):
            continue
        for node, layer in zip(nodes, layers):
            consumers = model.find_consumers(node.output[0]) or []
            if not any(c.op_type == "Quant" for c in consumers):
                out[node.name] = layer.precision.result
    return out
