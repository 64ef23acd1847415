"""The toolkit's own channels-last conversion for 1D graphs with a join (a residual add of 1D feature maps).

Why qonnx 1.0 cannot: its ``ConvertToChannelsLastAndClean`` tells a "to channels-first" Transpose from a
"to channels-last" one by the permutation alone, and for 3D tensors (``[N, C, W]``) both are ``[0, 2, 1]``.
Two of its passes then undo each other without end on a 1D residual block:

* ``MoveChanFirstDownstream`` moves a Transpose past an ``Add`` by inserting the inverse Transpose on the
  other input; in 4D that inverse (``[0, 2, 3, 1]``) is left alone, in 3D it is again ``[0, 2, 1]``, so the
  same pass moves it back past the ``Add`` (and so on: the pass reports a change every round);
* ``MoveChanLastUpstream`` moves every ``[0, 2, 1]``, those heading downstream included, back up through
  ``Relu``/``Quant``, so the outer repeat-until-unchanged loop never settles either.

This pass keeps qonnx's node conversion (``InsertChannelsLastDomainsAndTrafos``: channels-last Conv,
MaxPool, BatchNormalization, each between two Transposes) and its direction-free steps (cancel two
consecutive ``[0, 2, 1]``, fold a Transpose into a weight quantizer, move the input Transpose to the top),
then sinks every other Transpose downstream once, by rules that hold in either direction:

* past a unary elementwise node (``Relu``, a per-tensor ``Quant``, ...);
* past a fork, as one copy per consumer;
* past a binary elementwise node (``Add``, ``Sub``, ``Mul``) only when *every* data input arrives through
  a ``[0, 2, 1]`` Transpose: the node then reads the untransposed tensors and one Transpose follows it
  (no inverse Transpose is inserted, which is what loops in qonnx);
* two consecutive ``[0, 2, 1]`` cancel.

Every rule moves a Transpose strictly downstream, copies it at a fork or removes it, so the pass ends;
it is bounded anyway and raises, naming the node, rather than loop. The toolkit's Brevitas flatten
transposes to channels-last before flattening, so on the designs the builder makes the Transposes cancel
down to the input one. Every exported design is verified bit for bit by C simulation, so a wrong rewrite
shows as a mismatch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["convert_1d_to_channels_last", "needs_1d_conversion"]

_PERM_1D = [0, 2, 1]
#: Shape-preserving ops that act on every element alike (for a Quant: per-tensor parameters only).
_UNARY = {"Relu", "Quant", "Sigmoid", "Tanh", "LeakyRelu", "Selu", "Elu", "HardSigmoid", "Clip", "Identity"}
_BINARY = {"Add", "Sub", "Mul"}


def _dynamic_inputs(model: Any, node: Any) -> list[str]:
    return [name for name in node.input if name and model.get_initializer(name) is None]


def needs_1d_conversion(model: Any) -> bool:
    """True when a binary elementwise node joins two computed 3D tensors (qonnx's conversion loops there)."""
    for node in model.graph.node:
        inputs = _dynamic_inputs(model, node)
        joins = node.op_type in _BINARY and len(inputs) > 1
        if joins and all(len(model.get_tensor_shape(name) or []) == 3 for name in inputs):
            return True
    return False


def _is_1d_transpose(node: Any) -> bool:
    perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
    return node.op_type == "Transpose" and perm == _PERM_1D


def _scalar_parameters(model: Any, node: Any) -> bool:
    """A node's inputs after the data one are scalar constants (so it commutes with a Transpose)."""
    for name in node.input[1:]:
        value = model.get_initializer(name) if name else None
        if name and (value is None or value.size != 1):
            return False
    return True


def _swap_unary(model: Any, transpose: Any, node: Any) -> None:
    """``x -> T -> node -> y`` becomes ``x -> node -> T -> y``."""
    x, t_out, y = transpose.input[0], transpose.output[0], node.output[0]
    node.input[0], node.output[0] = x, t_out
    transpose.input[0], transpose.output[0] = t_out, y
    model.set_tensor_shape(t_out, model.get_tensor_shape(x))


def _copy_per_consumer(model: Any, transpose: Any, consumers: list[Any]) -> None:
    from onnx import helper

    for i, consumer in enumerate(consumers[1:], 1):
        out = f"{transpose.output[0]}_copy{i}"
        model.set_tensor_shape(out, model.get_tensor_shape(transpose.output[0]))
        copy = helper.make_node(
            "Transpose", [transpose.input[0]], [out], name=f"{transpose.name}_copy{i}", perm=_PERM_1D
        )
        model.graph.node.insert(list(model.graph.node).index(transpose) + 1, copy)
        consumer.input[:] = [out if name == transpose.output[0] else name for name in consumer.input]


def _through_join(model: Any, node: Any) -> bool:
    """Move the Transposes in front of a binary node behind it, when every data input has one."""
    from onnx import helper

    inputs = _dynamic_inputs(model, node)
    producers = [model.find_producer(name) for name in inputs]
    constants = [model.get_initializer(name) for name in node.input if name and name not in inputs]
    if len(set(inputs)) != len(inputs) or any(c.size != 1 for c in constants):
        return False
    if not all(
        p is not None and _is_1d_transpose(p) and len(model.find_consumers(p.output[0]) or []) == 1 for p in producers
    ):
        return False
    for name, producer in zip(inputs, producers):
        node.input[:] = [producer.input[0] if i == name else i for i in node.input]
        model.graph.node.remove(producer)
    out = node.output[0]
    moved = f"{out}_cl"
    node.output[0] = moved
    model.set_tensor_shape(moved, model.get_tensor_shape(producers[0].input[0]))
    after = helper.make_node("Transpose", [moved], [out], name=f"{node.name}_transpose", perm=_PERM_1D)
    model.graph.node.insert(list(model.graph.node).index(node) + 1, after)
    return True


def _cancel(model: Any, first: Any, second: Any) -> None:
    """``x -> T -> T -> y``: the readers of ``y`` read ``x``."""
    x, y = first.input[0], second.output[0]
    for consumer in model.find_consumers(y) or []:
        consumer.input[:] = [x if name == y else name for name in consumer.input]
    model.graph.node.remove(second)
    if not model.find_consumers(first.output[0]):
        model.graph.node.remove(first)


def _sink_one(model: Any) -> bool:
    """Apply the first applicable rule; False when none applies."""
    outputs = {o.name for o in model.graph.output}
    for transpose in [n for n in model.graph.node if _is_1d_transpose(n)]:
        if model.find_producer(transpose.input[0]) is None or transpose.output[0] in outputs:
            continue  # the input Transpose stays at the top (hls4ml reads it as the channels-last input)
        consumers = model.find_consumers(transpose.output[0]) or []
        if len(consumers) > 1:
            _copy_per_consumer(model, transpose, consumers)
            return True
        if len(consumers) != 1:
            continue
        node = consumers[0]
        if _is_1d_transpose(node) and node.output[0] not in outputs:
            _cancel(model, transpose, node)
            return True
        single_use = node.op_type in _UNARY and node.input[0] == transpose.output[0]
        if single_use and _scalar_parameters(model, node) and node.output[0] not in outputs:
            _swap_unary(model, transpose, node)
            return True
        if node.op_type in _BINARY and node.output[0] not in outputs and _through_join(model, node):
            return True
    return False


def convert_1d_to_channels_last(model: Any) -> Any:
    """The 1D replacement of qonnx's ``ConvertToChannelsLastAndClean`` (see the module docstring).

    Args:
        model: a cleaned qonnx ``ModelWrapper`` (shapes inferred).

    Returns:
        The converted ``ModelWrapper``.

    Raises:
        ExportError: the pass did not settle within its bound (naming the bound; not expected).
    """
    from qonnx.transformation.channels_last import (
        InsertChannelsLastDomainsAndTrafos,
        MoveChanLastUpstream,
        RemoveConsecutiveChanFirstAndChanLastTrafos,
    )
    from qonnx.transformation.fold_constants import FoldConstants
    from qonnx.transformation.general import SortGraph
    from qonnx.transformation.infer_shapes import InferShapes
    from qonnx.transformation.quant_constant_folding import FoldTransposeIntoQuantInit

    from hw_templates.errors import ExportError

    model = model.transform(InsertChannelsLastDomainsAndTrafos())
    model = model.transform(RemoveConsecutiveChanFirstAndChanLastTrafos())
    model = model.transform(MoveChanLastUpstream())  # every move goes up: ends; puts the input Transpose first
    model = model.transform(FoldTransposeIntoQuantInit())
    bound = 4 * len(model.graph.node) ** 2 + 16
    for _ in range(bound):
        if not _sink_one(model):
            break
    else:
        raise ExportError(f"1D channels-last conversion: Transposes still moving after {bound} steps")
    model = model.transform(SortGraph())
    model = model.transform(InferShapes())
    return model.transform(FoldConstants())
