"""The cost-model interface and the registry that names the implementations.

How to add a cost model:
    1. Subclass :class:`CostModel`; set ``name``; implement :meth:`CostModel.estimate_layer` (one
       layer with its resolved hardware settings -> :class:`~cost_models.cost.LayerCost`). Override
       :meth:`CostModel.combine` only if totals are not "resources add up, latency follows the critical
       path, II is the slowest layer's".
    2. Cite the source of every constant (paper, vendor guide, hls4ml version, or the data it was fitted
       on) in the docstring next to it.
    3. Register a factory: ``register_cost_model("mine", lambda target, arg: MyModel(target))``; users
       then select it with ``--cost-model mine[:ARG]``.
    4. Run the contract tests (``tests/cost_models/test_contract.py`` runs every registered model).
A model never returns 0 for something it cannot estimate: it raises UnsupportedLayerError.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import replace

from cost_models.cost import Cost, LayerCost, Target
from cost_models.counters import count_network
from cost_models.intervals import interval_factors, layer_mix
from cost_models.ir import Layer, LayerGraph
from hw_templates.config import HardwareConfig, ResolvedLayerHardware
from hw_templates.errors import SpecError, bad_value

__all__ = ["CostModel", "get_cost_model", "list_cost_models", "register_cost_model"]


class CostModel(ABC):
    """Predicts the FPGA cost of a layer graph under a hardware configuration.

    Args:
        target: predict the HLS C-synthesis estimate or post-synthesis utilization.
    """

    name: str = "abstract"
    #: True when estimates carry ``Cost.intervals`` (usable for probabilistic fit constraints).
    gives_intervals: bool = False
    #: This model's name in the out-of-source interval table (:mod:`cost_models.intervals`); None: no
    #: intervals from it.
    interval_name: str | None = None

    def __init__(self, target: Target | str = Target.HLS) -> None:
        self.target = Target.parse(target)

    @abstractmethod
    def estimate_layer(
        self, layer: Layer, settings: ResolvedLayerHardware, hw: HardwareConfig, graph: LayerGraph
    ) -> LayerCost:
        """Cost of one layer built with ``settings`` (``hw`` gives part, clock and io type)."""

    def power_w(self, totals: dict[str, float], hw: HardwareConfig) -> float | None:
        """First-order power of a design with these totals; ``None`` when the model has no power law."""
        return None

    def estimate(self, graph: LayerGraph, hw: HardwareConfig) -> Cost:
        """Cost of the whole design.

        Example:
            >>> cost = get_cost_model("analytical").estimate(graph, hw)  # doctest: +SKIP
            >>> cost.dsp, cost.latency_ns  # doctest: +SKIP
        """
        layers = tuple(self.estimate_layer(x, hw.resolve(x.name), hw, graph) for x in graph.layers)
        cost = self.combine(graph, hw, layers)
        if self.interval_name is None or cost.intervals:
            return cost
        intervals = self.intervals(graph, cost.totals())
        return replace(cost, intervals=intervals) if intervals else cost

    def combine(self, graph: LayerGraph, hw: HardwareConfig, layers: tuple[LayerCost, ...]) -> Cost:
        """Totals: resources add up, latency is the critical path, II the slowest layer's."""
        finish: dict[str, float] = {}
        for layer, cost in zip(graph.layers, layers):
            start = max((finish[s] for s in layer.inputs), default=0.0)
            finish[layer.name] = start + cost.latency_cycles
        totals = {r: sum(getattr(c, r) for c in layers) for r in ("lut", "ff", "dsp", "bram18", "uram")}
        counters = count_network(graph)
        return Cost(
            model=self.name,
            target=self.target,
            part=hw.part,
            clock_ns=hw.clock_ns,
            layers=layers,
            latency_cycles=finish[graph.output.name],
            ii_cycles=max((c.ii_cycles for c in layers), default=1.0),
            power_w=self.power_w(totals, hw),
            flops=counters.flops,
            params=counters.params,
            bops=counters.bops,
            **totals,
        )

    def intervals(self, graph: LayerGraph, totals: Mapping[str, float]) -> dict[str, tuple[float, float]]:
        """90 % prediction intervals around ``totals`` from the shipped out-of-source residuals of this
        model (:mod:`cost_models.intervals`); empty when the model or the table has none."""
        return self.mix_intervals(layer_mix(graph), totals)

    def mix_intervals(self, mix: str, totals: Mapping[str, float]) -> dict[str, tuple[float, float]]:
        """:meth:`intervals` of a design whose layer mix (:func:`~cost_models.intervals.layer_mix`) is known."""
        factors = interval_factors(self.interval_name, self.target, mix) if self.interval_name else ()
        return {t: (max((totals[t] + c) * lo - c, 0.0), max((totals[t] + c) * hi - c, 0.0)) for t, c, lo, hi in factors}


CostModelFactory = Callable[[Target, "str | None"], CostModel]
_REGISTRY: dict[str, CostModelFactory] = {}


def register_cost_model(name: str, factory: CostModelFactory) -> None:
    """Make a cost model selectable as ``name`` or ``name:ARG`` (e.g. ``lut:my_table.json``)."""
    _REGISTRY[name] = factory


def list_cost_models() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_cost_model(spec: str = "analytical", target: Target | str = Target.HLS) -> CostModel:
    """Instantiate a registered cost model from ``NAME[:ARG]`` (e.g. ``analytical``, ``lut:table.json``)."""
    _load_builtin()
    name, _, arg = str(spec).partition(":")
    if name not in _REGISTRY:
        raise SpecError(bad_value("cost model", spec, "one of " + ", ".join(sorted(_REGISTRY)), _REGISTRY))
    return _REGISTRY[name](Target.parse(target), arg or None)


def _load_builtin() -> None:
    # Imported lazily: the implementations import this module for the base class.
    import cost_models.analytical
    import cost_models.lut  # noqa: F401
