"""Which Brevitas module each ONNX node came from, carried through qonnx's cleanup.

The export pairs cleaned QONNX nodes with the design's IR layers by order (the k-th weighted node is the
k-th weighted layer, likewise activations and pooling). qonnx's ``SortGraph`` (run by every
``ModelWrapper.transform``) re-sorts the graph level by level, so in a network with parallel branches of
different depth (a cell whose node reads the cell input while another chain is deeper) a shallow
branch's convolution moves ahead of a deeper one's, and the pairing failed with "the model does not
implement this layer graph". Brevitas' TorchScript export names every node after its module
(``/c0_n2/Conv``), and the toolkit's builder names modules after the IR layers, so each node's raw name
is written into its ``doc_string`` (an ONNX field no tool here reads; qonnx keeps it on the nodes it
rewrites in place) before the cleanup renames the nodes, and the pairing orders nodes by the IR position
of their module when every node of a kind names an IR layer. Otherwise (a user's own model, whose IR the
QONNX frontend names after the cleaned nodes) the graph order is used, as before. ``GemmToMatMul`` makes
a new ``MatMul`` node; :func:`carry_through_gemm_to_matmul` gives it the ``Gemm``'s mark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["carry_through_gemm_to_matmul", "in_layer_order", "mark_modules"]

_PREFIX = "codesign_onnx_name:"


def mark_modules(graph: Any) -> None:
    """Write every node's raw name into its ``doc_string`` (an ONNX ``GraphProto``, before any cleanup)."""
    for node in graph.node:
        node.doc_string = f"{_PREFIX}{node.name}"


def module_of(node: Any) -> str | None:
    """The Brevitas module a node came from (``/c0_n2/Conv`` -> ``c0_n2``), or None when unmarked."""
    text = node.doc_string
    if not text.startswith(_PREFIX):
        return None
    parts = text.removeprefix(_PREFIX).split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "" else None


def carry_through_gemm_to_matmul(model: Any, convert: Callable[[Any], Any]) -> Any:
    """Run ``convert`` (qonnx's ``GemmToMatMul``) and give each new ``MatMul`` its ``Gemm``'s mark (found by
    the data input, which the conversion keeps unless the ``Gemm`` transposes it)."""
    marks = {n.input[0]: n.doc_string for n in model.graph.node if n.op_type == "Gemm"}
    model = convert(model)
    for node in model.graph.node:
        if node.op_type == "MatMul" and not node.doc_string and node.input[0] in marks:
            node.doc_string = marks[node.input[0]]
    return model


def in_layer_order(items: Sequence[Any], layer_names: Sequence[str], key: Callable[[Any], Any] = lambda n: n) -> list:
    """``items`` (ONNX nodes, or tuples whose ``key`` is one) in the order of the IR layers their modules
    name, when every one names one of ``layer_names``; otherwise as given (graph order). Nodes of one
    module keep their graph order."""
    position = {name: i for i, name in enumerate(layer_names)}
    modules = [module_of(key(item)) for item in items]
    if any(m not in position for m in modules):
        return list(items)
    ranked = sorted(range(len(items)), key=lambda i: (position[modules[i]], i))
    return [items[i] for i in ranked]
