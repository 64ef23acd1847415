"""Per-layer cost tables and their combination, for :mod:`codesign.search.inner` (see its docstring).

Raw columns of every per-layer option: ``lut, ff, dsp, bram18, uram, latency, ii`` (cycles). A design's
totals: resources add up over all layers; the interval is the largest of any layer; latency is the
critical path over the graph of each layer's *path weight*: its latency under io_parallel, its
pipeline fill ``max(latency - ii, 0)`` under io_stream, where the slowest interval is added once at the
end (the dataflow rule of ``cost_models.analytical.stream.dataflow_latency``).

The columns options are compared on come from the metric table (:mod:`codesign.search.metrics`): a
``sum`` metric is one column (its resource combination), ``path`` the path weight, ``max`` the
interval, and a ``derived`` metric the columns of the metrics it is derived from.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from codesign.search.hardware_space import Family, HardwareSpace, LayerOption
from codesign.search.metrics import ALIASES, METRIC_TABLE, RESOURCE_FIELDS
from codesign.search.objectives import Budget
from codesign.search.pareto import nondominated
from cost_models.base import CostModel
from cost_models.ir import LayerGraph
from hw_templates.config import Backend, HardwareConfig, IoType, Strategy
from hw_templates.parts import FpgaPart

__all__ = ["DesignTables", "build_tables", "evaluate_combos"]

_NRES = len(RESOURCE_FIELDS)
_LAT, _II = _NRES, _NRES + 1
_RES_COL = {r: i for i, r in enumerate(RESOURCE_FIELDS)}
_RAW_COLUMNS = (*RESOURCE_FIELDS, "latency_cycles", "ii_cycles")


@dataclass
class DesignTables:
    """Cost of every per-layer option of one architecture in one family on one part."""

    graph: LayerGraph
    family: Family
    backend: Backend
    names: list[str]  # weight layers, graph order
    options: list[list[LayerOption]]  # pruned, per weight layer
    raw: list[np.ndarray]  # (n_options, 7) per weight layer
    const_res: np.ndarray  # (5,) resources of the layers without knobs
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
        res = self.const_res + sum((r[:, :_NRES].min(axis=0) for r in self.raw), np.zeros(_NRES))
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
        chain = self.is_chain
        on_path = self.on_path() if chain else set(range(len(self.names)))
        specs = _feature_specs([*cost_metrics, *(b.metric for b in budgets)], self.stream)
        for r in RESOURCE_FIELDS:  # a resource that could break a cap is compared too
            most = self.const_res[_RES_COL[r]] + sum(float(x[:, _RES_COL[r]].max()) for x in self.raw)
            if most > caps[r] and ("res", r) not in specs:
                specs.append(("res", r))
        specs.sort(key=lambda spec: _SPEC_ORDER.index(spec[0]))
        feats = []
        for k, raw in enumerate(self.raw):
            columns = [_column(spec, raw, self, part, clock, k in on_path) for spec in specs]
            feats.append(np.stack(columns, axis=1) if columns else np.zeros((len(raw), 0)))
        kinds = np.array([spec[0] == "ii" for spec in specs], dtype=bool)
        const = np.array([_const(spec, self, part, clock) for spec in specs])
        cap_vec = np.array([_cap(spec, caps, budgets, part, clock) for spec in specs])
        if not chain:  # the merge ranks branched graphs by summed latency, which may exceed the true path
            cap_vec = np.where([spec[0] == "path" for spec in specs], np.inf, cap_vec)
        return feats, kinds, const, cap_vec


_SPEC_ORDER = ("res", "lin", "path", "ii")


def _feature_specs(names: Sequence[str], stream: bool) -> list[tuple[str, str | None]]:
    """The per-layer columns that see metrics ``names`` (each once): ``("res", resource)``, ``("lin", metric)``
    for other resource combinations, ``("path", None)`` and ``("ii", None)`` (the only ``max`` column)."""
    out: list[tuple[str, str | None]] = []
    for name in names:
        metric = METRIC_TABLE.get(ALIASES.get(name, name))
        if metric is None:  # a figure of the user's own: no per-layer column sees it
            continue
        if metric.combine == "derived":
            found = _feature_specs(metric.via, stream)
        elif metric.combine == "sum":
            found = [("res", metric.name) if metric.name in _RES_COL else ("lin", metric.name)]
        elif metric.combine == "path":  # under io_stream the slowest interval is part of the latency
            found = [("path", None), ("ii", None)] if stream else [("path", None)]
        else:
            found = [("ii", None)]
        out += [spec for spec in found if spec not in out]
    return out


def _exhaustive_limit() -> int:
    from codesign.search import inner  # the limit is documented (and patchable) there

    return inner.EXHAUSTIVE_LIMIT


def _column(spec, raw: np.ndarray, tables: DesignTables, part: FpgaPart, clock: float, on_path: bool) -> np.ndarray:
    what, name = spec
    if what == "res":
        return raw[:, _RES_COL[name]]
    if what == "lin":
        coef, _ = METRIC_TABLE[name].weights(part, clock)
        return sum((c * raw[:, _RES_COL[r]] for r, c in coef.items()), np.zeros(len(raw)))
    if what == "path":
        return tables.path(raw) if on_path else np.zeros(len(raw))
    return raw[:, _II]


def _const(spec, tables: DesignTables, part: FpgaPart, clock: float) -> float:
    what, name = spec
    if what == "res":
        return float(tables.const_res[_RES_COL[name]])
    if what == "lin":
        coef, offset = METRIC_TABLE[name].weights(part, clock)
        return float(offset + sum(c * tables.const_res[_RES_COL[r]] for r, c in coef.items()))
    if what == "path":
        return 0.0  # knob-less layers' path weights are added exactly at evaluation
    return tables.const_ii


def _cap(spec, caps: dict[str, float], budgets: Sequence[Budget], part: FpgaPart, clock: float) -> float:
    """The largest value a column may reach: the part and resource budgets for resources; latency
    budgets (in cycles) for the path; interval and latency budgets for the interval (II <= latency)."""
    what, name = spec
    if what == "res":
        return caps[name]
    limits = [math.inf]
    for b in budgets:
        metric = METRIC_TABLE[b.metric]
        if what == "lin" and b.metric == name:
            limits.append(b.limit_on(part))
        elif what in ("path", "ii") and metric.combine in (("path", "max") if what == "ii" else ("path",)):
            per_cycle = float(metric.fn({metric.needs[0]: 1.0}, part, clock))  # the metric's value of one cycle
            limits.append(b.limit / per_cycle)
    return min(limits)


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
        res += rows[:, :_NRES]
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
    const_res, const_ii, size = np.zeros(_NRES), 1.0, 1
    for layer, cost in zip(graph.layers, base.layers):
        row = np.array([getattr(cost, k) for k in _RAW_COLUMNS], dtype=float)
        if not layer.kind.has_weights:
            const_res += row[:_NRES]
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
    out = np.zeros((len(opts), len(_RAW_COLUMNS)))
    grid_fn = getattr(model, "layer_grid", None)
    if grid_fn is None:
        for j, opt in enumerate(opts):
            hw = base_hw.with_layer(
                layer.name, strategy=opt.strategy, reuse_factor=opt.reuse_factor,
                parallelization_factor=opt.parallelization_factor,
            )  # fmt: skip
            c = model.estimate_layer(layer, hw.resolve(layer.name), hw, graph)
            out[j] = [getattr(c, k) for k in _RAW_COLUMNS]
        return out
    own = base_hw.resolve(layer.name)
    at_base = grid_fn(layer, base_hw, np.array([float(own.reuse_factor)]), own.strategy, graph=graph)
    offset = base_row[:_NRES] - np.array([_grid_column(at_base, k, 1)[0] for k in RESOURCE_FIELDS])
    groups: dict[tuple[Strategy, int], list[int]] = {}
    for j, opt in enumerate(opts):
        groups.setdefault((opt.strategy, opt.parallelization_factor), []).append(j)
    for (strategy, pf), rows in groups.items():
        hw = base_hw.with_layer(layer.name, parallelization_factor=pf) if pf > 1 else base_hw
        rfs = np.array([opts[j].reuse_factor for j in rows], dtype=float)
        grid = grid_fn(layer, hw, rfs, strategy, graph=graph)
        block = np.stack([_grid_column(grid, k, len(rfs)) for k in _RAW_COLUMNS], 1)
        block[:, :_NRES] += offset
        out[rows] = block
    return out


def _grid_column(grid: dict[str, np.ndarray], key: str, n: int) -> np.ndarray:
    """A column of a ``layer_grid`` result (zeros for ``uram``, which a grid may leave out)."""
    return np.asarray(grid[key], dtype=float) if key in grid else np.zeros(n)
