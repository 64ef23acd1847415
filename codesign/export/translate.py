"""A design -> an hls4ml model, and the check that hls4ml built what the cost model priced.

:func:`hls4ml_config` is the one place that spells hls4ml's CamelCase configuration (``Backend``,
``Part``, ``ClockPeriod``, ``IOType``, ``HLSConfig: {Model, LayerName: {ReuseFactor, Strategy,
Precision, ...}}``); everything else in the toolkit speaks :class:`~hw_templates.config.HardwareConfig`.
The dict has the form hls4ml's own YAML configs have, so :func:`convert` hands it to
``hls4ml.converters.convert_from_config``.

Precisions: every type hls4ml can infer stays ``auto`` (hls4ml 1.3.0 ``InferPrecisionTypes`` gives each
Dense/Conv its exact accumulator; quantizer nodes fix weights, biases and activations), except the
input, which must equal the input quantizer (that is what makes the C model bit-exact). A layer whose
graph states its accumulator (tightened to the trained weights, :mod:`codesign.models.tighten`) gets
that ``accum_t`` and ``result_t`` after conversion (:func:`apply_stated_accumulators`; setting them in
the config instead makes hls4ml 1.3.0 drop the bias quantizer's type). After conversion
:func:`read_back` collects what hls4ml applied per layer and :func:`check_applied` compares it with the
design (both in :mod:`codesign.export._read_back`): hls4ml silently replaces an illegal reuse factor or
parallelization factor (``FPGABackend.set_closest_reuse_factor`` prints a warning and moves on), and a
precision that differs from the graph's means the cost estimate priced another circuit. Either is an
:class:`~hw_templates.errors.ExportError` naming the layer.

hls4ml prints its progress to stdout; callers that must stay quiet run these functions in a worker
process whose stdout goes to a log file (see :mod:`codesign.export.parallel`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from codesign.export._directives import multiplier_problem
from codesign.export._merge_types import merge_result_types
from codesign.export._qonnx import (
    LayerMap,
    check_power_of_two_quantizers,
    check_supported_ops,
    check_translatable,
    map_layers,
)
from codesign.export._qonnx import input_precision as read_input_precision
from codesign.export._read_back import AppliedLayer, check_applied, fused_linear, read_back
from codesign.export._softmax_table import softmax_tables
from codesign.export._tables import table_layers, table_settings
from cost_models.ir import SOFTMAX_TABLE_TYPE, Activation, Layer, LayerGraph
from hw_templates.config import Backend, HardwareConfig, IoType, Strategy, strategy_problem
from hw_templates.errors import ExportError, UnsupportedLayerError, first_line
from hw_templates.precision import FixedType

__all__ = [
    "AppliedLayer",
    "Translation",
    "apply_fifo_depths",
    "apply_stated_accumulators",
    "check_applied",
    "check_exportable",
    "check_fifo_pragmas",
    "convert",
    "hls4ml_config",
    "read_back",
    "translate",
]

#: hls4ml's backend names (``hls4ml.backends.get_available_backends()``, 1.3.0).
HLS4ML_BACKENDS: Mapping[Backend, str] = MappingProxyType(
    {Backend.VITIS: "Vitis", Backend.VIVADO: "Vivado", Backend.QUARTUS: "Quartus", Backend.CATAPULT: "Catapult"}
)
#: Backends whose projects take a clock uncertainty (``create_initial_config`` of hls4ml 1.3.0).
_HAS_UNCERTAINTY = {Backend.VITIS, Backend.VIVADO}
_CONV_IMPLEMENTATION = {"linebuffer": "LineBuffer", "encoded": "Encoded"}
#: hls4ml's placeholder for types its precision-inference pass fills in.
AUTO = "auto"
PROJECT_NAME = "myproject"


@dataclass(frozen=True)
class Translation:
    """A converted design: the hls4ml model, the config it was built from and the read-back."""

    hls_model: Any
    config: Mapping[str, Any]
    layer_map: LayerMap
    input_precision: FixedType
    applied: tuple[AppliedLayer, ...]
    #: io_stream FIFOs set to another depth than hls4ml's one-tensor default: hls4ml variable -> depth.
    fifo_depths: Mapping[str, int] = field(default_factory=dict)


def apply_fifo_depths(hls_model: Any, graph: LayerGraph, hw: HardwareConfig, layer_map: LayerMap) -> dict[str, int]:
    """Give each io_stream FIFO the depth the cost model priced (``fifo_depths: sized`` or a per-layer
    ``fifo_depth``), as hls4ml's own FIFO depth optimization does (the variable's ``stream`` pragma).

    Returns:
        hls4ml output variable -> depth, for the FIFOs changed from hls4ml's default (one tensor).

    Raises:
        ExportError: a layer to size has no output stream in the hls4ml model.
    """
    if hw.io_type is not IoType.STREAM:
        return {}
    from cost_models.analytical import AnalyticalModel
    from cost_models.analytical.stream import stream_tokens

    depths = AnalyticalModel().fifo_depths(graph, hw)
    wanted = {name: d for name, d in depths.items() if d != stream_tokens(graph.layer(name).output_shape)}
    last_var: dict[str, Any] = {}
    for layer in hls_model.get_layers():  # in model order: the last node of an IR layer feeds the next one
        ir_name = layer_map.ir_name(layer.name)
        if ir_name in wanted:
            last_var[ir_name] = layer.get_output_variable()
    applied = {}
    for ir_name, depth in wanted.items():
        var = last_var.get(ir_name)
        if var is None or not getattr(var, "pragma", None):
            raise ExportError(f"layer {ir_name!r}: no output stream in the hls4ml model to give FIFO depth {depth}")
        var.pragma = (var.pragma[0], int(depth))
        applied[var.name] = int(depth)
    return applied


def apply_stated_accumulators(hls_model: Any, graph: LayerGraph, layer_map: LayerMap) -> dict[str, str]:
    """Give every layer whose graph states an accumulator that ``accum_t`` and ``result_t``.

    The result type object is the layer's output variable's type, so the next layer reads the same type.

    Returns:
        hls4ml layer name -> the accumulator type set.
    """

    def hls(ftype: FixedType, like: Any) -> Any:
        # the backend's own precision class (the converted types carry its C++ definition)
        return type(like)(
            ftype.width,
            ftype.integer,
            ftype.signed,
            rounding_mode=None if ftype.rounding == "TRN" else ftype.rounding,
            saturation_mode=None if ftype.saturation == "WRAP" else ftype.saturation,
        )

    applied = {}
    for layer in hls_model.get_layers():
        ir_name = layer_map.ir_name(layer.name)
        if ir_name is None or "accum_t" not in layer.types:
            continue
        ir_layer = graph.layer(ir_name)
        precision = ir_layer.precision
        accum = precision.accum or _result_as_accumulator(ir_layer, graph)
        if ir_layer.kind.info.shape_rule in ("pool", "global") and "avg" in ir_layer.kind.value:
            accum = _mean_accumulator(ir_layer, graph)
        if accum is None:
            continue
        for key, ftype in (("accum_t", accum), ("result_t", precision.result)):
            layer.types[key].precision = hls(ftype, layer.types[key].precision)
        applied[layer.name] = accum.to_hls()
    return applied


def _mean_accumulator(layer: Layer, graph: LayerGraph) -> FixedType | None:
    """The accumulator that keeps an average exact (hls4ml's ``avg`` sums in ``accum_t``, then divides in
    it): the input type with ``log2(count)`` more integer and fraction bits; None unless ``count`` is a
    power of two (the quotient does not terminate otherwise) or when the design's result already is the
    input type (hls4ml's own choice, then left alone)."""
    source = graph.layer(layer.inputs[0]).precision.result
    count = math.prod(layer.pool) if layer.pool else math.prod(layer.input_shape[:-1])
    extra = count.bit_length() - 1
    if count & (count - 1) or layer.precision.result == source:
        return None
    return FixedType(source.width + 2 * extra, source.integer + extra, source.signed)


def _result_as_accumulator(layer: Layer, graph: LayerGraph) -> FixedType | None:
    """The design's result, as accumulator too, for a weighted layer that states no accumulator (hls4ml may
    have inferred another type: the default ``ap_fixed<16,6>`` against an exact ``<19,9>``, or an input
    type set after inference): the cost model prices the result type as the accumulator
    (hls4ml's ``accum`` defaults to the result), and the builder accepted it only where it keeps every
    fraction bit of the exact sum (:func:`codesign.models._build_checks.check_accumulator`). Not for a layer
    whose result hls4ml fused with a following linear quantizer (the read-back accepts that type)."""
    if not layer.kind.has_weights or fused_linear(graph, layer.name) is not None:
        return None
    return layer.precision.result


def check_fifo_pragmas(project: Path, applied: Mapping[str, int]) -> None:
    """Read back the written top function: every sized FIFO must carry its depth.

    Raises:
        ExportError: a FIFO whose ``#pragma HLS STREAM`` depth is missing or different.
    """
    if not applied:
        return
    source = (project / "firmware" / f"{PROJECT_NAME}.cpp").read_text(encoding="utf-8")
    for name, depth in applied.items():
        if f"#pragma HLS STREAM variable={name} depth={depth}" not in source:
            raise ExportError(
                f"{project / 'firmware' / f'{PROJECT_NAME}.cpp'}: FIFO {name} was not written with depth {depth}"
            )


def check_exportable(graph: LayerGraph, hw: HardwareConfig | None = None, backend: Backend | None = None) -> None:
    """Refuse, before anything is exported, a design with a strategy hls4ml cannot build for a layer
    (:func:`hw_templates.config.strategy_problem`) or a layer the QONNX path cannot translate
    (:func:`codesign.export._qonnx.check_translatable`).

    Raises:
        UnsupportedLayerError: one line naming the layer, its kind, why, and what exports instead.
    """
    if hw is not None:
        backend = backend or hw.backend
        for layer in graph.weight_layers():
            problem = strategy_problem(layer.name, layer.kind.value, hw.resolve(layer.name).strategy, backend)
            if problem:
                raise UnsupportedLayerError(problem)
        problem = multiplier_problem(graph, hw, backend)
        if problem:
            raise ExportError(problem)
    for layer in graph.layers:  # build what was priced: a softmax's tables are the toolkit's own
        table = layer.precision.table if layer.function is Activation.SOFTMAX else None
        if table is not None and table != SOFTMAX_TABLE_TYPE:
            raise ExportError(
                f"layer {layer.name!r} (softmax): table type {table} is not what the export builds "
                f"({SOFTMAX_TABLE_TYPE.to_hls()} exp and inverse tables, codesign/export/_softmax_table.py); "
                "remove its 'table' precision"
            )
    check_translatable(graph)


def _hls_type(ftype: FixedType) -> str:
    """hls4ml's backend-neutral spelling, e.g. ``fixed<8,1,RND_CONV,SAT>``."""
    base = ("" if ftype.signed else "u") + "fixed"
    return f"{base}<{ftype.width},{ftype.integer},{ftype.rounding},{ftype.saturation}>"


def hls4ml_config(
    onnx_model: Any,
    graph: LayerGraph,
    hw: HardwareConfig,
    layer_map: LayerMap,
    in_precision: FixedType,
    *,
    onnx_path: Path,
    output_dir: Path,
    backend: Backend,
) -> dict[str, Any]:
    """The complete hls4ml conversion config (YAML form) for one design.

    Args:
        onnx_model: the cleaned QONNX model (a qonnx ``ModelWrapper``) saved at ``onnx_path``.
        graph: the design's layer graph (names the per-layer settings).
        hw: the hardware configuration; ``hw.resolve(layer)`` gives each layer's settings.
        layer_map: which ONNX node implements which IR layer.
        in_precision: the input quantizer's type.
        onnx_path: the cleaned model's file (hls4ml loads it from there and records the path).
        output_dir: the hls4ml project folder.
        backend: the HLS backend.
    """
    import hls4ml

    name = HLS4ML_BACKENDS[backend]
    hls_config = hls4ml.utils.config.config_from_onnx_model(
        onnx_model, granularity="name", backend=name, default_reuse_factor=hw.reuse_factor
    )
    hls_config["Model"]["Strategy"] = _strategy_name(hw.strategy)
    hls_config["LayerName"].setdefault(onnx_model.graph.input[0].name, {})["Precision"] = {
        "result": _hls_type(in_precision)
    }
    for node, ftype in merge_result_types(onnx_model, graph).items():  # before hls4ml infers what follows
        hls_config["LayerName"].setdefault(node, {}).setdefault("Precision", {})["result"] = _hls_type(ftype)
    for node, ir_name in layer_map.onnx_to_ir.items():
        if graph.layer(ir_name).kind.has_weights:
            hls_config["LayerName"].setdefault(node, {}).update(_layer_settings(graph, hw, ir_name))
        if ir_name in table_layers(graph):  # the table the verification's reference model reads
            size, table_t = table_settings(graph, ir_name)
            entry = hls_config["LayerName"].setdefault(node, {})
            if graph.layer(ir_name).function is Activation.SOFTMAX:  # the tables its FinalSoftmax computes
                settings = softmax_tables(graph.layer(ir_name).output_shape[-1], size).hls4ml_settings()
                entry.setdefault("Precision", {}).update(settings.pop("Precision"))
                entry.update(settings)
            else:
                entry["TableSize"] = size
                entry.setdefault("Precision", {})["table"] = _hls_type(table_t)
    config = hls4ml.backends.get_backend(name).create_initial_config()
    config.update(
        OnnxModel=str(onnx_path),
        OutputDir=str(output_dir),
        ProjectName=PROJECT_NAME,
        Backend=name,
        Part=hw.part.full_name,
        ClockPeriod=hw.clock_ns,
        IOType=hw.io_type.value,
        HLSConfig=hls_config,
    )
    if backend in _HAS_UNCERTAINTY:
        config["ClockUncertainty"] = f"{hw.effective_clock_uncertainty_ns:g}"
    return config


def _layer_settings(graph: LayerGraph, hw: HardwareConfig, ir_name: str) -> dict[str, Any]:
    settings = hw.resolve(ir_name)
    out: dict[str, Any] = {"ReuseFactor": settings.reuse_factor, "Strategy": _strategy_name(settings.strategy)}
    if graph.layer(ir_name).kind.spatial_dims:
        out["ParallelizationFactor"] = settings.parallelization_factor
        out["ConvImplementation"] = _CONV_IMPLEMENTATION[settings.conv_implementation.value]
    return out


def convert(config: Mapping[str, Any]) -> Any:
    """Run hls4ml's converter on a config from :func:`hls4ml_config`; returns the ``ModelGraph``.

    Raises:
        ExportError: hls4ml failed; the message carries hls4ml's own first line.
    """
    import hls4ml

    from codesign.export import _hls4ml_fixes

    _hls4ml_fixes.install()
    try:
        return hls4ml.converters.convert_from_config(dict(config))
    except Exception as err:  # hls4ml raises bare Exception (and others) for every conversion problem
        raise ExportError(f"hls4ml could not convert the model: {first_line(err, type(err).__name__)}") from err


def translate(
    qonnx_path: Path, graph: LayerGraph, hw: HardwareConfig, output_dir: Path, *, backend: Backend | None = None
) -> Translation:
    """Cleaned QONNX file + design -> a checked hls4ml model (not yet written to disk).

    Args:
        qonnx_path: the cleaned QONNX model (see :func:`codesign.export._qonnx.clean_qonnx`).
        graph: the design's layer graph.
        hw: the design's hardware configuration.
        output_dir: the hls4ml project folder.
        backend: overrides ``hw.backend``.

    Raises:
        UnsupportedLayerError: an ONNX op hls4ml cannot translate (named).
        ExportError: a quantizer hls4ml cannot reproduce exactly, a failed conversion, or hls4ml applied
            other settings than the design's.
    """
    from qonnx.core.modelwrapper import ModelWrapper

    backend = Backend.parse(backend or hw.backend, "backend")
    qonnx_model = ModelWrapper(str(qonnx_path))
    check_supported_ops(qonnx_model)
    layer_map = map_layers(qonnx_model, graph)
    check_power_of_two_quantizers(qonnx_model, layer_map.onnx_to_ir)
    in_precision = read_input_precision(qonnx_model)
    config = hls4ml_config(
        qonnx_model, graph, hw, layer_map, in_precision, onnx_path=qonnx_path, output_dir=output_dir, backend=backend
    )
    hls_model = convert(config)
    apply_stated_accumulators(hls_model, graph, layer_map)
    applied = read_back(hls_model, layer_map)
    check_applied(applied, graph, hw, backend)
    fifo_depths = apply_fifo_depths(hls_model, graph, hw, layer_map)
    return Translation(hls_model, config, layer_map, in_precision, applied, fifo_depths)


def _strategy_name(strategy: Strategy) -> str:
    """hls4ml's spelling of a strategy (``Latency`` / ``Resource``)."""
    return strategy.value.capitalize()
