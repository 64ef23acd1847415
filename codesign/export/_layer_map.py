"""Which cleaned-QONNX node implements which IR layer.

hls4ml names its layers after the cleaned ONNX nodes (``MatMul_0`` becomes ``Dense_MatMul_0``), so the
export maps those nodes back to the design's IR layers: the k-th weighted node (MatMul with a weight,
Conv) is the k-th weighted IR layer, likewise for activations and pooling, and the weight shapes are
checked so a wrong pairing fails instead of configuring the wrong layer.

Re-exported by :mod:`codesign.export._qonnx`. ``model`` is a qonnx ``ModelWrapper`` throughout.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from codesign.export._export_order import in_layer_order
from cost_models.ir import Activation, LayerGraph, LayerKind
from hw_templates.errors import ExportError

__all__ = ["LayerMap", "map_layers"]

logger = logging.getLogger(__name__)

_ACTIVATION_OPS = {
    "Relu": Activation.RELU,
    "Sigmoid": Activation.SIGMOID,
    "Tanh": Activation.TANH,
    "Softmax": Activation.SOFTMAX,
    "LeakyRelu": Activation.LEAKY_RELU,
    "Elu": Activation.ELU,
    "Selu": Activation.SELU,
    "HardSigmoid": Activation.HARD_SIGMOID,
    "Clip": Activation.HARD_TANH,  # torch's Hardtanh; translated by codesign.export._hls4ml_fixes
    "Softplus": Activation.SOFTPLUS,
    "Softsign": Activation.SOFTSIGN,
}
_POOL_OPS = {"MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool"}
_POOL_KINDS = {k for k in LayerKind if "pool" in k.value}


@dataclass(frozen=True)
class LayerMap:
    """Which cleaned-QONNX node implements which IR layer.

    Attributes:
        onnx_to_ir: ONNX node name -> IR layer name (weighted layers always; activations and pooling
            when the counts agree).
    """

    onnx_to_ir: Mapping[str, str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "onnx_to_ir", MappingProxyType(dict(self.onnx_to_ir)))

    def ir_name(self, hls_name: str) -> str | None:
        """The IR layer behind an hls4ml layer (hls4ml names it ``<node>`` or ``<Class>_<node>``)."""
        if hls_name in self.onnx_to_ir:
            return self.onnx_to_ir[hls_name]
        _, _, rest = hls_name.partition("_")
        return self.onnx_to_ir.get(rest)

    def nodes_of(self, ir_name: str) -> tuple[str, ...]:
        """The ONNX nodes that implement IR layer ``ir_name`` (empty when it is unmapped)."""
        return tuple(node for node, ir in self.onnx_to_ir.items() if ir == ir_name)


def _weight_shape(model: Any, node: Any) -> tuple[int, ...] | None:
    if len(node.input) < 2:
        return None
    tensor = node.input[1]
    source = model.find_producer(tensor)
    if source is not None and source.op_type == "Quant":
        tensor = source.input[0]
    value = model.get_initializer(tensor)
    return None if value is None else tuple(int(s) for s in value.shape)


def _weighted_nodes(model: Any) -> list[tuple[Any, tuple[int, ...]]]:
    out = []
    for node in model.graph.node:
        if node.op_type in ("MatMul", "Conv", "Gemm"):
            shape = _weight_shape(model, node)
            if shape is not None:
                out.append((node, shape))
    return out


def _unit_shapes(layer: Any) -> list[tuple[int, int]]:
    """(n_in, n_out) per ONNX node of an IR layer (a separable convolution exports two)."""
    return [(n_in, n_out) for n_in, n_out in layer.mult_units()]


def _node_unit(node: Any, shape: tuple[int, ...]) -> tuple[int, int]:
    if node.op_type == "Conv":
        groups = next((int(a.i) for a in node.attribute if a.name == "group"), 1)
        # ONNX weights are [C_out, C_in / group, *kernel]; qonnx's channels-last Conv has [C_out, *kernel,
        # C_in / group].
        if node.domain.endswith("channels_last"):
            kernel, per_group = math.prod(shape[1:-1]), shape[-1]
        else:
            kernel, per_group = math.prod(shape[2:]), shape[1]
        if groups > 1:  # depthwise: hls4ml counts one kernel per channel (see LayerKind.mult_units)
            return kernel, shape[0]
        return per_group * kernel, shape[0]
    return shape[0], shape[1]


def _map_weighted(model: Any, graph: LayerGraph) -> dict[str, str]:
    names = [x.name for x in graph.weight_layers()]
    nodes = in_layer_order(_weighted_nodes(model), names, key=lambda item: item[0])
    slots = [(layer, unit) for layer in graph.weight_layers() for unit in _unit_shapes(layer)]
    if len(nodes) != len(slots):
        found = ", ".join(f"{n.name}{list(s)}" for n, s in nodes) or "none"
        raise ExportError(
            f"design {graph.name!r}: expected {len(slots)} weighted ONNX nodes for the IR layers "
            f"{[x.name for x in graph.weight_layers()]}, the QONNX export has {len(nodes)} ({found}); "
            "the model does not implement this layer graph"
        )
    mapping = {}
    for (node, shape), (layer, unit) in zip(nodes, slots):
        if _node_unit(node, shape) != unit:
            raise ExportError(
                f"layer {layer.name!r}: expected a {unit[0]}x{unit[1]} weight matrix, ONNX node {node.name} has "
                f"weights of shape {list(shape)}; the model does not implement this layer graph"
            )
        mapping[node.name] = layer.name
    return mapping


def _map_in_order(model: Any, graph: LayerGraph, ops: set[str], is_ir: Any, what: str) -> dict[str, str]:
    layers = [x for x in graph.layers if is_ir(x)]
    nodes = in_layer_order([n for n in model.graph.node if n.op_type in ops], [x.name for x in layers])
    if len(nodes) != len(layers):
        logger.debug("%s: %d ONNX nodes vs %d IR layers; left unmapped", what, len(nodes), len(layers))
        return {}
    return {n.name: x.name for n, x in zip(nodes, layers)}


def map_layers(model: Any, graph: LayerGraph) -> LayerMap:
    """Pair the cleaned QONNX nodes with the IR layers (weighted layers must pair exactly).

    Raises:
        ExportError: the weighted nodes do not match the IR's weighted layers in number or shape.
    """
    mapping = {model.graph.input[0].name: graph.layers[0].name}
    mapping.update(_map_weighted(model, graph))
    mapping.update(
        _map_in_order(
            model,
            graph,
            set(_ACTIVATION_OPS),
            lambda x: x.kind is LayerKind.ACTIVATION and x.function is not Activation.LINEAR,
            "activations",
        )
    )
    mapping.update(_map_in_order(model, graph, _POOL_OPS, lambda x: x.kind in _POOL_KINDS, "pooling"))
    return LayerMap(mapping)
