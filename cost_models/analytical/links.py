"""The links of a design that the model reads: layers by name, and the io_stream FIFOs it can size.

hls4ml connects io_stream layers by ``hls::stream`` FIFOs, one per producing layer (flatten and reshape
pass their input stream through in place). With ``fifo_depths: sized`` a FIFO between exactly one
producer and one consumer is sized for the consumer's interval (:func:`~.stream.sized_fifo_depth`) and
priced with that consumer; every other FIFO holds one tensor.
"""

from __future__ import annotations

from collections.abc import Mapping

from cost_models.intervals import layer_mix
from cost_models.ir import Layer, LayerGraph, LayerKind

__all__ = ["IN_PLACE", "GraphIndex", "merged", "single_links"]

#: Kinds that pass their input stream through: no FIFO of their own (hls4ml's in-place layers).
IN_PLACE = frozenset({LayerKind.INPUT, LayerKind.FLATTEN, LayerKind.RESHAPE})


class GraphIndex:
    """Per-graph maps of the last graph seen (rebuilt when another graph comes; estimates are per graph).

    Attributes:
        by_name: layer by name; feeds: producer -> consumer of every single link
            (:func:`single_links`); fed_by: the reverse.
        inputs: per layer (graph order), the positions of its input layers; output: the output
            layer's position.
        mix: the graph's layer mix for the interval table (:func:`~cost_models.intervals.layer_mix`).
    """

    __slots__ = ("by_name", "fed_by", "feeds", "graph", "inputs", "mix", "output")

    def __init__(self) -> None:
        self.graph: LayerGraph | None = None
        self.by_name: dict[str, Layer] = {}
        self.feeds: dict[str, str] = {}
        self.fed_by: dict[str, str] = {}
        self.inputs: list[tuple[int, ...]] = []
        self.output = 0
        self.mix = ""

    def refresh(self, graph: LayerGraph) -> GraphIndex:
        """The maps of ``graph`` (built on its first use)."""
        if graph is not self.graph:
            self.graph = graph
            self.by_name = {x.name: x for x in graph.layers}
            self.feeds = single_links(graph)
            self.fed_by = {consumer: producer for producer, consumer in self.feeds.items()}
            position = {x.name: i for i, x in enumerate(graph.layers)}
            self.inputs = [tuple(position[s] for s in x.inputs) for x in graph.layers]
            self.output = position[graph.output.name]
            self.mix = layer_mix(graph)
        return self

    def layer(self, graph: LayerGraph, name: str) -> Layer:
        """The layer ``name`` of ``graph``."""
        return self.refresh(graph).by_name[name]


def single_links(graph: LayerGraph) -> dict[str, str]:
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
        if x.kind in IN_PLACE:
            continue
        node = x.name
        while len(consumers[node]) == 1 and kinds[consumers[node][0]].kind in IN_PLACE:
            node = consumers[node][0]
        if len(consumers[node]) != 1:
            continue
        consumer = kinds[consumers[node][0]]
        if len(consumer.inputs) == 1:
            links[x.name] = consumer.name
    return links


def merged(layer: Layer, override: Mapping[str, object]) -> dict[str, object]:
    """The layer's precisions with the hardware config's per-layer overrides on top."""
    p = layer.precision
    out = {"result": p.result, "weight": p.weight, "bias": p.bias, "accum": p.accum, "table": p.table}
    if override:
        out.update(override)
    return out
