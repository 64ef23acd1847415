"""The lookup table: plain data (JSON) with its provenance, and the lookup with interpolation.

A table holds *buckets*, one per discrete key (see :mod:`._features`) at each back-off level. A
bucket holds, per metric, a grid of *nodes* over the continuous coordinates ``(log2_mults,
log2_bits)`` at integer steps of :attr:`TableSettings.step`; each node stores the smoothed correction
``log((measured + 1) / (analytical + 1))`` and its support (the summed kernel weight of the calibration
rows near it) and how many distinct sources have a row near it. Between nodes the correction is
interpolated bilinearly, i.e. linearly in log space, so a correction halfway between two nodes is their
geometric mean. A query is *supported* when every node that carries weight in the interpolation exists
(support >= ``min_support``; in a table built for new sources also >= ``min_sources`` sources);
elsewhere the table says nothing and the model falls back to the analytical estimate exactly.

Each bucket also holds the quantiles of its cross-fitted residuals (rows predicted by a table built
without their architecture) per metric, which give the prediction intervals; ``fallback`` holds the
analytical model's residual quantiles per target for queries without support.

The file never holds calibration rows: only these derived figures, counts and provenance.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cost_models.lut._features import KEY_FIELDS, METRICS, DesignPoint
from hw_templates.errors import CalibrationError, bad_value

__all__ = [
    "FORMAT",
    "LEVELS",
    "SHIPPED_TABLE_SETTINGS",
    "Bucket",
    "Hit",
    "LutTable",
    "NodeValue",
    "Quantiles",
    "TableSettings",
]

FORMAT = "codesign-lut-table"
FORMAT_VERSION = 1
#: Back-off levels: the key fields each level matches on. Level 0 is the full key; level 1 pools the
#: HLS tools (Vivado HLS and Vitis HLS share hls4ml's templates); level 2 also pools part families.
#: Target, layer kind, io type and strategy are never pooled: they change the mechanism.
LEVELS: tuple[tuple[str, ...], ...] = (KEY_FIELDS, KEY_FIELDS[:-1], KEY_FIELDS[:-2])

Node = tuple[int, int]
#: What a node stores: ``(log_ratio, support, sources)`` (sources: distinct sources with a row near it).
NodeValue = tuple[float, float, int]


@dataclass(frozen=True)
class TableSettings:
    """How a table was built and how it is read.

    Attributes:
        step: grid spacing of the nodes, in log2 units of both coordinates.
        bandwidths: candidate Gaussian kernel widths (log2 units, both coordinates) of the smoothing;
            each bucket and metric keeps the one its grouped cross-fitting prefers (or the bucket
            median, or no correction).
        identity_margin: a smoothing replaces "no correction" only when its cross-fitted median absolute
            residual is this fraction smaller (0.25: a quarter), so noise in a few architectures does not
            override the analytical model. Chosen on the grouped cross-validation of
            scripts/bench_lut_model.py (0, 0.1 and 0.25 tried; 0.25 stopped the ArgyKokk MLPs, 6
            architectures, from getting worse than the analytical model).
        min_support: a node exists only where the summed weight of unit-width Gaussian kernels
            centred on its rows reaches this (about one row within 1.2 log2 units).
        prior_weight: kernel weight of the bucket's median correction mixed into every node, which
            pulls thinly supported nodes towards it.
        prior_rows: residual quantiles of a bucket are shrunk towards the pooled ones of its target
            as if the pooled quantiles came from this many rows.
        thin_widen: intervals are widened by ``1 + thin_widen / sqrt(support)`` at a query.
        backoff_widen: interval widening per back-off level.
        fallback_floor: without support an interval reaches at least this far (natural log) on each
            side: a factor of 1.5. An assumption: such a design is unlike the calibration data, so even
            a metric the analytical model always got right there (e.g. DSPs) may be off.
        interval_level: central probability of the intervals (0.9: 5 % and 95 % quantiles).
        folds: folds of the grouped cross-fitting that produces the residuals (``architecture`` mode).
        min_sources: ``source`` mode only: a node exists only where at least this many distinct sources
            each have a row near it (their own kernel weight there reaches ``min_support``), so a
            correction is never applied on the word of a few sources. 5 was chosen on the
            leave-one-source-out run of scripts/bench_cost_model.py (issue 11, item 4): with 3 or 4 a
            correction 4 of 6 held-out sources liked still made the sources-weighted HLS FF median 2.5
            points worse than the analytical model's (docs/cost_models.md).
        source_prior: ``source`` mode only: a node's correction is shrunk towards none by
            ``sources / (sources + source_prior)``, as if ``source_prior`` sources had shown no
            correction there.
        cross_fit: what the cross-fitting holds out. ``architecture`` (default): ``folds`` folds of
            architectures; right for a table calibrated on the user's own builds (``codesign calibrate``),
            whose next designs come from the same source. ``source``: each source of the bucket in turn,
            so a correction is applied only where it transfers from some sources to another (judged with
            every source weighing the same, and it must help more held-out sources than it hurts) and a
            bucket whose rows all come from one source corrects nothing; the shipped table is built so
            (``scripts/build_lut_table.py``), because a user's design comes from a source it has never
            seen (on leave-source-out validation, single-source corrections made estimates worse).
    """

    step: float = 0.5
    bandwidths: tuple[float, ...] = (0.5, 1.0, 2.0)
    min_support: float = 0.5
    identity_margin: float = 0.25
    prior_weight: float = 0.5
    prior_rows: float = 10.0
    thin_widen: float = 0.5
    backoff_widen: float = 1.25
    fallback_floor: float = 0.4055  # log(1.5)
    interval_level: float = 0.9
    folds: int = 5
    min_sources: int = 5
    source_prior: float = 2.0
    cross_fit: str = "architecture"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(vars(self))
        out["bandwidths"] = list(self.bandwidths)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableSettings:
        known = sorted(cls.__dataclass_fields__)
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise CalibrationError(bad_value("table settings", unknown[0], "one of " + ", ".join(known), known))
        values = dict(data)
        if "bandwidths" in values:
            values["bandwidths"] = tuple(float(h) for h in values["bandwidths"])
        return cls(**values)


#: How the shipped default table is built (``scripts/build_lut_table.py``) and validated out of source.
SHIPPED_TABLE_SETTINGS = TableSettings(cross_fit="source")


@dataclass(frozen=True)
class Quantiles:
    """Residual quantiles (natural-log ratios) of one metric, and how many rows they come from."""

    low: float
    high: float
    rows: int

    def to_list(self) -> list[float]:
        return [round(self.low, 4), round(self.high, 4), self.rows]


@dataclass(frozen=True)
class Bucket:
    """The table for one discrete key at one back-off level.

    Attributes:
        level: index into :data:`LEVELS`.
        key: values of that level's key fields, in field order.
        rows / groups: calibration rows and architectures behind it.
        nodes: ``{metric: {(i, j): (log_ratio, support, sources)}}``.
        residuals: ``{metric: Quantiles}`` of the cross-fitted residuals (shrunk, see settings).
        smoothing: ``{metric: choice}``: ``"h=<bandwidth>"``, ``"median"`` or ``"identity"``.
        alias_of: ``(level, key)`` of a finer bucket holding exactly the same rows, whose fit this one
            shares (written to the file as a reference instead of a copy).
        sources: distinct sources behind it (0: not recorded).
    """

    level: int
    key: tuple[str, ...]
    rows: int
    groups: int
    nodes: Mapping[str, Mapping[Node, NodeValue]]
    residuals: Mapping[str, Quantiles]
    smoothing: Mapping[str, str] = field(default_factory=dict)
    alias_of: tuple[int, tuple[str, ...]] | None = None
    sources: int = 0

    def label(self) -> str:
        return "/".join(self.key[1:])


@dataclass(frozen=True)
class Hit:
    """A supported lookup: the interpolated correction, its support and its interval quantiles.

    ``sources`` is the fewest distinct sources behind any node the interpolation used (0: not recorded,
    a table written before sources were counted).
    """

    log_ratio: float
    support: float
    low: float
    high: float
    bucket: Bucket
    sources: int = 0


@dataclass(frozen=True)
class LutTable:
    """A lookup table of corrections to the analytical model (see the module docstring).

    Attributes:
        settings: how it was built.
        buckets: by ``(level, key)``.
        fallback: ``{target: {metric: Quantiles}}`` of the analytical model's residuals.
        provenance: sources, tool versions, parts, row counts, script, date, analytical fingerprint.
    """

    settings: TableSettings
    buckets: Mapping[tuple[int, tuple[str, ...]], Bucket]
    fallback: Mapping[str, Mapping[str, Quantiles]]
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "buckets", MappingProxyType(dict(self.buckets)))

    def lookup(self, point: DesignPoint, metric: str) -> Hit | None:
        """The correction of ``metric`` at ``point``, trying each back-off level; None without support."""
        return self.lookup_all(point, (metric,))[metric]

    def lookup_all(self, point: DesignPoint, metrics: tuple[str, ...] = METRICS) -> dict[str, Hit | None]:
        """:meth:`lookup` of several metrics at once (the key of each level is built once)."""
        candidates = []
        for level, fields in enumerate(LEVELS):
            bucket = self.buckets.get((level, tuple(point.key[f] for f in fields)))
            if bucket is not None:
                candidates.append(bucket)
        return {m: self._hit(candidates, point, m) for m in metrics}

    def _hit(self, candidates: list[Bucket], point: DesignPoint, metric: str) -> Hit | None:
        for bucket in candidates:
            nodes = bucket.nodes.get(metric)
            found = _interpolate(nodes, point, self.settings) if nodes else None
            if found is None:
                continue
            value, support, sources = found
            res = bucket.residuals[metric]
            widen = (1.0 + self.settings.thin_widen / math.sqrt(support)) * self.settings.backoff_widen**bucket.level
            return Hit(value, support, min(res.low, 0.0) * widen, max(res.high, 0.0) * widen, bucket, sources)
        return None

    def fallback_quantiles(self, target: str, metric: str) -> tuple[float, float]:
        """Interval quantiles of the analytical model where the table has no support."""
        per_target = self.fallback.get(target) or next(iter(self.fallback.values()))
        q = per_target[metric]
        widen = 1.0 + self.settings.thin_widen / math.sqrt(max(q.rows, 1))
        floor = self.settings.fallback_floor
        return min(q.low * widen, -floor), max(q.high * widen, floor)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (see :func:`LutTable.from_dict`)."""
        buckets = []
        for bucket in self.buckets.values():
            if bucket.alias_of is not None:
                level, key = bucket.alias_of
                same = {"level": level, "key": dict(zip(LEVELS[level], key))}
                head = {"level": bucket.level, "key": dict(zip(LEVELS[bucket.level], bucket.key))}
                buckets.append({**head, "alias_of": same})
                continue
            buckets.append(
                {
                    "level": bucket.level,
                    "key": dict(zip(LEVELS[bucket.level], bucket.key)),
                    "rows": bucket.rows,
                    "groups": bucket.groups,
                    "sources": bucket.sources,
                    "smoothing": dict(bucket.smoothing),
                    "residuals": {m: q.to_list() for m, q in bucket.residuals.items()},
                    "nodes": {
                        m: [[i, j, round(v, 4), round(s, 3), n] for (i, j), (v, s, n) in sorted(nodes.items())]
                        for m, nodes in bucket.nodes.items()
                    },
                }
            )
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "provenance": dict(self.provenance),
            "settings": self.settings.to_dict(),
            "levels": [list(f) for f in LEVELS],
            "fallback": {t: {m: q.to_list() for m, q in per.items()} for t, per in self.fallback.items()},
            "buckets": buckets,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str = "table") -> LutTable:
        """Rebuild a table; CalibrationError naming ``origin`` when the data is not a valid table."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise CalibrationError(f'{origin}: expected a lookup table ("format": "{FORMAT}"), got other JSON')
        if data.get("format_version") != FORMAT_VERSION:
            version = data.get("format_version")
            raise CalibrationError(f"{origin}: table format_version {version!r} is not {FORMAT_VERSION}; rebuild it")
        try:
            buckets = {}
            for entry in sorted(data["buckets"], key=lambda e: "alias_of" in e):
                bucket = _bucket_from_dict(entry, buckets)
                buckets[(bucket.level, bucket.key)] = bucket
            fallback = {t: {m: Quantiles(*q) for m, q in per.items()} for t, per in data["fallback"].items()}
            settings = TableSettings.from_dict(data["settings"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise CalibrationError(f"{origin}: malformed lookup table ({type(exc).__name__}: {exc})") from None
        if not fallback:
            raise CalibrationError(f"{origin}: the table has no fallback quantiles; rebuild it")
        return cls(settings, buckets, fallback, dict(data.get("provenance", {})))

    def to_json(self) -> str:
        """The table as JSON text: readable headers, one compact line per bucket (keeps diffs short)."""
        data = self.to_dict()
        buckets = data.pop("buckets")
        head = json.dumps(data, indent=1)[:-2]
        lines = ",\n  ".join(json.dumps(b, separators=(",", ":")) for b in buckets)
        return f'{head},\n "buckets": [\n  {lines}\n ]\n}}\n'

    def save(self, path: str | Path) -> None:
        """Write the table as JSON (callers wanting atomic writes write to a temporary name first)."""
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> LutTable:
        """Read a table written by :meth:`save`; CalibrationError naming the file otherwise."""
        path = Path(path)
        if not path.is_file():
            raise CalibrationError(f"lookup table {str(path)!r}: file not found")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CalibrationError(f"lookup table {str(path)!r}: not valid JSON ({exc})") from None
        return cls.from_dict(data, origin=f"lookup table {str(path)!r}")


def _bucket_from_dict(entry: Mapping[str, Any], known: Mapping[tuple[int, tuple[str, ...]], Bucket]) -> Bucket:
    level = int(entry["level"])
    key = tuple(str(entry["key"][f]) for f in LEVELS[level])
    if "alias_of" in entry:
        same_level = int(entry["alias_of"]["level"])
        same = known[(same_level, tuple(str(entry["alias_of"]["key"][f]) for f in LEVELS[same_level]))]
        return Bucket(
            level,
            key,
            same.rows,
            same.groups,
            same.nodes,
            same.residuals,
            same.smoothing,
            (same.level, same.key),
            same.sources,
        )
    nodes = {m: dict(_node(row) for row in rows) for m, rows in entry["nodes"].items() if m in METRICS}
    residuals = {m: Quantiles(float(q[0]), float(q[1]), int(q[2])) for m, q in entry["residuals"].items()}
    missing = sorted(set(nodes) - set(residuals))
    if missing:
        raise ValueError(f"bucket {'/'.join(key)} has nodes but no residuals for {missing[0]}")
    smoothing = {str(m): str(c) for m, c in entry.get("smoothing", {}).items()}
    rows, groups, sources = int(entry["rows"]), int(entry["groups"]), int(entry.get("sources", 0))
    return Bucket(level, key, rows, groups, nodes, residuals, smoothing, sources=sources)


def _node(row: Any) -> tuple[Node, NodeValue]:
    """A stored node ``[i, j, log_ratio, support, sources]`` (tables written before sources were counted
    have no fifth entry: 0)."""
    i, j, v, s, *n = row
    if len(n) > 1:
        raise ValueError(f"a node has {len(row)} entries, expected 4 or 5")
    return (int(i), int(j)), (float(v), float(s), int(n[0]) if n else 0)


def _interpolate(
    nodes: Mapping[Node, NodeValue], point: DesignPoint, settings: TableSettings
) -> tuple[float, float, int] | None:
    """Bilinear interpolation of (value, support) at ``point``, and the fewest sources behind a weighted
    corner; None when a weighted corner is missing."""
    x = point.log2_mults / settings.step
    y = point.log2_bits / settings.step
    i0, j0 = math.floor(x), math.floor(y)
    fx, fy = x - i0, y - j0
    value = support = 0.0
    sources = -1
    for di, wx in ((0, 1.0 - fx), (1, fx)):
        for dj, wy in ((0, 1.0 - fy), (1, fy)):
            weight = wx * wy
            if weight <= 1e-12:
                continue
            node = nodes.get((i0 + di, j0 + dj))
            if node is None:
                return None
            value += weight * node[0]
            support += weight * node[1]
            sources = node[2] if sources < 0 else min(sources, node[2])
    return value, support, max(sources, 0)
