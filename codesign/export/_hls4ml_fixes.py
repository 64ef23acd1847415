"""Corrections to hls4ml 1.3's ONNX frontend, installed in the export worker before each conversion.

hls4ml 1.3.0's ONNX ``MaxPool``/``AveragePool`` handler (``hls4ml/converters/onnx/pooling.py``) reads a
1D pooling input as channels-first (``n_filt = shape[1]``, ``n_in = shape[2]``) although qonnx's
channels-last transform, which the handler itself demands, makes it ``[N, W, C]``; and it never sets
``pad_left`` / ``pad_right``, so every 1D pooling layer fails with ``Attribute "pad_left" ... not set``.
The 2D branch of the same handler reads the channels-last shape correctly. The wrapper below keeps
hls4ml's handler and only rewrites the 1D fields from the channels-last shape and the node's ``pads``
(ONNX: ``[begin, end]``), with the output width from the ONNX pooling formula. Every exported design is
still verified bit for bit by C simulation, so a wrong field would show as a mismatch, not pass silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["install"]

_POOL_OPS = ("MaxPool", "AveragePool")


def _fix_pool1d(handler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def parse(node: Any, input_names: Any, input_shapes: Any, graph: Any) -> dict[str, Any]:
        layer = handler(node, input_names, input_shapes, graph)
        if not layer.get("class_name", "").endswith("Pooling1D"):
            return layer
        width, channels = int(input_shapes[0][1]), int(input_shapes[0][2])  # channels-last [N, W, C]
        pads = list(layer.get("pads") or [0, 0])
        pool, stride = int(layer["pool_width"]), int(layer["stride_width"])
        dilation = int((layer.get("dilations") or [1])[0])
        layer.update(
            n_in=width,
            n_filt=channels,
            pad_left=int(pads[0]),
            pad_right=int(pads[1]),
            n_out=(width + int(pads[0]) + int(pads[1]) - ((pool - 1) * dilation + 1)) // stride + 1,
        )
        return layer

    parse.codesign_fixed = True  # type: ignore[attr-defined]
    return parse


def _parse_clip(node: Any, input_names: Any, input_shapes: Any, graph: Any) -> dict[str, Any]:
    """ONNX ``Clip(x, -1, 1)`` (torch's ``Hardtanh``) as hls4ml's ``HardActivation`` ``hard_tanh``, which
    computes ``2 * clip(slope * x + shift, 0, 1) - 1``: with slope = shift = 1/2 (exact in its default
    ``ap_ufixed<16,0>`` / ``ap_ufixed<2,0>`` types) that is ``clip(x, -1, 1)`` exactly."""
    from hls4ml.converters.onnx_to_hls import get_onnx_attribute

    bounds = [get_onnx_attribute(node, "min"), get_onnx_attribute(node, "max")]
    if bounds != [-1.0, 1.0]:
        raise ValueError(f"ONNX node {node.name!r}: Clip{tuple(bounds)} has no hls4ml layer (only Clip(-1, 1))")
    return {
        "name": node.name,
        "class_name": "HardActivation",
        "activation": "hard_tanh",
        "slope": 0.5,
        "shift": 0.5,
        "inputs": list(input_names[:1]),
        "outputs": list(node.output),
    }


def _parse_hard_sigmoid(node: Any, input_names: Any, input_shapes: Any, graph: Any) -> dict[str, Any]:
    """ONNX ``HardSigmoid(alpha, beta)`` as hls4ml's ``HardActivation`` ``hard_sigmoid``, which computes
    ``clip(slope * x + shift, 0, 1)`` (hls4ml 1.3's ONNX frontend has no handler; its Keras one builds the
    same layer). Exact when slope and shift fit its ``ap_ufixed<16,0>`` / ``ap_ufixed<2,0>`` types (the
    builder's dyadic slopes and 1/2); other values are refused rather than rounded."""
    from hls4ml.converters.onnx_to_hls import get_onnx_attribute

    slope, shift = get_onnx_attribute(node, "alpha", 0.2), get_onnx_attribute(node, "beta", 0.5)
    if slope * 2**16 != int(slope * 2**16) or not 0 < slope < 1 or shift != 0.5:
        raise ValueError(f"ONNX node {node.name!r}: HardSigmoid(alpha={slope}, beta={shift}) is not exact in hls4ml")
    return {
        "name": node.name,
        "class_name": "HardActivation",
        "activation": "hard_sigmoid",
        "slope": float(slope),
        "shift": float(shift),
        "inputs": list(input_names[:1]),
        "outputs": list(node.output),
    }


def clip_bounds_to_attributes(model: Any) -> int:
    """Move every ``Clip``'s constant bounds from its inputs to ``min``/``max`` attributes (ONNX Clip-6's
    form), deleting the initializers: hls4ml 1.3 turns every initializer into a ``Constant`` layer, and
    one that no layer consumes breaks its precision inference. Returns how many nodes changed."""
    from onnx import helper

    done = 0
    for node in model.graph.node:
        if node.op_type != "Clip" or len(node.input) != 3:
            continue
        values = [model.get_initializer(name) for name in node.input[1:]]
        if any(v is None for v in values):
            continue
        for name in list(node.input[1:]):
            model.graph.initializer.remove(next(i for i in model.graph.initializer if i.name == name))
        del node.input[1:]
        node.attribute.extend(helper.make_attribute(k, float(v)) for k, v in zip(("min", "max"), values))
        done += 1
    return done


def _fix_resize1d(handler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """hls4ml 1.3's ONNX ``Resize`` handler reads a 4D ``[N, H, W, C]`` shape only (``input_shapes[0][3]``);
    a 1D (channels-last ``[N, W, C]``) input gets its width and channels here instead."""

    def parse(node: Any, input_names: Any, input_shapes: Any, graph: Any) -> dict[str, Any]:
        if len(input_shapes[0]) != 3:
            return handler(node, input_names, input_shapes, graph)
        padded = [[*input_shapes[0], 1], *input_shapes[1:]]  # let the 2D reader run, then set the 1D fields
        layer = handler(node, input_names, padded, graph)
        width, channels = int(input_shapes[0][1]), int(input_shapes[0][2])
        layer.update(in_width=width, out_width=width, n_chan=channels, in_height=1, out_height=1)
        return layer

    parse.codesign_fixed = True  # type: ignore[attr-defined]
    return parse


def install() -> None:
    """Wrap hls4ml's ONNX pooling handlers, add ``Clip`` and ``HardSigmoid`` handlers, once per process (idempotent)."""
    from hls4ml.converters.onnx_to_hls import layer_handlers

    layer_handlers.setdefault("Clip", _parse_clip)
    layer_handlers.setdefault("HardSigmoid", _parse_hard_sigmoid)
    resize = layer_handlers.get("Resize")
    if resize is not None and not getattr(resize, "codesign_fixed", False):
        layer_handlers["Resize"] = _fix_resize1d(resize)
    for op in _POOL_OPS:
        handler = layer_handlers.get(op)
        if handler is not None and not getattr(handler, "codesign_fixed", False):
            layer_handlers[op] = _fix_pool1d(handler)
