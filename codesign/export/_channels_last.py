"""The toolkit's own channels-last pass for what qonnx 1.0's ``ConvertToChannelsLastAndClean`` leaves
channels-first: global pooling and average pooling.

qonnx 1.0 has channels-last versions of Conv, MaxPool and BatchNormalization only. A
``GlobalAveragePool`` / ``GlobalMaxPool`` (what torch's ``adaptive_avg_pool2d(x, 1)`` /
``adaptive_max_pool2d(x, 1)`` export) therefore stays behind a Transpose back to channels-first, and
hls4ml 1.3's ONNX frontend, which reads every pooling input as channels-last, would average the wrong
values. The pass replaces ``Transpose(NHWC -> NCHW) -> Global*Pool`` by one channels-last
``AveragePool`` / ``MaxPool`` whose window is the whole feature map (``kernel_shape = strides = [H, W]``,
no padding): the same values, in the node form hls4ml translates (``AveragePooling2D`` /
``MaxPooling1D`` ... over one output position). The 1D form goes through the 1D pooling fix in
:mod:`codesign.export._hls4ml_fixes`. Every exported design is checked by C simulation, so a wrong
rewrite would show as a mismatch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["average_pools_as_max", "global_pool_to_channels_last", "restore_average", "sandwiched_to_channels_last"]

_GLOBAL = {"GlobalAveragePool": "AveragePool", "GlobalMaxPool": "MaxPool"}
_DOMAIN = "qonnx.custom_op.channels_last"
_MARK = "codesign_average_pool"


def _to_channels_first(perm: list[int]) -> bool:
    """True for the transpose from channels-last ``[N, *spatial, C]`` to channels-first ``[N, C, *spatial]``."""
    rank = len(perm)
    return perm == [0, rank - 1, *range(1, rank - 1)]


def global_pool_to_channels_last(model: Any) -> int:
    """Rewrite every ``Transpose -> Global*Pool`` pair in place (a qonnx ``ModelWrapper``); returns how many."""
    from onnx import helper

    graph = model.graph
    done = 0
    for node in list(graph.node):
        if node.op_type not in _GLOBAL:
            continue
        source = model.find_producer(node.input[0])
        perm = next((list(a.ints) for a in source.attribute if a.name == "perm"), []) if source is not None else []
        if source is None or source.op_type != "Transpose" or not _to_channels_first(perm):
            continue
        shape = model.get_tensor_shape(source.input[0])  # [N, *spatial, C]
        spatial = [int(s) for s in shape[1:-1]]
        out = node.output[0] + "_cl"
        pool = helper.make_node(
            _GLOBAL[node.op_type],
            [source.input[0]],
            [out],
            name=node.name,
            domain=_DOMAIN,
            kernel_shape=spatial,
            strides=spatial,
            pads=[0] * (2 * len(spatial)),
        )
        pool.doc_string = node.doc_string  # which module it came from (codesign.export._export_order)
        graph.node.insert(list(graph.node).index(node), pool)
        model.set_tensor_shape(out, [int(shape[0]), *([1] * len(spatial)), int(shape[-1])])
        for consumer in model.find_consumers(node.output[0]) or []:
            for i, name in enumerate(consumer.input):
                if name == node.output[0]:
                    consumer.input[i] = out
        graph.node.remove(node)
        if not model.find_consumers(source.output[0]):
            graph.node.remove(source)
        done += 1
    return done


def average_pools_as_max(model: Any) -> int:
    """Relabel every ``AveragePool`` as a marked ``MaxPool`` (before qonnx's channels-last conversion,
    which moves MaxPool, a window op with the same shape rule and attributes, to channels-last but leaves
    AveragePool channels-first; qonnx renames nodes, so the mark is an attribute); returns how many."""
    from onnx import helper

    done = 0
    for node in model.graph.node:
        if node.op_type == "AveragePool":
            for attr in [a for a in node.attribute if a.name == "count_include_pad"]:
                node.attribute.remove(attr)  # no padding here (the builder pools 'valid' only)
            node.attribute.append(helper.make_attribute(_MARK, 1))
            node.op_type = "MaxPool"
            done += 1
    return done


def restore_average(model: Any, expected: int) -> None:
    """Turn the marked pools back into (now channels-last) ``AveragePool`` nodes."""
    from hw_templates.errors import ExportError

    done = 0
    for node in model.graph.node:
        marks = [a for a in node.attribute if a.name == _MARK]
        if marks and node.op_type == "MaxPool":
            node.attribute.remove(marks[0])
            node.op_type = "AveragePool"
            done += 1
    if done != expected:
        raise ExportError(f"{expected - done} average pooling node(s) lost in qonnx's channels-last conversion")


_SANDWICHED = ("Pad", "Resize")


def _to_channels_last(perm: list[int]) -> bool:
    rank = len(perm)
    return perm == [0, *range(2, rank), 1]


def _perm(node: Any) -> list[int]:
    return next((list(a.ints) for a in node.attribute if a.name == "perm"), [])


def sandwiched_to_channels_last(model: Any) -> int:
    """Move every ``Pad``/``Resize`` that qonnx 1.0 leaves channels-first behind a ``Transpose(to
    channels-first)`` to channels-last: the node reads the transpose's input, its pads or scales permuted
    to ``[N, *spatial, C]`` order, and the transpose follows it instead (or, where a ``Transpose(to
    channels-last)`` followed, both go). A ``Resize``'s empty RoI becomes an initializer, as hls4ml's
    handler needs (it reads every input's shape). Returns how many nodes moved."""
    done = 0
    for node in [n for n in model.graph.node if n.op_type in _SANDWICHED]:
        before = model.find_producer(node.input[0])
        if before is None or before.op_type != "Transpose" or not _to_channels_first(_perm(before)):
            continue
        if len(model.find_consumers(before.output[0]) or []) != 1:
            continue
        rank = len(_perm(before))
        _permute_parameters(model, node, [0, *range(2, rank), 1])
        after = model.find_consumers(node.output[0]) or []
        node.input[0] = before.input[0]
        model.graph.node.remove(before)
        if len(after) == 1 and after[0].op_type == "Transpose" and _to_channels_last(_perm(after[0])):
            node.output[0] = after[0].output[0]
            model.graph.node.remove(after[0])
        else:  # the consumers read channels-first: put the transpose after the node
            _transpose_after(model, node, _perm(before))
        done += 1
    return done


def _permute_parameters(model: Any, node: Any, order: list[int]) -> None:
    """A Pad's pads / a Resize's scales from channels-first to channels-last axis order."""
    import numpy as np

    if node.op_type == "Pad":
        pads = model.get_initializer(node.input[1])
        rank = len(order)
        model.set_initializer(node.input[1], np.array([pads[i] for i in order] + [pads[rank + i] for i in order]))
        return
    scales = model.get_initializer(node.input[2])
    model.set_initializer(node.input[2], np.array([scales[i] for i in order], dtype=scales.dtype))
    if not node.input[1]:
        node.input[1] = f"{node.name}_roi"
        # one element, not none: hls4ml 1.3 tests the RoI constant's truth value (an empty array raises);
        # ONNX uses the RoI only in 'tf_crop_and_resize' mode
        model.set_initializer(node.input[1], np.zeros(1, dtype=np.float32))


def _transpose_after(model: Any, node: Any, perm: list[int]) -> None:
    from onnx import helper

    original = node.output[0]
    shape = model.get_tensor_shape(original)  # channels-first
    moved = original + "_cl"
    node.output[0] = moved
    model.set_tensor_shape(moved, [shape[0], *shape[2:], shape[1]])
    transpose = helper.make_node("Transpose", [moved], [original], name=node.name + "_to_cf", perm=perm)
    model.graph.node.insert(list(model.graph.node).index(node) + 1, transpose)
