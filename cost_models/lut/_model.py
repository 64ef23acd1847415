"""The lookup-table cost model: the analytical estimate, corrected by a table fitted on synthesis results.

For each metric (LUT, FF, DSP, BRAM18, latency) the model looks up the design's correction in the
table and predicts ``(analytical + 1) * exp(correction) - 1``; the 90 % interval comes from the
bucket's cross-fitted residual quantiles, widened where the table has little support. Where the table
has no support (or its correction is below 0.5 %) the analytical figure stands exactly, with the
analytical model's residual interval, and ``Cost.notes`` says so: every note names the table, the
factor applied per metric and the sources behind it, or says that the analytical figure was used and
why. Per-layer figures are the analytical ones scaled by the design's correction, so
they still add up to the totals. II and URAM are the analytical figures.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import replace
from pathlib import Path

from cost_models.analytical import AnalyticalConstants, AnalyticalModel
from cost_models.base import CostModel
from cost_models.cost import Cost, LayerCost, Target
from cost_models.ir import Layer, LayerGraph
from cost_models.lut._build import analytical_fingerprint, metric_value
from cost_models.lut._features import METRICS, OFFSET, DesignPoint, design_point
from cost_models.lut._table import Hit, LutTable
from hw_templates.config import HardwareConfig, ResolvedLayerHardware

__all__ = ["DEFAULT_TABLE", "LutModel", "load_table"]

logger = logging.getLogger(__name__)

#: The shipped default table, built by ``scripts/build_lut_table.py`` from the shared calibration data.
DEFAULT_TABLE = Path(__file__).resolve().parent.parent / "data" / "lut_default.json"
_LAYER_NOTE = "lut: analytical figure scaled by the design-level table correction"


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, mtime_ns: int) -> LutTable:
    return LutTable.load(path)


def load_table(path: str | Path | None = None) -> LutTable:
    """Load a table (the shipped default when ``path`` is None), cached while the file is unchanged.

    Raises:
        CalibrationError: the file is missing or not a lookup table.
    """
    resolved = Path(path) if path is not None else DEFAULT_TABLE
    mtime = resolved.stat().st_mtime_ns if resolved.is_file() else -1
    return _load_cached(str(resolved), mtime)


@functools.lru_cache(maxsize=1)
def _current_fingerprint() -> str:
    return analytical_fingerprint()


class LutModel(CostModel):
    """Analytical model corrected by a lookup table (see the module docstring).

    Args:
        target: predict the HLS estimate or post-synthesis figures.
        table: a loaded table; the shipped default when None.
        constants: the analytical model's constants the table was built against (the shipped ones when
            None); validation passes the constants it refitted without the held-out data.

    Example:
        >>> from cost_models import get_cost_model
        >>> model = get_cost_model("lut", "synth")  # doctest: +SKIP
        >>> cost = model.estimate(graph, hw)  # doctest: +SKIP
        >>> cost.intervals["lut"]  # doctest: +SKIP
        (10234.0, 15877.0)
    """

    name = "lut"
    gives_intervals = True
    interval_name = "lut"

    def __init__(
        self,
        target: Target | str = Target.HLS,
        table: LutTable | None = None,
        constants: AnalyticalConstants | None = None,
    ) -> None:
        super().__init__(target)
        self.table = table if table is not None else load_table()
        self._analytical = AnalyticalModel(self.target, constants)
        current = _current_fingerprint() if constants is None else analytical_fingerprint(constants)
        self._stale = self.table.provenance.get("analytical_fingerprint") not in (None, current)
        if self._stale:
            logger.warning("lut: the table was built against another analytical model; rebuild it")
        self._last: tuple[LayerGraph, HardwareConfig, Cost] | None = None

    def estimate_layer(
        self, layer: Layer, settings: ResolvedLayerHardware, hw: HardwareConfig, graph: LayerGraph
    ) -> LayerCost:
        """The layer's share of the corrected design estimate (the correction is design-level)."""
        if self._last is None or self._last[0] is not graph or self._last[1] is not hw:
            self._last = (graph, hw, self.estimate(graph, hw))
        index = [x.name for x in graph.layers].index(layer.name)
        return self._last[2].layers[index]

    def power_w(self, totals: dict[str, float], hw: HardwareConfig) -> float | None:
        """The analytical model's first-order power law, applied to the corrected totals."""
        return self._analytical.power_w(totals, hw)

    def estimate(self, graph: LayerGraph, hw: HardwareConfig) -> Cost:
        """Corrected cost of the whole design, with 90 % intervals in ``Cost.intervals``.

        Raises:
            ReuseFactorError / UnsupportedLayerError: as the analytical model.
        """
        base = self._analytical.estimate(graph, hw)
        point = design_point(graph, hw, base, self.target)
        totals: dict[str, float] = {}
        intervals: dict[str, tuple[float, float]] = {}
        applied = _Applied(self.table.settings.cross_fit == "source")
        hits = self.table.lookup_all(point)
        for metric in METRICS:
            value, hit = metric_value(base, metric), hits[metric]
            if hit is None:
                low, high = self.table.fallback_quantiles(self.target.value, metric)
            else:
                if abs(hit.log_ratio) >= _NO_CORRECTION:  # below it the analytical figure stands exactly
                    value = max((value + OFFSET) * math.exp(hit.log_ratio) - OFFSET, 0.0)
                low, high = hit.low, hit.high
            applied.add(metric, hit)
            totals[metric] = value
            intervals[metric] = (_shift(value, low), _shift(value, high))
        # A table for new sources (the shipped one) takes the leave-source-out intervals; a table calibrated on
        # the user's own builds keeps its own cross-fitted ones (its next designs come from the same source).
        out_of_source = self.intervals(graph, totals) if self.table.settings.cross_fit == "source" else {}
        held_out = "sources" if self.table.settings.cross_fit == "source" else "architectures"
        notes = (
            *applied.notes(point, held_out, self._why_none(point)),
            self._interval_note(bool(out_of_source), applied),
        )
        layer_note = _LAYER_NOTE if applied.corrected else "lut: analytical (no correction applied)"
        if len(applied.unsupported) == len(METRICS):
            layer_note = "lut: analytical (no table support)"
        layers = _scaled_layers(base, totals, (layer_note,))
        resources = {"lut": totals["lut"], "ff": totals["ff"], "dsp": totals["dsp"], "bram18": totals["bram18"]}
        power = self.power_w({**resources, "uram": base.uram}, hw)
        stale = ("lut: table built against another analytical model version; rebuild it",) if self._stale else ()
        return replace(
            base,
            model=self.name,
            layers=layers,
            intervals=out_of_source or intervals,
            notes=(*notes, *stale, *base.notes),
            power_w=power,
            **totals,
        )

    def _why_none(self, point: DesignPoint) -> str:
        """Why the table says nothing about a metric of this design."""
        if not any(key[1] == point.key["kind"] for _, key in self.table.buckets):
            return f"the table has no calibration rows of {point.key['kind']} layers"
        if self.table.settings.cross_fit == "source":
            return (
                f"no correction of this kind of design that transfers between sources, seen in at least "
                f"{self.table.settings.min_sources} sources with designs near this one"
            )
        return "no calibration rows of this kind of design near this one"

    def _interval_note(self, out_of_source: bool, applied: _Applied) -> str:
        level = round(100 * self.table.settings.interval_level)
        if out_of_source:
            source = "this model's leave-source-out residuals"
        elif not applied.corrected and not applied.unchanged:
            source = "the analytical model's residuals"
        else:
            source = "cross-fitted residuals"
        return f"lut: intervals are {level} % prediction intervals from {source}"


#: A correction smaller than this (natural log, 0.5 %) is reported as none.
_NO_CORRECTION = 0.005


class _Applied:
    """What the table did to each metric, for notes that say exactly that."""

    def __init__(self, by_source: bool) -> None:
        self.by_source = by_source
        self.corrected: dict[tuple[int, tuple[str, ...], int, int, int], list[str]] = {}
        self.unchanged: list[str] = []
        self.unsupported: list[str] = []

    def add(self, metric: str, hit: Hit | None) -> None:
        if hit is None:
            self.unsupported.append(metric)
        elif abs(hit.log_ratio) < _NO_CORRECTION:
            self.unchanged.append(metric)
        else:
            b = hit.bucket
            key = (b.level, b.key, b.rows, b.sources, hit.sources)
            self.corrected.setdefault(key, []).append(f"{metric} x{math.exp(hit.log_ratio):.2f}")

    def notes(self, point: DesignPoint, held_out: str, why_none: str) -> list[str]:
        out = []
        for (level, _, rows, sources, near), changes in self.corrected.items():
            pooled = {0: "", 1: ", pooled over HLS tools", 2: ", pooled over HLS tools and part families"}[level]
            # a table for new sources says how many sources stand behind the correction (a user's own table has one)
            behind = f" from {sources} sources" if sources and self.by_source else ""
            close = f", {near} with designs near this one" if near and self.by_source else ""
            table = f"the {point.label()} table ({rows} rows{behind}{pooled}{close})"
            out.append(f"lut: corrected by {table}: {', '.join(changes)}")
        if self.unchanged:
            out.append(
                f"lut: {', '.join(self.unchanged)} not corrected (analytical used): the {point.label()} table's "
                f"corrections do not transfer between its {held_out}"
            )
        if self.unsupported:
            out.append(
                f"lut: no support for {point.label()} ({', '.join(self.unsupported)}), analytical used: {why_none}"
            )
        return out


def _shift(value: float, log_offset: float) -> float:
    return max((value + OFFSET) * math.exp(log_offset) - OFFSET, 0.0)


def _scaled_layers(base: Cost, totals: dict[str, float], notes: tuple[str, ...]) -> tuple[LayerCost, ...]:
    """Per-layer analytical figures scaled so they add up to the corrected totals."""
    scale = {}
    for metric in ("lut", "ff", "dsp", "bram18", "latency_cycles"):
        before = metric_value(base, metric)
        scale[metric] = totals[metric] / before if before > 0 else 1.0
    return tuple(
        replace(
            layer,
            lut=layer.lut * scale["lut"],
            ff=layer.ff * scale["ff"],
            dsp=layer.dsp * scale["dsp"],
            bram18=layer.bram18 * scale["bram18"],
            latency_cycles=layer.latency_cycles * scale["latency_cycles"],
            notes=(*layer.notes, *notes),
        )
        for layer in base.layers
    )
