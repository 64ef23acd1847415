"""The analytical FPGA cost model of hls4ml 1.3 designs (registered as ``"analytical"``).

It models the mechanisms hls4ml's HLS templates build (see the submodules: :mod:`.multipliers`,
:mod:`.matvec`, :mod:`.memory`, :mod:`.layers`, :mod:`.stream`, :mod:`.power`), with every free
constant fitted on real synthesis results (:mod:`.constants`, ``scripts/fit_analytical.py``).

``Target.HLS`` predicts the Vivado/Vitis HLS C-synthesis estimate; ``Target.SYNTH`` post-synthesis
utilisation, with its own LUT/FF coefficients per mechanism (see :mod:`.constants`).

Example:
    >>> from hw_templates import resolve_part
    >>> from hw_templates.config import HardwareConfig
    >>>     >>> from cost_models.ir import GraphBuilder
    >>> b = GraphBuilder("jet", (16,), FixedType(16, 6))
    >>> _ = b.add("dense", units=64)
    >>> cost = AnalyticalModel().estimate(b.build(), HardwareConfig(resolve_part("xcu250"), reuse_factor=4))
    >>> cost.ii_cycles
    4.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from cost_models.analytical._num import maximum
from cost_models.analytical.constants import DEFAULT_CONSTANTS, FF_FEATURES, LUT_FEATURES, AnalyticalConstants
from cost_models.analytical.dataflow import dataflow_parallel, dataflow_registers
from cost_models.analytical.layers import WIRE_KINDS, LayerContext, layer_terms
from cost_models.analytical.limits import buildable_settings, unroll_warnings
from cost_models.analytical.limits import vivado_hls as built_by_vivado_hls
from cost_models.analytical.matvec import Terms, add_terms
from cost_models.analytical.power import POWER_NOTE, power_w
from cost_models.analytical.quant import accumulator_type, quant_logic
from cost_models.analytical.recurrent import recurrent_notes
from cost_models.analytical.stream import dataflow_latency, dense_reads, fifo_terms, sized_fifo_depth, stream_tokens
from cost_models.analytical.timing import clock_budget_ns
from cost_models.base import CostModel, register_cost_model
from cost_models.cost import Cost, LayerCost, Target
from cost_models.counters import Counters, count_layer
from cost_models.ir import Layer, LayerGraph, LayerKind
from cost_models.kinds import RECURRENT_KINDS
from hw_templates.config import (
    ConvImplementation,
    FifoDepths,
    HardwareConfig,
    IoType,
    ResolvedLayerHardware,
    Strategy,
)
from hw_templates.reuse import check_reuse_factor

__all__ = ["DEFAULT_CONSTANTS", "GRID_KEYS", "AnalyticalConstants", "AnalyticalModel"]

#: Keys of :meth:`AnalyticalModel.layer_grid`'s result.
GRID_KEYS = ("lut", "ff", "dsp", "bram18", "latency_cycles", "ii_cycles")
#: hls4ml 1.3 defaults where a layer leaves a type unset: ``ap_fixed<16,6>`` weights
#: (``config_from_*`` default precision) and ``ap_fixed<18,8>`` tables (``table_t``, nnet_activation.h).
DEFAULT_WEIGHT_BITS = 16
DEFAULT_TABLE_BITS = 18
_IN_PLACE = frozenset({LayerKind.INPUT, LayerKind.FLATTEN, LayerKind.RESHAPE})
_WIRE_NOTE = ("data movement only in io_parallel: no logic (wires)",)
_NOTES = (POWER_NOTE,)


class AnalyticalModel(CostModel):
    """Closed-form cost of hls4ml designs; see the package docstring.

    Args:
        target: ``Target.HLS`` (csynth estimate) or ``Target.SYNTH`` (post-synthesis).
        constants: model constants; the fitted defaults unless given (the fitting script passes its own).
    """

    name = "analytical"
    gives_intervals = True
    interval_name = "analytical"

    def __init__(self, target: Target | str = Target.HLS, constants: AnalyticalConstants | None = None) -> None:
        super().__init__(target)
        self.constants = constants or DEFAULT_CONSTANTS
        c = self.constants
        synth = self.target is Target.SYNTH
        lut_coef, ff_coef = (c.synth_lut_coef, c.synth_ff_coef) if synth else (c.lut_coef, c.ff_coef)
        self._lut_coef = tuple((k, lut_coef[k]) for k in LUT_FEATURES)
        self._ff_coef = tuple((k, ff_coef[k]) for k in FF_FEATURES)
        self._dsp_ratio = c.synth_ratio["dsp"] if synth else 1.0
        self._bram_ratio = c.synth_ratio["bram18"] if synth else 1.0
        self._graph_ref: LayerGraph | None = None
        self._by_name: dict[str, Layer] = {}
        self._feeds: dict[str, str] = {}
        self._counter_cache: dict[tuple[int, int], tuple[Layer, Counters]] = {}
        self._quant_cache: dict[tuple[int, int, int], tuple] = {}
        self._hw_ref: HardwareConfig | None = None
        self._legal_rf: set[tuple[int, int, int]] = set()
        self._hw_values: tuple[bool, int, int, float, bool] = (False, 0, 0, 0.0, False)
        self._fed_by: dict[str, str] = {}
        self._dataflow_cache: tuple | None = None

    def estimate_layer(
        self, layer: Layer, settings: ResolvedLayerHardware, hw: HardwareConfig, graph: LayerGraph
    ) -> LayerCost:
        """Cost of one layer as hls4ml 1.3 builds it with ``settings``.

        Raises:
            ReuseFactorError: a Resource-strategy reuse factor hls4ml would silently change.
            UnsupportedLayerError: a layer kind or function without a formula.
        """
        terms, ctx = self._layer_terms(layer, settings, hw, graph)
        lut, ff, dsp, bram18 = self._resources(terms)
        counters = self._counters(layer, ctx.a_bits) if layer.inputs else None
        weighted = layer.kind.has_weights
        return LayerCost.fast(
            name=layer.name,
            kind=layer.kind.value,
            lut=float(lut),
            ff=float(ff),
            dsp=float(dsp),
            bram18=float(bram18),
            latency_cycles=float(terms["latency"]),
            ii_cycles=float(terms["ii"]),
            uram=0.0,
            reuse_factor=settings.reuse_factor if weighted else None,
            strategy=settings.strategy.value if weighted else None,
            flops=counters.flops if counters else 0,
            params=counters.params if counters else 0,
            bops=counters.bops if counters else 0,
            notes=self._notes(layer, settings, ctx, hw),
        )

    def _notes(
        self, layer: Layer, settings: ResolvedLayerHardware, ctx: LayerContext, hw: HardwareConfig
    ) -> tuple[str, ...]:
        if layer.kind in WIRE_KINDS and not ctx.stream and layer.inputs:
            return _WIRE_NOTE
        if layer.kind in RECURRENT_KINDS:  # the reuse factor hls4ml gives the recurrent product (recurrent.py)
            latency = settings.strategy is Strategy.LATENCY
            warnings = unroll_warnings(layer, hw) if latency else ()
            return recurrent_notes(layer, settings.reuse_factor, latency) + warnings
        if not layer.kind.has_weights or settings.strategy is not Strategy.LATENCY:
            return ()
        return unroll_warnings(layer, hw)

    def design_terms(self, graph: LayerGraph, hw: HardwareConfig) -> dict[str, float]:
        """The mechanism terms of a whole design, summed over layers (what the fitted coefficients
        multiply; used by ``scripts/fit_analytical.py``). Same checks as :meth:`estimate_layer`."""
        total: dict[str, float] = {}
        for layer in graph.layers:
            terms, _ = self._layer_terms(layer, hw.resolve(layer.name), hw, graph)
            for key, value in terms.items():
                total[key] = total.get(key, 0.0) + float(value)
        return total

    def layer_grid(
        self,
        layer: Layer,
        hw: HardwareConfig,
        reuse_factors: np.ndarray,
        strategy: Strategy,
        *,
        graph: LayerGraph | None = None,
    ) -> dict[str, np.ndarray]:
        """Costs of ``layer`` at many reuse factors at once (same formulas as :meth:`estimate_layer`).

        Expects legal reuse factors (``hw_templates.reuse.valid_reuse_factors``): this entry point is
        for search loops and does not check them. Without ``graph`` the input activations are taken
        to be as wide as the layer's own result type, and a DATAFLOW top's registers (:mod:`.dataflow`)
        are left out. Output FIFOs (io_stream) are not included; with
        ``fifo_depths: sized`` and a ``graph``, the sized FIFO feeding the layer is (its depth follows
        the layer's own interval, see :meth:`fifo_depths`).

        Returns:
            ``{key: array}`` for :data:`GRID_KEYS`, one entry per reuse factor.

        Example:
            >>> grid = model.layer_grid(layer, hw, np.array([1, 2, 4]), Strategy.RESOURCE)  # doctest: +SKIP
            >>> grid["dsp"]  # doctest: +SKIP
            array([1024., 512., 256.])
        """
        rf = np.asarray(reuse_factors, dtype=float)
        settings = replace(hw.resolve(layer.name), strategy=Strategy.parse(strategy, "strategy"))
        built = buildable_settings(layer, settings, hw)
        if built is not settings:  # a refused Latency layer: the Resource design at >= the serial reuse factor
            settings, rf = built, np.maximum(rf, float(built.reuse_factor))
        ctx = self._context(layer, settings, hw, graph)
        terms = layer_terms(layer, rf, ctx)
        if ctx.stream and layer.kind is LayerKind.DENSE:
            self._add_dense_reads(terms, layer, graph)
        if graph is not None:
            self._add_sized_input_fifo(terms, layer, hw, graph)
        lut, ff, dsp, bram18 = self._resources(terms)
        values = (lut, ff, dsp, bram18, terms["latency"], terms["ii"])
        return {k: np.broadcast_to(np.asarray(v, dtype=float), rf.shape).copy() for k, v in zip(GRID_KEYS, values)}

    def power_w(self, totals: dict[str, float], hw: HardwareConfig) -> float | None:
        """Rough first-order power (see :mod:`cost_models.analytical.power`)."""
        return power_w(totals, hw.part, hw.clock_ns, self.constants)

    def combine(self, graph: LayerGraph, hw: HardwareConfig, layers: tuple[LayerCost, ...]) -> Cost:
        """Resources and counters add up; latency is the critical path (io_parallel) or the dataflow
        pipeline's (io_stream, see :mod:`.stream`); II is the slowest layer's."""
        if hw.io_type is IoType.STREAM:
            index = {x.name: i for i, x in enumerate(graph.layers)}
            inputs = [[index[s] for s in x.inputs] for x in graph.layers]
            latency, ii = dataflow_latency(inputs, [c.latency_cycles for c in layers], [c.ii_cycles for c in layers])
        else:
            finish: dict[str, float] = {}
            for layer, cost in zip(graph.layers, layers):
                start = max((finish[s] for s in layer.inputs), default=0.0)
                finish[layer.name] = start + cost.latency_cycles
            # per-layer latencies are fractional where HLS chains operators across inlined layers (matvec.py):
            # the sum is the expected cycle count of the chain (HLS reports it rounded up to whole cycles)
            latency = finish[graph.output.name]
            ii = max((c.ii_cycles for c in layers), default=1.0)
        lut = ff = dsp = bram18 = uram = 0.0
        flops = params = bops = 0
        for c in layers:
            lut, ff, dsp, bram18, uram = lut + c.lut, ff + c.ff, dsp + c.dsp, bram18 + c.bram18, uram + c.uram
            flops, params, bops = flops + c.flops, params + c.params, bops + c.bops
        totals = {"lut": lut, "ff": ff, "dsp": dsp, "bram18": bram18, "uram": uram}
        warnings = tuple(n for c in layers for n in c.notes if n.startswith("warning:"))
        return Cost(
            model=self.name, target=self.target, part=hw.part, clock_ns=hw.clock_ns, layers=layers,
            latency_cycles=latency, ii_cycles=ii, power_w=self.power_w(totals, hw),
            flops=flops, params=params, bops=bops, notes=warnings + _NOTES, **totals,
        )  # fmt: skip

    def _layer_terms(
        self, layer: Layer, settings: ResolvedLayerHardware, hw: HardwareConfig, graph: LayerGraph
    ) -> tuple[Terms, LayerContext]:
        settings = buildable_settings(layer, settings, hw)
        if layer.kind.has_weights and settings.strategy is Strategy.RESOURCE:
            for n_in, n_out in layer.reuse_units():
                key = (n_in, n_out, settings.reuse_factor)
                if key not in self._legal_rf:  # the rule is a pure function of the three numbers
                    check_reuse_factor(f"layer {layer.name!r}", n_in, n_out, settings.reuse_factor)
                    self._legal_rf.add(key)
        ctx = self._context(layer, settings, hw, graph)
        terms = layer_terms(layer, settings.reuse_factor, ctx)
        if ctx.stream and layer.kind is LayerKind.DENSE:
            self._add_dense_reads(terms, layer, graph)
        # A sized FIFO is priced with its consumer (its depth follows the consumer's interval).
        output_fifo = ctx.stream and layer.kind not in _IN_PLACE and layer.name != graph.layers[-1].name
        if output_fifo and not self._sized_link(layer.name, hw, graph):
            fifo = fifo_terms(layer.output_shape, ctx.res_bits, settings.fifo_depth, self.constants)
            add_terms(terms, dict.fromkeys(terms, 0) | fifo)
        self._add_sized_input_fifo(terms, layer, hw, graph)
        return terms, ctx

    def fifo_depths(self, graph: LayerGraph, hw: HardwareConfig) -> dict[str, int]:
        """Depth of every io_stream FIFO between layers, by producing layer (empty for io_parallel).

        ``full`` FIFOs hold one tensor (hls4ml's default); a per-layer ``fifo_depth`` is taken as
        given; with ``fifo_depths: sized`` a FIFO between one producer and one consumer is
        :func:`~cost_models.analytical.stream.sized_fifo_depth` deep for the consumer's interval. The
        exporter builds the project with these depths.
        """
        if hw.io_type is not IoType.STREAM:
            return {}
        out = {}
        for layer in graph.layers[:-1]:
            if layer.kind in _IN_PLACE:
                continue
            settings = hw.resolve(layer.name)
            depth = settings.fifo_depth or stream_tokens(layer.output_shape)
            if self._sized_link(layer.name, hw, graph):
                consumer = self._layer_by_name(graph, self._consumer_of(layer.name, graph))
                ii = self.estimate_layer(consumer, hw.resolve(consumer.name), hw, graph).ii_cycles
                depth = int(sized_fifo_depth(stream_tokens(layer.output_shape), ii))
            out[layer.name] = depth
        return out

    def _sized_link(self, producer: str, hw: HardwareConfig, graph: LayerGraph) -> bool:
        """True when ``producer``'s output FIFO is sized (and priced with its consumer)."""
        if hw.fifo_depths is not FifoDepths.SIZED or hw.resolve(producer).fifo_depth is not None:
            return False
        self._layer_by_name(graph, producer)  # refresh the per-graph maps
        return producer in self._feeds

    def _consumer_of(self, producer: str, graph: LayerGraph) -> str:
        self._layer_by_name(graph, producer)
        return self._feeds[producer]

    def _add_sized_input_fifo(self, terms: Terms, layer: Layer, hw: HardwareConfig, graph: LayerGraph) -> None:
        """Add the sized FIFO that feeds ``layer`` (its depth from ``terms["ii"]``, scalar or array)."""
        if hw.io_type is not IoType.STREAM or hw.fifo_depths is not FifoDepths.SIZED or not layer.inputs:
            return
        self._layer_by_name(graph, layer.name)
        producer_name = self._fed_by.get(layer.name)
        if producer_name is None or not self._sized_link(producer_name, hw, graph):
            return
        producer = self._by_name[producer_name]
        bits = _merged(producer, hw.resolve(producer_name).precision)["result"].width
        depth = sized_fifo_depth(stream_tokens(producer.output_shape), terms["ii"])
        add_terms(terms, dict.fromkeys(terms, 0) | fifo_terms(producer.output_shape, bits, depth, self.constants))

    def _add_dense_reads(self, terms: Terms, layer: Layer, graph: LayerGraph | None) -> None:
        """A streamed Dense layer's input reads (:func:`~.stream.dense_reads`; one without a graph)."""
        reads = 1
        if graph is not None and layer.inputs:
            self._layer_by_name(graph, layer.name)
            reads = dense_reads(layer, self._by_name)
        terms["latency"] = terms["latency"] + reads
        terms["ii"] = maximum(terms["ii"], reads)

    def _resources(self, terms: Terms) -> tuple[object, object, object, object]:
        lut = terms["lut_fixed"]
        for key, coef in self._lut_coef:
            lut = lut + coef * terms[key]
        ff = terms["ff_fixed"]
        for key, coef in self._ff_coef:
            ff = ff + coef * terms[key]
        return lut, ff, terms["dsp"] * self._dsp_ratio, terms["bram18"] * self._bram_ratio

    def _context(
        self, layer: Layer, settings: ResolvedLayerHardware, hw: HardwareConfig, graph: LayerGraph | None
    ) -> LayerContext:
        if settings.precision:
            precision = _merged(layer, settings.precision)
            result, weight = precision["result"], precision.get("weight")
            accum, table = precision.get("accum"), precision.get("table")
        else:  # no per-layer override (the common case): skip building the merged mapping
            p = layer.precision
            result, weight, accum, table = p.result, p.weight, p.accum, p.table
        source = self._layer_by_name(graph, layer.inputs[0]) if graph is not None and layer.inputs else None
        source_t = result
        if source is not None:
            override = hw.resolve(source.name).precision
            source_t = _merged(source, override)["result"] if override else source.precision.result
        a_bits = source_t.width
        acc = accum or result
        key = (id(layer), id(hw), id(graph))  # the quant values follow from these three (cached: hot path)
        hit = self._quant_cache.get(key)
        if hit is None or hit[0] is not layer or hit[1] is not hw or hit[2] is not graph:
            if len(self._quant_cache) > 4096:
                self._quant_cache.clear()
            design_input = graph.layers[0].precision.result if graph is not None else None
            values = quant_logic(layer.kind.has_weights, result, accum, source_t, design_input)
            hit = self._quant_cache[key] = (layer, hw, graph, *values)
        acc_modes, cast_bits = hit[3], hit[4]
        if self._hw_ref is not hw:  # model-wide values: once per configuration, not per layer
            self._hw_ref = hw
            self._hw_values = (
                hw.io_type is IoType.STREAM,
                hw.part.dsp_a_bits,
                hw.part.dsp_b_bits,
                clock_budget_ns(hw.clock_ns, hw.effective_clock_uncertainty_ns, hw.part),
                built_by_vivado_hls(hw),
            )
        stream, dsp_a, dsp_b, clock_eff, vivado_hls = self._hw_values
        dataflow = None
        if graph is not None:  # registers of a DATAFLOW top (dataflow.py); unknown without the graph
            last = graph.layers[-1].name == layer.name
            top = stream or self._dataflow_parallel(graph, hw)
            dataflow = dataflow_registers(layer, result.width, stream, top, last)
        types = None
        if layer.kind in RECURRENT_KINDS:  # the casts between a step's stages (recurrent.py)
            design_input = graph.layers[0].precision.result if graph is not None else None
            types = (accumulator_type(result, accum, design_input), result, table)
        # positional, in field order (see LayerContext): this runs for every layer of every estimate
        return LayerContext(
            a_bits,
            result.width,
            weight.width if weight else DEFAULT_WEIGHT_BITS,
            acc.width,
            table.width if table else DEFAULT_TABLE_BITS,
            settings.strategy is Strategy.LATENCY,
            stream,
            settings.parallelization_factor,
            settings.fifo_depth,
            settings.conv_implementation is ConvImplementation.ENCODED,
            dsp_a,
            dsp_b,
            clock_eff,
            self.constants,
            settings.multiplier_impl.value,
            acc_modes,
            cast_bits,
            vivado_hls,
            dataflow,
            types,
        )

    def _dataflow_parallel(self, graph: LayerGraph, hw: HardwareConfig) -> bool:
        """:func:`~.dataflow.dataflow_parallel`, cached per graph and configuration."""
        hit = self._dataflow_cache
        if hit is None or hit[0] is not graph or hit[1] is not hw:
            hit = self._dataflow_cache = (graph, hw, dataflow_parallel(graph, hw))
        return hit[2]

    def _counters(self, layer: Layer, a_bits: int) -> Counters:
        """FLOPs, parameters and BOPs of ``layer`` (they depend on the layer and its input width only)."""
        key = (id(layer), a_bits)
        hit = self._counter_cache.get(key)
        if hit is None or hit[0] is not layer:
            if len(self._counter_cache) > 4096:
                self._counter_cache.clear()
            hit = self._counter_cache[key] = (layer, count_layer(layer, a_bits))
        return hit[1]

    def _layer_by_name(self, graph: LayerGraph, name: str) -> Layer:
        if graph is not self._graph_ref:
            self._graph_ref = graph
            self._by_name = {x.name: x for x in graph.layers}
            self._feeds = _single_links(graph)
            self._fed_by = {consumer: producer for producer, consumer in self._feeds.items()}
        return self._by_name[name]


def _single_links(graph: LayerGraph) -> dict[str, str]:
    """Producer -> consumer of every io_stream FIFO that links exactly one producer to one consumer.

    Flatten/reshape pass the stream through (the consumer is the first layer after them); a producer
    with several consumers (a fork) or a consumer with several inputs (add, concatenate) is left out:
    there the occupancy depends on the other branch, so those FIFOs stay one tensor deep.
    """
    consumers: dict[str, list[str]] = {x.name: [] for x in graph.layers}
    for x in graph.layers:
        for source in x.inputs:
            consumers[source].append(x.name)
    kinds = {x.name: x for x in graph.layers}
    links = {}
    for x in graph.layers[:-1]:
        if x.kind in _IN_PLACE:
            continue
        node = x.name
        while len(consumers[node]) == 1 and kinds[consumers[node][0]].kind in _IN_PLACE:
            node = consumers[node][0]
        if len(consumers[node]) != 1:
            continue
        consumer = kinds[consumers[node][0]]
        if len(consumer.inputs) == 1:
            links[x.name] = consumer.name
    return links


def _merged(layer: Layer, override: Mapping[str, object]) -> dict[str, object]:
    """The layer's precisions with the hardware config's per-layer overrides on top."""
    p = layer.precision
    out = {"result": p.result, "weight": p.weight, "bias": p.bias, "accum": p.accum, "table": p.table}
    if override:
        out.update(override)
    return out


register_cost_model("analytical", lambda target, arg: AnalyticalModel(target))
