"""The :class:`AnalyticalModel`: a layer's mechanism terms (:mod:`.layers`) in its context
(:mod:`.context`), with the FIFOs of io_stream designs (:mod:`.links`, :mod:`.stream`), priced by the
fitted coefficients (:mod:`.constants`) and combined into a design's cost (:mod:`.combine`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from cost_models.analytical._num import maximum
from cost_models.analytical.combine import combine_layers
from cost_models.analytical.constants import DEFAULT_CONSTANTS, FF_FEATURES, LUT_FEATURES, AnalyticalConstants
from cost_models.analytical.context import ContextBuilder
from cost_models.analytical.layers import WIRE_KINDS, LayerContext, layer_terms
from cost_models.analytical.limits import buildable_settings, unroll_warnings
from cost_models.analytical.links import IN_PLACE, GraphIndex, merged
from cost_models.analytical.matvec import Terms, add_terms
from cost_models.analytical.power import power_w
from cost_models.analytical.recurrent import recurrent_notes
from cost_models.analytical.stream import dense_reads, fifo_terms, sized_fifo_depth, stream_tokens
from cost_models.base import CostModel
from cost_models.cost import Cost, LayerCost, Target
from cost_models.counters import Counters, count_layer
from cost_models.ir import Layer, LayerGraph, LayerKind
from cost_models.kinds import RECURRENT_KINDS
from hw_templates.config import FifoDepths, HardwareConfig, IoType, ResolvedLayerHardware, Strategy
from hw_templates.reuse import check_reuse_factor

__all__ = ["GRID_KEYS", "AnalyticalModel"]

#: Keys of :meth:`AnalyticalModel.layer_grid`'s result.
GRID_KEYS = ("lut", "ff", "dsp", "bram18", "latency_cycles", "ii_cycles")
_WIRE_NOTE = ("data movement only in io_parallel: no logic (wires)",)
_CACHE_LIMIT = 4096
#: Entries of the per-layer terms cache: enough for the layer settings a search keeps revisiting; a
#: bigger cache of configurations seen once makes every garbage collection walk more objects.
_TERMS_CACHE_LIMIT = 1024


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
        self._rom_ratio = c.synth_ratio["bram18_rom"] if synth else 1.0
        self._index = GraphIndex()
        self._contexts = ContextBuilder(self.constants, self._index)
        self._counter_cache: dict[tuple[int, int], tuple[Layer, Counters]] = {}
        self._terms_cache: dict[tuple, tuple[Layer, Terms]] = {}
        self._legal_rf: set[tuple[int, int, int]] = set()

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
        ctx, _ = self._contexts.build(layer, settings, hw, graph)
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
        pipeline's (io_stream, see :mod:`.stream`); II is the slowest layer's; with the 90 % intervals
        (:mod:`.combine`)."""
        synthesis = self.constants if self.target is Target.SYNTH else None
        return combine_layers(self, hw, layers, self._index.refresh(graph), synthesis)

    def _layer_terms(
        self, layer: Layer, settings: ResolvedLayerHardware, hw: HardwareConfig, graph: LayerGraph
    ) -> tuple[Terms, LayerContext]:
        settings = buildable_settings(layer, settings, hw)
        if layer.kind.has_weights and settings.strategy is Strategy.RESOURCE:
            self._check_reuse(layer, settings.reuse_factor)
        ctx, values = self._contexts.build(layer, settings, hw, graph)
        terms = self._terms(layer, settings.reuse_factor, ctx, values)
        if ctx.stream and layer.kind is LayerKind.DENSE:
            self._add_dense_reads(terms, layer, graph)
        # A sized FIFO is priced with its consumer (its depth follows the consumer's interval).
        output_fifo = ctx.stream and layer.kind not in IN_PLACE and layer.name != graph.layers[-1].name
        if output_fifo and not self._sized_link(layer.name, hw, graph):
            fifo = fifo_terms(layer.output_shape, ctx.res_bits, settings.fifo_depth, self.constants)
            add_terms(terms, dict.fromkeys(terms, 0) | fifo)
        self._add_sized_input_fifo(terms, layer, hw, graph)
        return terms, ctx

    def _terms(self, layer: Layer, rf: int, ctx: LayerContext, values: tuple) -> Terms:
        """:func:`~.layers.layer_terms` (a pure function of the layer, the reuse factor and the context's
        values), cached by them: a search prices the same layer at the same settings many times. A copy:
        the caller adds FIFOs and reads to it."""
        key = (id(layer), rf, values)
        hit = self._terms_cache.get(key)
        if hit is None or hit[0] is not layer:
            if len(self._terms_cache) > _TERMS_CACHE_LIMIT:
                self._terms_cache.clear()
            hit = self._terms_cache[key] = (layer, layer_terms(layer, rf, ctx))
        return dict(hit[1])

    def _check_reuse(self, layer: Layer, rf: int) -> None:
        """Refuse a Resource reuse factor hls4ml would change (the rule is a pure function of the three numbers);
        a recurrent product gets the value hls4ml derives (``Layer.reuse_units``, recurrent.py)."""
        for n_in, n_out in layer.reuse_units():
            key = (n_in, n_out, rf)
            if key not in self._legal_rf:
                check_reuse_factor(f"layer {layer.name!r}", n_in, n_out, rf)
                self._legal_rf.add(key)

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
            if layer.kind in IN_PLACE:
                continue
            settings = hw.resolve(layer.name)
            depth = settings.fifo_depth or stream_tokens(layer.output_shape)
            if self._sized_link(layer.name, hw, graph):
                consumer = self._index.layer(graph, self._index.feeds[layer.name])
                ii = self.estimate_layer(consumer, hw.resolve(consumer.name), hw, graph).ii_cycles
                depth = int(sized_fifo_depth(stream_tokens(layer.output_shape), ii))
            out[layer.name] = depth
        return out

    def _sized_link(self, producer: str, hw: HardwareConfig, graph: LayerGraph) -> bool:
        """True when ``producer``'s output FIFO is sized (and priced with its consumer)."""
        if hw.fifo_depths is not FifoDepths.SIZED or hw.resolve(producer).fifo_depth is not None:
            return False
        return producer in self._index.refresh(graph).feeds

    def _add_sized_input_fifo(self, terms: Terms, layer: Layer, hw: HardwareConfig, graph: LayerGraph) -> None:
        """Add the sized FIFO that feeds ``layer`` (its depth from ``terms["ii"]``, scalar or array)."""
        if hw.io_type is not IoType.STREAM or hw.fifo_depths is not FifoDepths.SIZED or not layer.inputs:
            return
        index = self._index.refresh(graph)
        producer_name = index.fed_by.get(layer.name)
        if producer_name is None or not self._sized_link(producer_name, hw, graph):
            return
        producer = index.by_name[producer_name]
        bits = merged(producer, hw.resolve(producer_name).precision)["result"].width
        depth = sized_fifo_depth(stream_tokens(producer.output_shape), terms["ii"])
        add_terms(terms, dict.fromkeys(terms, 0) | fifo_terms(producer.output_shape, bits, depth, self.constants))

    def _add_dense_reads(self, terms: Terms, layer: Layer, graph: LayerGraph | None) -> None:
        """A streamed Dense layer's input reads (:func:`~.stream.dense_reads`; one without a graph)."""
        reads = 1
        if graph is not None and layer.inputs:
            reads = dense_reads(layer, self._index.refresh(graph).by_name)
        terms["latency"] = terms["latency"] + reads
        terms["ii"] = maximum(terms["ii"], reads)

    def _resources(self, terms: Terms) -> tuple[object, object, object, object]:
        # the Resource strategy's weight ROMs have their own post-synthesis share (constants.py, synth_ratio)
        bram18 = terms["bram18"] * self._bram_ratio + terms["bram18_rom"] * self._rom_ratio + terms["bram18_index"]
        lut = terms["lut_fixed"] + terms["rom_lut"] * (1.0 - self._rom_ratio)
        for key, coef in self._lut_coef:
            lut = lut + coef * terms[key]
        ff = terms["ff_fixed"]
        for key, coef in self._ff_coef:
            ff = ff + coef * terms[key]
        return lut, ff, terms["dsp"] * self._dsp_ratio, bram18

    def _counters(self, layer: Layer, a_bits: int) -> Counters:
        """FLOPs, parameters and BOPs of ``layer`` (they depend on the layer and its input width only)."""
        key = (id(layer), a_bits)
        hit = self._counter_cache.get(key)
        if hit is None or hit[0] is not layer:
            if len(self._counter_cache) > _CACHE_LIMIT:
                self._counter_cache.clear()
            hit = self._counter_cache[key] = (layer, count_layer(layer, a_bits))
        return hit[1]
