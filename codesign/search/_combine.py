"""Per-layer cost tables and their combination, for :mod:`codesign.search.inner` (see its docstring).

Raw columns of every per-layer option: ``lut, ff, dsp, bram18, latency, ii`` (cycles). A design's
totals: resources add up over all layers; the interval is the largest of any layer; latency is the
critical path over the graph of each layer's *path weight*: its latency under io_parallel, its
pipeline fill ``max(latency - ii, 0)`` under io_stream, where the slowest interval is added once at the
end (the dataflow rule of ``cost_models.analytical.stream.dataflow_latency``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from codesign.search.hardware_space import Family, HardwareSpace, LayerOption
from codesign.search.objectives import RESOURCE_FIELDS, Budget
from codesign.search.pareto import nondominated
from cost_models.base import CostModel
from cost_models.ir import LayerGraph
from hw_templates.config import Backend, HardwareConfig, IoType, Strategy
from hw_templates.parts import FpgaPart

__all__ = ["DesignTables", "build_tables", "evaluate_combos"]

_LUT, _FF, _DSP, _BRAM, _LAT, _II = range(6)
_RES_COL = {"lut": _LUT, "ff": _FF, "dsp": _DSP, "bram18": _BRAM}


@dataclass
class DesignTables:
    """Cost of every per-layer option of one architecture in one family on one part."""

    graph: LayerGraph
    family: Family
    backend: Backend
    names: list[str]  # weight layers, graph order
    options: list[list[LayerOption]]  # pruned, per weight layer
    raw: list[np.ndarray]  # (n_options, 6) per weight layer
    const_res: np.ndarray  # (4,) resources of the layers without knobs
    const_ii: float
    layer_inputs: list[list[int]]  # per graph layer, indices of its inputs
    layer_slot: list[int]  # per graph layer, its weight-layer index or -1
    const_path: list[float]  # per graph layer, path weight of a knob-less layer
    stream: bool
    size: int  # unpruned configurations

    @property
    def is_chain(self) -> bool:
        return all(len(x) <= 1 for x in self.layer_inputs)

    def path(self, raw: np.ndarray) -> np.ndarray:
        """Path weight of options with raw columns ``raw``."""
        if self.stream:
            return np.maximum(raw[..., _LAT] - raw[..., _II], 0.0)
        return raw[..., _LAT]

    def on_path(self) -> set[int]:
        """Weight-layer slots on the output's chain of ancestors (chains only)."""
        slots, node = set(), len(self.layer_inputs) - 1
        while True:
            if self.layer_slot[node] >= 0:
                slots.add(self.layer_slot[node])
            if not self.layer_inputs[node]:
                return slots
            node = self.layer_inputs[node][0]

    def lower_bounds(self) -> dict[str, np.ndarray]:
        """Totals no configuration can beat (each column at its own per-layer minimum), as 1-element arrays."""
        res = self.const_res + sum((r[:, :4].min(axis=0) for r in self.raw), np.zeros(4))
        ii = max([self.const_ii] + [float(r[:, _II].min()) for r in self.raw])
        paths = [float(self.path(r).min()) for r in self.raw]
        finish: list[float] = []
        for node, srcs in enumerate(self.layer_inputs):
            slot = self.layer_slot[node]
            weight = paths[slot] if slot >= 0 else self.const_path[node]
            finish.append(max((finish[s] for s in srcs), default=0.0) + weight)
        out = {r: np.array([res[c]]) for r, c in _RES_COL.items()}
        out.update(latency_cycles=np.array([finish[-1] + (ii if self.stream else 0.0)]), ii_cycles=np.array([ii]))
        return out

    def config(self, row: np.ndarray, part: FpgaPart, clock_ns: float) -> HardwareConfig:
        """The hardware configuration picking option ``row[k]`` for weight layer ``k``."""
        choices = {name: self.options[k][int(row[k])] for k, name in enumerate(self.names)}
        return self.family.config(part, clock_ns, self.backend, choices)

    def combine(
        self,
        caps: dict[str, float],
        cost_metrics: Sequence[str],
        budgets: Sequence[Budget],
        part: FpgaPart,
        clock: float,
    ) -> tuple[np.ndarray, int, bool]:
        """Candidate combinations ``(n, n_weight_layers)`` of option indices, formed count, exactness."""
        feats, kinds, const, cap_vec = self._features(caps, cost_metrics, budgets, part, clock)
        pruned = [nondominated(f) for f in feats]
        self.options = [[opts[i] for i in keep] for opts, keep in zip(self.options, pruned)]
        self.raw = [r[keep] for r, keep in zip(self.raw, pruned)]
        feats = [f[keep] for f, keep in zip(feats, pruned)]
        counts = [len(f) for f in feats]
        if math.prod(counts) <= _exhaustive_limit():
            grids = np.indices(counts).reshape(len(counts), -1).T if counts else np.zeros((1, 0), dtype=int)
            return grids.astype(int), len(grids), True
        return _merge(feats, kinds, const, cap_vec, exact=self.is_chain)

    def _features(
        self,
        caps: dict[str, float],
        cost_metrics: Sequence[str],
        budgets: Sequence[Budget],
        part: FpgaPart,
        clock: float,
    ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
        """Per-layer comparison columns: only what an objective or a binding cap can see."""
        watched = set(cost_metrics) | {b.metric for b in budgets}
        chain = self.is_chain
        on_path = self.on_path() if chain else set(range(len(self.names)))
        cols: list[tuple[str, object]] = []  # (kind, spec): kind "sum" | "max"
        for r in RESOURCE_FIELDS:
            most = self.const_res[_RES_COL[r]] + sum(float(x[:, _RES_COL[r]].max()) for x in self.raw)
            if r in watched or "utilization" in watched or most > caps[r]:
                cols.append(("sum", ("res", r)))
        if "lut_dsp" in watched:
            cols.append(("sum", ("lut_dsp", None)))
        if watched & {"latency_ns", "latency_cycles"}:
            cols.append(("sum", ("path", None)))
        if watched & {"ii_cycles", "ii_ns"} or (self.stream and watched & {"latency_ns", "latency_cycles"}):
            cols.append(("max", ("ii", None)))
        feats = []
        for k, raw in enumerate(self.raw):
            columns = [_column(spec, raw, self, part, k in on_path) for _, spec in cols]
            feats.append(np.stack(columns, axis=1) if columns else np.zeros((len(raw), 0)))
        kinds = np.array([kind == "max" for kind, _ in cols], dtype=bool)
        const = np.array([_const(spec, self, part) for _, spec in cols])
        cap_vec = np.array([_cap(spec, caps, budgets, part, clock) for _, spec in cols])
        if not chain:  # the merge ranks branched graphs by summed latency, which may exceed the true path
            cap_vec = np.where([spec[0] == "path" for _, spec in cols], np.inf, cap_vec)
        return feats, kinds, const, cap_vec


def _exhaustive_limit() -> int:
    from codesign.search import inner  # the limit is documented (and patchable) there

    return inner.EXHAUSTIVE_LIMIT


def _column(spec: tuple[str, object], raw: np.ndarray, tables: DesignTables, part: FpgaPart, on_path: bool):
    what, name = spec
    if what == "res":
        return raw[:, _RES_COL[name]]
    if what == "lut_dsp":
        return raw[:, _LUT] / part.lut + raw[:, _DSP] / part.dsp
    if what == "path":
        return tables.path(raw) if on_path else np.zeros(len(raw))
    return raw[:, _II]


def _const(spec: tuple[str, object], tables: DesignTables, part: FpgaPart) -> float:
    what, name = spec
    if what == "res":
        return float(tables.const_res[_RES_COL[name]])
    if what == "lut_dsp":
        return float(tables.const_res[_LUT] / part.lut + tables.const_res[_DSP] / part.dsp)
    if what == "path":
        return 0.0  # knob-less layers' path weights are added exactly at evaluation
    return tables.const_ii


def _cap(spec, caps: dict[str, float], budgets: Sequence[Budget], part: FpgaPart, clock: float) -> float:
    what, name = spec
    if what == "res":
        return caps[name]
    if what in ("path", "ii"):
        limits = [math.inf]
        for b in budgets:
            if b.metric == "latency_cycles" or (what == "ii" and b.metric == "ii_cycles"):
                limits.append(b.limit)
            elif b.metric == "latency_ns" or (what == "ii" and b.metric == "ii_ns"):
                limits.append(b.limit / clock)
        return min(limits)
    return math.inf


def _merge(
    feats: list[np.ndarray], kinds: np.ndarray, const: np.ndarray, caps: np.ndarray, exact: bool
) -> tuple[np.ndarray, int, bool]:
    """Layer-by-layer non-dominated merge of partial sums (see the inner module docstring)."""
    from codesign.search.inner import MAX_FRONT

    n_layers = len(feats)
    lows = [np.where(kinds, -np.inf, f.min(axis=0)) if len(f) else np.zeros(len(kinds)) for f in feats]
    rest = [np.sum([np.where(kinds, 0.0, low) for low in lows[k + 1 :]], axis=0) for k in range(n_layers)]
    front = const[None, :].copy()
    index = np.zeros((1, 0), dtype=int)
    formed = 0
    for k, f in enumerate(feats):
        cand = np.where(kinds, np.maximum(front[:, None, :], f[None, :, :]), front[:, None, :] + f[None, :, :])
        cand = cand.reshape(-1, len(kinds))
        idx = np.concatenate([np.repeat(index, len(f), axis=0), np.tile(np.arange(len(f)), len(front))[:, None]], 1)
        formed += len(cand)
        bound = np.where(kinds, cand, cand + (rest[k] if n_layers > k + 1 else 0.0))
        ok = np.all(bound <= caps[None, :] * (1 + 1e-9), axis=1)
        cand, idx = cand[ok], idx[ok]
        keep = nondominated(cand)
        front, index = cand[keep], idx[keep]
        if len(front) > MAX_FRONT:
            keep = _thin(front, MAX_FRONT)
            front, index, exact = front[keep], index[keep], False
    return index, formed, exact


def _thin(points: np.ndarray, limit: int) -> np.ndarray:
    """Keep one point per relative grid box, coarsening the grid until at most ``limit`` remain."""
    eps = 0.005
    logs = np.log1p(np.maximum(points, 0.0))
    while True:
        boxes = np.floor(logs / eps).astype(np.int64)
        _, first = np.unique(boxes, axis=0, return_index=True)
        if len(first) <= limit:
            return np.sort(first)
        eps *= 1.5


def evaluate_combos(tables: DesignTables, combos: np.ndarray) -> dict[str, np.ndarray]:
    """Exact totals (``lut .. ii_cycles``) of each combination, vectorised."""
    n = len(combos)
    res = np.tile(tables.const_res, (n, 1))
    ii = np.full(n, tables.const_ii)
    picked = []
    for k, raw in enumerate(tables.raw):
        rows = raw[combos[:, k]]
        res += rows[:, :4]
        ii = np.maximum(ii, rows[:, _II])
        picked.append(tables.path(rows))
    finish: list[np.ndarray] = []
    for node, srcs in enumerate(tables.layer_inputs):
        start = np.max(np.stack([finish[s] for s in srcs]), axis=0) if srcs else np.zeros(n)
        slot = tables.layer_slot[node]
        finish.append(start + (picked[slot] if slot >= 0 else tables.const_path[node]))
    latency = finish[-1] + (ii if tables.stream else 0.0)
    out = {r: res[:, c] for r, c in _RES_COL.items()}
    out.update(latency_cycles=latency, ii_cycles=ii)
    return out


def build_tables(
    graph: LayerGraph, family: Family, part: FpgaPart, space: HardwareSpace, model: CostModel
) -> DesignTables:
    """Cost every per-layer option of ``graph`` in ``family`` on ``part`` (see the module docstring)."""
    base_hw = family.base_config(part, space.clock_ns, space.backend)
    base = model.estimate(graph, base_hw)
    stream = family.io_type is IoType.STREAM
    index = {x.name: i for i, x in enumerate(graph.layers)}
    names, options, raws, slots, const_path = [], [], [], [], []
    const_res, const_ii, size = np.zeros(4), 1.0, 1
    for layer, cost in zip(graph.layers, base.layers):
        row = np.array([cost.lut, cost.ff, cost.dsp, cost.bram18, cost.latency_cycles, cost.ii_cycles])
        if not layer.kind.has_weights:
            const_res += row[:4]
            const_ii = max(const_ii, row[_II])
            slots.append(-1)
            const_path.append(float(max(row[_LAT] - row[_II], 0.0) if stream else row[_LAT]))
            continue
        opts = family.layer_options(layer)
        size *= len(opts)
        slots.append(len(names))
        const_path.append(0.0)
        names.append(layer.name)
        options.append(opts)
        raws.append(_option_table(model, layer, graph, base_hw, opts, row))
    inputs = [[index[s] for s in x.inputs] for x in graph.layers]
    return DesignTables(
        graph, family, space.backend, names, options, raws, const_res, const_ii, inputs, slots, const_path, stream, size
    )


def _option_table(model: CostModel, layer, graph: LayerGraph, base_hw: HardwareConfig, opts, base_row) -> np.ndarray:
    """Raw columns of every option of one weight layer (``layer_grid`` when the model has it)."""
    out = np.zeros((len(opts), 6))
    grid_fn = getattr(model, "layer_grid", None)
    if grid_fn is None:
        for j, opt in enumerate(opts):
            hw = base_hw.with_layer(
                layer.name, strategy=opt.strategy, reuse_factor=opt.reuse_factor,
                parallelization_factor=opt.parallelization_factor,
            )  # fmt: skip
            c = model.estimate_layer(layer, hw.resolve(layer.name), hw, graph)
            out[j] = (c.lut, c.ff, c.dsp, c.bram18, c.latency_cycles, c.ii_cycles)
        return out
    own = base_hw.resolve(layer.name)
    at_base = grid_fn(layer, base_hw, np.array([float(own.reuse_factor)]), own.strategy, graph=graph)
    offset = base_row[:4] - np.array([at_base[k][0] for k in ("lut", "ff", "dsp", "bram18")])
    groups: dict[tuple[Strategy, int], list[int]] = {}
    for j, opt in enumerate(opts):
        groups.setdefault((opt.strategy, opt.parallelization_factor), []).append(j)
    for (strategy, pf), rows in groups.items():
        hw = base_hw.with_layer(layer.name, parallelization_factor=pf) if pf > 1 else base_hw
        rfs = np.array([opts[j].reuse_factor for j in rows], dtype=float)
        grid = grid_fn(layer, hw, rfs, strategy, graph=graph)
        block = np.stack([grid[k] for k in ("lut", "ff", "dsp", "bram18", "latency_cycles", "ii_cycles")], 1)
        block[:, :4] += offset
        out[rows] = block
    return out
