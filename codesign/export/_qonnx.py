"""Brevitas -> QONNX: export, the cleanup hls4ml needs, and the facts read off the cleaned graph.

The recipe (``../shared/STACK.md``, measured with brevitas 0.13.4, qonnx 1.0, hls4ml 1.3.0): Brevitas
``export_qonnx(..., dynamo=False)`` (the TorchScript exporter: ~0.2 s, quiet; the dynamo one takes 3-8
s), then qonnx ``cleanup_model`` -> ``ConvertToChannelsLastAndClean`` -> ``GemmToMatMul`` ->
``cleanup_model``. Which cleaned node implements which IR layer is :mod:`codesign.export._layer_map`'s
(re-exported here).

Only torch-free parts (onnx, qonnx) run at import; torch/brevitas are imported by :func:`export_qonnx`.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from codesign.export._layer_map import LayerMap, map_layers
from cost_models.ir import Activation, LayerGraph, LayerKind
from cost_models.kinds import RECURRENT_NOT_BUILT, KindCoverage
from hw_templates.errors import ExportError, UnsupportedLayerError, first_line
from hw_templates.precision import FixedType

__all__ = [
    "KIND_COVERAGE",
    "REFUSED_FUNCTIONS",
    "LayerMap",
    "check_supported_ops",
    "check_translatable",
    "clean_qonnx",
    "export_qonnx",
    "input_precision",
    "map_layers",
]

logger = logging.getLogger(__name__)


def export_qonnx(model: Any, input_shape: tuple[int, ...], path: Path) -> Path:
    """Export a Brevitas module to a QONNX file (TorchScript exporter, batch of one).

    Args:
        model: the trained Brevitas ``nn.Module`` (put in eval mode here).
        input_shape: one sample's shape in the model's own layout (torch: channels first).
        path: where to write the ``.onnx`` file.

    Raises:
        ExportError: Brevitas could not export the model (message names the cause).
    """
    import torch
    from brevitas.export import export_qonnx as brevitas_export

    model.eval()
    sample = torch.zeros((1, *input_shape), dtype=torch.float32)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            brevitas_export(model, sample, str(path), dynamo=False)
    except (RuntimeError, TypeError, ValueError, AttributeError) as err:
        raise ExportError(f"Brevitas QONNX export failed: {first_line(err, type(err).__name__)}") from err
    return path


def clean_qonnx(raw_path: Path, clean_path: Path) -> Any:
    """qonnx cleanup, channels-last conversion and Gemm-to-MatMul; returns the cleaned ModelWrapper.

    Raises:
        ExportError: a Conv node pads with ``auto_pad`` SAME and a stride other than 1 (node named), or the
            channels-last conversion loses a pooling node or does not settle.
    """
    import onnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model

    from codesign.export._channels_last import (
        average_pools_as_max,
        global_pool_to_channels_last,
        restore_average,
        sandwiched_to_channels_last,
    )
    from codesign.export._channels_last_1d import convert_1d_to_channels_last, needs_1d_conversion
    from codesign.export._export_order import carry_through_gemm_to_matmul, mark_modules
    from codesign.export._hls4ml_fixes import clip_bounds_to_attributes

    raw = onnx.load(str(raw_path))
    mark_modules(raw.graph)  # before the cleanup renames nodes and re-sorts branches (see _export_order)
    _fill_conv_defaults(raw)
    with warnings.catch_warnings():
        # GemmToMatMul warns that it was written for Gemm opset 9; the converted graph is checked anyway.
        warnings.simplefilter("ignore")
        model = cleanup_model(ModelWrapper(raw))
        averages = average_pools_as_max(model)  # qonnx 1.0 converts MaxPool to channels-last, not AveragePool
        if needs_1d_conversion(model):  # a 1D residual add: qonnx's conversion never settles on it
            model = convert_1d_to_channels_last(model)
        else:
            model = model.transform(ConvertToChannelsLastAndClean())
        model = carry_through_gemm_to_matmul(model, lambda m: m.transform(GemmToMatMul()))
        model = cleanup_model(model)
    restore_average(model, averages)  # after qonnx's passes: qonnx has no channels-last AveragePool op
    clip_bounds_to_attributes(model)  # hard_tanh: the form codesign.export._hls4ml_fixes translates
    global_pool_to_channels_last(model)  # likewise
    sandwiched_to_channels_last(model)  # zero padding, upsampling
    model.save(str(clean_path))
    return model


def _explicit_pads(node: Any, attrs: dict[str, Any]) -> list[int]:
    """ONNX ``auto_pad`` as explicit ``pads`` (``[begin..., end...]``); SAME needs stride 1 here."""
    kernel = list(attrs["kernel_shape"].ints)
    mode = attrs["auto_pad"].s.decode() if "auto_pad" in attrs else "NOTSET"
    if mode in ("NOTSET", "VALID"):
        return [0] * (2 * len(kernel))
    strides = list(attrs["strides"].ints) if "strides" in attrs else [1] * len(kernel)
    dilations = list(attrs["dilations"].ints) if "dilations" in attrs else [1] * len(kernel)
    if any(s != 1 for s in strides):
        raise ExportError(f"ONNX node {node.name!r}: auto_pad {mode} with strides {strides} is not supported")
    totals = [d * (k - 1) for k, d in zip(kernel, dilations)]
    first = [t // 2 if mode == "SAME_UPPER" else t - t // 2 for t in totals]
    return first + [t - f for t, f in zip(totals, first)]


def _fill_conv_defaults(model: Any) -> None:
    """Replace ``auto_pad`` by explicit ``pads`` on Conv nodes.

    torch exports ``padding="valid"``/``"same"`` as ``auto_pad``; qonnx 1.0's channels-last Conv reads
    ``pads`` and fails without it.
    """
    from onnx import helper

    for node in model.graph.node:
        attrs = {a.name: a for a in node.attribute}
        if node.op_type != "Conv" or "pads" in attrs or "kernel_shape" not in attrs:
            continue
        pads = _explicit_pads(node, attrs)
        if "auto_pad" in attrs:
            node.attribute.remove(attrs["auto_pad"])
        node.attribute.append(helper.make_attribute("pads", pads))


def _quant_params(model: Any, node: Any) -> tuple[float, float, int, dict[str, int]]:
    scale = model.get_initializer(node.input[1])
    zero = model.get_initializer(node.input[2])
    bits = model.get_initializer(node.input[3])
    attrs = {a.name: int(a.i) for a in node.attribute}
    if scale is None or zero is None or bits is None or np.size(scale) != 1:
        raise ExportError(f"quantizer {node.name}: expected constant per-tensor scale, zero point and bit width")
    return float(np.ravel(scale)[0]), float(np.ravel(zero)[0]), int(np.ravel(bits)[0]), attrs


def _power_of_two(scale: float) -> int | None:
    exponent = round(math.log2(scale)) if scale > 0 else None
    return exponent if exponent is not None and 2.0**exponent == scale else None


def input_precision(model: Any) -> FixedType:
    """The fixed-point type of the network input, read from the input quantizer.

    The C model must quantize its input exactly as the Brevitas input quantizer does: a ``W``-bit
    quantizer with scale ``2^k`` is ``fixed<W, W+k, RND_CONV, SAT>`` (``SAT_SYM`` for a narrow range).

    Raises:
        ExportError: no input quantizer, or one that hls4ml cannot reproduce exactly (non power-of-two
            scale, non-zero zero point, a rounding mode other than ROUND).
    """
    name = model.graph.input[0].name
    node = next((n for n in model.graph.node if name in n.input), None)
    while node is not None and node.op_type == "Transpose":
        node = next((n for n in model.graph.node if node.output[0] in n.input), None)
    if node is None or node.op_type != "Quant":
        found = node.op_type if node is not None else "nothing"
        raise ExportError(
            f"model input: expected a Brevitas input quantizer (QuantIdentity) first, found {found}; "
            "hls4ml can only be bit-exact when the input precision equals the input quantizer"
        )
    scale, zero, bits, attrs = _quant_params(model, node)
    exponent = _power_of_two(scale)
    if exponent is None or zero != 0:
        raise ExportError(
            f"input quantizer: expected a power-of-two scale and zero point 0, got scale {scale:g}, zero point "
            f"{zero:g}; use a Brevitas *FixedPoint quantizer"
        )
    signed = bool(attrs.get("signed", 1))
    saturation = "SAT_SYM" if attrs.get("narrow", 0) else "SAT"
    mode = next((a.s.decode() for a in node.attribute if a.name == "rounding_mode"), "ROUND")
    if mode not in _ROUNDING:
        raise ExportError(f"input quantizer: rounding mode {mode} has no HLS equivalent; expected ROUND or FLOOR")
    return FixedType(bits, bits + exponent, signed, rounding=_ROUNDING[mode], saturation=saturation)


#: QONNX Quant ``rounding_mode`` -> HLS rounding (torch's round is half-to-even, as RND_CONV).
_ROUNDING = {"ROUND": "RND_CONV", "FLOOR": "TRN"}


_NOT_BUILT = "the Brevitas model builder does not build it (see codesign.models.builder.UNSUPPORTED)"
#: Layer kinds the QONNX -> hls4ml 1.3 path does not translate, and why.
_NOT_TRANSLATED = {
    LayerKind.SEPARABLE_CONV1D: _NOT_BUILT,
    LayerKind.SEPARABLE_CONV2D: _NOT_BUILT,
    LayerKind.RESHAPE: _NOT_BUILT,
    LayerKind.LSTM: RECURRENT_NOT_BUILT,
    LayerKind.GRU: RECURRENT_NOT_BUILT,
}
KIND_COVERAGE = KindCoverage(
    "QONNX -> hls4ml export", frozenset(k for k in LayerKind if k not in _NOT_TRANSLATED), _NOT_TRANSLATED
)


#: Activation functions the export refuses, and why (none today: the builder refuses what it cannot build,
#: before training; kept for functions hls4ml cannot build correctly).
REFUSED_FUNCTIONS: dict[Activation, str] = {}


def check_translatable(graph: LayerGraph) -> None:
    """Fail before the QONNX export, naming the layer, when the design has a layer the QONNX -> hls4ml 1.3
    path cannot translate (the IR-level twin of :func:`check_supported_ops`).

    Raises:
        UnsupportedLayerError: one line naming the layer, its kind, why, and what exports instead.
    """
    for layer in graph.layers:
        if layer.kind is LayerKind.ACTIVATION and layer.function in REFUSED_FUNCTIONS:
            raise UnsupportedLayerError(
                f"layer {layer.name!r} ({layer.function.value}): {REFUSED_FUNCTIONS[layer.function]}"
            )
        why = _NOT_TRANSLATED.get(layer.kind)
        if why is not None:
            raise UnsupportedLayerError(
                f"layer {layer.name!r} ({layer.kind.value}) cannot be exported to hls4ml 1.3: {why}; "
                "kinds that export: " + ", ".join(sorted(k.value for k in KIND_COVERAGE.handled))
            )


def check_supported_ops(model: Any) -> None:
    """Fail before conversion, naming the node, when hls4ml has no ONNX handler for an op.

    Raises:
        UnsupportedLayerError: one line with the node, its op and the ops hls4ml 1.3 translates.
    """
    from hls4ml.converters.onnx_to_hls import get_supported_onnx_layers

    from codesign.export import _hls4ml_fixes

    _hls4ml_fixes.install()  # its handlers count as supported (and config_from_onnx_model needs them)
    supported = set(get_supported_onnx_layers()) | {"Dropout", "Identity"}
    for node in model.graph.node:
        if node.op_type not in supported:
            raise UnsupportedLayerError(
                f"ONNX node {node.name!r} (op {node.op_type}): hls4ml has no translation for this op; "
                f"ops it translates: {', '.join(sorted(supported))}"
            )


def check_power_of_two_quantizers(model: Any, names: Mapping[str, str]) -> None:
    """Every weight, bias and activation quantizer must have a power-of-two scale to stay bit-exact.

    Raises:
        ExportError: naming the IR layer (where known) and the offending scale.
    """
    for node in model.graph.node:
        if node.op_type != "Quant":
            continue
        scale, _, _, _ = _quant_params(model, node)
        if _power_of_two(scale) is None:
            raise ExportError(
                f"{_quantizer_role(model, node, names)}: scale {scale:g} is not a power of two; hls4ml then inserts "
                "float rescaling and the C simulation is not bit-exact; use Brevitas *FixedPoint quantizers"
            )


def _quantizer_role(model: Any, node: Any, names: Mapping[str, str]) -> str:
    """How a message names a Quant node: ``layer 'fc1' weight quantizer``, ``input quantizer``, ..."""
    user = next((n for n in model.graph.node if node.output[0] in n.input), None)
    layer = names.get(user.name, user.name) if user is not None else node.name
    if model.get_initializer(node.input[0]) is not None:
        role = "weight" if user is not None and list(user.input).index(node.output[0]) == 1 else "bias"
        return f"layer {layer!r} {role} quantizer"
    source = model.find_producer(node.input[0])
    if source is None or (source.op_type == "Transpose" and model.find_producer(source.input[0]) is None):
        return "input quantizer"
    return f"activation quantizer before layer {layer!r}"
