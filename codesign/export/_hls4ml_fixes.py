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


def install() -> None:
    """Wrap hls4ml's ONNX pooling handlers once per process (idempotent)."""
    from hls4ml.converters.onnx_to_hls import layer_handlers

    for op in _POOL_OPS:
        handler = layer_handlers.get(op)
        if handler is not None and not getattr(handler, "codesign_fixed", False):
            layer_handlers[op] = _fix_pool1d(handler)
