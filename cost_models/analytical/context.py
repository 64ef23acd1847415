"""The :class:`~.layers.LayerContext` of a layer: the widths, settings and design-wide facts its terms read.

Widths come from the layer's precision with the hardware config's per-layer overrides on top; the
input activation width is the producing layer's result type. Where a layer leaves a type unset, hls4ml
1.3's defaults apply: ``ap_fixed<16,6>`` weights (``config_from_*`` default precision) and
``ap_fixed<18,8>`` tables (``table_t``, nnet_activation.h). The context is built for every layer of
every estimate, so what follows from the configuration alone is computed once per configuration.
"""

from __future__ import annotations

from cost_models.analytical.constants import AnalyticalConstants
from cost_models.analytical.dataflow import dataflow_parallel, dataflow_registers
from cost_models.analytical.layers import LayerContext
from cost_models.analytical.limits import vivado_hls as built_by_vivado_hls
from cost_models.analytical.links import GraphIndex, merged
from cost_models.analytical.quant import accumulator_type, quant_logic
from cost_models.analytical.timing import clock_budget_ns, latency_budget_ns
from cost_models.ir import Layer, LayerGraph
from cost_models.kinds import RECURRENT_KINDS
from hw_templates.config import ConvImplementation, HardwareConfig, IoType, ResolvedLayerHardware, Strategy
from hw_templates.precision import FixedType

__all__ = ["DEFAULT_TABLE_BITS", "DEFAULT_WEIGHT_BITS", "ContextBuilder"]

#: hls4ml 1.3 defaults where a layer leaves a type unset: ``ap_fixed<16,6>`` weights
#: (``config_from_*`` default precision) and ``ap_fixed<18,8>`` tables (``table_t``, nnet_activation.h).
DEFAULT_WEIGHT_BITS = 16
#: Fractional bits of that default weight type.
DEFAULT_WEIGHT_FRAC_BITS = 10
DEFAULT_TABLE_BITS = 18
_CACHE_LIMIT = 4096
#: Contexts kept (per layer, settings, configuration and graph object): see ``model._TERMS_CACHE_LIMIT``.
_CONTEXT_CACHE_LIMIT = 1024


class ContextBuilder:
    """Builds layer contexts, caching what follows from the configuration or the layer alone.

    Args:
        constants: the model's constants (carried in every context).
        index: the model's per-graph maps (shared with the model).
    """

    def __init__(self, constants: AnalyticalConstants, index: GraphIndex) -> None:
        self.constants = constants
        self.index = index
        self._quant_cache: dict[tuple[int, ...], tuple] = {}
        self._context_cache: dict[tuple[int, int, int, int], tuple] = {}
        self._hw_ref: HardwareConfig | None = None
        self._hw_values: tuple[bool, int, int, float, bool, float] = (False, 0, 0, 0.0, False, 0.0)
        self._dataflow_cache: tuple | None = None

    def build(
        self, layer: Layer, settings: ResolvedLayerHardware, hw: HardwareConfig, graph: LayerGraph | None
    ) -> tuple[LayerContext, tuple]:
        """The context of ``layer`` built with ``settings`` (``graph`` None: input as wide as the result),
        and a hashable key of its values (every field but the model's constants): two contexts with the
        same key give the same terms. Cached per (layer, settings, configuration, graph) object."""
        key = (id(layer), id(settings), id(hw), id(graph))
        hit = self._context_cache.get(key)
        if hit is not None and hit[0] is layer and hit[1] is settings and hit[2] is hw and hit[3] is graph:
            return hit[4], hit[5]
        if len(self._context_cache) > _CONTEXT_CACHE_LIMIT:
            self._context_cache.clear()
        values, rest = self._values(layer, settings, hw, graph)
        # positional, in field order (see LayerContext): this runs for every new layer setting
        ctx = LayerContext(*values, self.constants, *rest)
        self._context_cache[key] = (layer, settings, hw, graph, ctx, (values, rest))
        return ctx, (values, rest)

    def _values(
        self, layer: Layer, settings: ResolvedLayerHardware, hw: HardwareConfig, graph: LayerGraph | None
    ) -> tuple[tuple, tuple]:
        """The fields of the context before and after ``consts`` (see :class:`~.layers.LayerContext`)."""
        result, weight, accum, table = _types(layer, settings)
        source_t = self._source_type(layer, hw, graph, result)
        acc_modes, cast_bits = self._quant(layer, graph, result, accum, source_t)
        stream, dsp_a, dsp_b, clock_eff, vivado_hls, latency_ns = self._configuration(hw)
        dataflow = None
        if graph is not None:  # registers of a DATAFLOW top (dataflow.py); unknown without the graph
            last = graph.layers[-1].name == layer.name
            top = stream or self._dataflow_parallel(graph, hw)
            dataflow = dataflow_registers(layer, result.width, stream, top, last)
        types = _recurrent_types(layer, graph, result, accum, table)
        values = (
            source_t.width,
            result.width,
            weight.width if weight else DEFAULT_WEIGHT_BITS,
            (accum or result).width,
            table.width if table else DEFAULT_TABLE_BITS,
            settings.strategy is Strategy.LATENCY,
            stream,
            settings.parallelization_factor,
            settings.fifo_depth,
            settings.conv_implementation is ConvImplementation.ENCODED,
            dsp_a,
            dsp_b,
            clock_eff,
        )
        w_frac = weight.width - weight.integer if weight else DEFAULT_WEIGHT_FRAC_BITS
        rest = (settings.multiplier_impl.value, acc_modes, cast_bits, vivado_hls, dataflow, types, latency_ns, w_frac)
        return values, rest

    def _source_type(self, layer: Layer, hw: HardwareConfig, graph: LayerGraph | None, result: FixedType) -> FixedType:
        """The result type of the layer feeding ``layer`` (its own result type without a graph)."""
        if graph is None or not layer.inputs:
            return result
        source = self.index.layer(graph, layer.inputs[0])
        override = hw.resolve(source.name).precision
        return merged(source, override)["result"] if override else source.precision.result

    def _quant(
        self,
        layer: Layer,
        graph: LayerGraph | None,
        result: FixedType,
        accum: FixedType | None,
        source_t: FixedType,
    ) -> tuple[int, int]:
        """:func:`~.quant.quant_logic` of ``layer``: it follows from the layer, its types and the graph's
        input type (cached per these objects: the types are shared by every configuration)."""
        key = (id(layer), id(graph), id(result), id(accum), id(source_t))
        hit = self._quant_cache.get(key)
        if (
            hit is None
            or hit[0] is not layer
            or hit[1] is not graph
            or hit[2] is not result
            or hit[3] is not accum
            or hit[4] is not source_t
        ):
            if len(self._quant_cache) > _CACHE_LIMIT:
                self._quant_cache.clear()
            design_input = graph.layers[0].precision.result if graph is not None else None
            values = quant_logic(layer.kind.has_weights, result, accum, source_t, design_input)
            hit = self._quant_cache[key] = (layer, graph, result, accum, source_t, *values)
        return hit[5], hit[6]

    def _configuration(self, hw: HardwareConfig) -> tuple[bool, int, int, float, bool, float]:
        """io_stream, DSP port widths, clock budget, Vivado HLS and latency budget of ``hw`` (once per
        configuration)."""
        if self._hw_ref is not hw:
            self._hw_ref = hw
            budget = clock_budget_ns(hw.clock_ns, hw.effective_clock_uncertainty_ns, hw.part)
            self._hw_values = (
                hw.io_type is IoType.STREAM,
                hw.part.dsp_a_bits,
                hw.part.dsp_b_bits,
                budget,
                built_by_vivado_hls(hw),
                latency_budget_ns(budget, hw.part, self.constants.ultrascale_logic_speedup),
            )
        return self._hw_values

    def _dataflow_parallel(self, graph: LayerGraph, hw: HardwareConfig) -> bool:
        """:func:`~.dataflow.dataflow_parallel`, cached per graph and configuration."""
        hit = self._dataflow_cache
        if hit is None or hit[0] is not graph or hit[1] is not hw:
            hit = self._dataflow_cache = (graph, hw, dataflow_parallel(graph, hw))
        return hit[2]


def _types(layer: Layer, settings: ResolvedLayerHardware) -> tuple:
    """(result, weight, accum, table) types of ``layer`` with the per-layer overrides of ``settings``."""
    if settings.precision:
        precision = merged(layer, settings.precision)
        return precision["result"], precision.get("weight"), precision.get("accum"), precision.get("table")
    p = layer.precision  # no per-layer override (the common case): skip building the merged mapping
    return p.result, p.weight, p.accum, p.table


def _recurrent_types(
    layer: Layer, graph: LayerGraph | None, result: FixedType, accum: FixedType | None, table: FixedType | None
) -> tuple | None:
    """The casts between a recurrent step's stages (:mod:`.recurrent`); None for other layers."""
    if layer.kind not in RECURRENT_KINDS:
        return None
    design_input = graph.layers[0].precision.result if graph is not None else None
    return (accumulator_type(result, accum, design_input), result, table)
