"""The lookup table as data: interpolation laws, back-off, build from samples, JSON round trip."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cost_models.lut import (
    LEVELS,
    METRICS,
    Bucket,
    DesignPoint,
    LutTable,
    Quantiles,
    Sample,
    TableSettings,
    build_table,
)
from cost_models.lut._features import OFFSET, log_ratio
from hw_templates.errors import CalibrationError

KEY = {"target": "hls", "kind": "dense", "io_type": "io_parallel", "strategy": "latency", "multiplier": "auto",
       "dsp_slice": "DSP48E2", "backend": "vitis"}  # fmt: skip
# Corner values of the one hand-made cell: (i, j) -> log ratio, on a grid of step 1.
CORNERS = {(2, 3): 0.0, (3, 3): 1.0, (2, 4): 0.5, (3, 4): -0.5}


def _bucket(nodes: dict, level: int = 0, key: dict | None = None) -> Bucket:
    key = key or KEY
    fields = LEVELS[level]
    quantiles = {"lut": Quantiles(-0.2, 0.3, 50)}
    return Bucket(level, tuple(key[f] for f in fields), 50, 10, {"lut": nodes}, quantiles, {"lut": "h=1"})


def _table(*buckets: Bucket) -> LutTable:
    fallback = {"hls": {m: Quantiles(-1.0, 1.0, 100) for m in METRICS}}
    return LutTable(TableSettings(step=1.0), {(b.level, b.key): b for b in buckets}, fallback, {})


def _point(x: float, y: float, **key: str) -> DesignPoint:
    return DesignPoint({**KEY, **key}, x, y)


CELL = _table(_bucket({n: (v, 4.0, 3) for n, v in CORNERS.items()}))


def test_lookup_at_a_node_returns_the_node_value_exactly() -> None:
    for (i, j), value in CORNERS.items():
        hit = CELL.lookup(_point(i, j), "lut")
        assert hit is not None and hit.log_ratio == pytest.approx(value)


def test_halfway_between_two_nodes_the_ratio_is_their_geometric_mean() -> None:
    hit = CELL.lookup(_point(2.5, 3), "lut")
    assert hit is not None
    assert math.exp(hit.log_ratio) == pytest.approx(math.sqrt(math.exp(0.0) * math.exp(1.0)))


@given(st.floats(2.0, 3.0), st.floats(3.0, 4.0))
def test_interpolated_value_stays_within_the_corner_values(x: float, y: float) -> None:
    hit = CELL.lookup(_point(x, y), "lut")
    assert hit is not None
    assert min(CORNERS.values()) - 1e-12 <= hit.log_ratio <= max(CORNERS.values()) + 1e-12


@given(st.floats(2.0, 3.0), st.floats(2.0, 3.0), st.floats(3.0, 4.0))
def test_interpolation_is_linear_along_an_edge(x1: float, x2: float, y: float) -> None:
    # On a fixed row y the bilinear form is linear in x: the difference quotient is constant.
    a, b = CELL.lookup(_point(x1, y), "lut"), CELL.lookup(_point(x2, y), "lut")
    c, d = CELL.lookup(_point(2.0, y), "lut"), CELL.lookup(_point(3.0, y), "lut")
    assert b.log_ratio - a.log_ratio == pytest.approx((x2 - x1) * (d.log_ratio - c.log_ratio), abs=1e-9)


def test_a_missing_corner_means_no_support() -> None:
    partial = _table(_bucket({n: (v, 4.0, 3) for n, v in CORNERS.items() if n != (3, 4)}))
    assert partial.lookup(_point(2.5, 3.5), "lut") is None
    assert partial.lookup(_point(2.5, 3.0), "lut") is not None  # the missing corner carries no weight here


def test_an_unknown_key_or_metric_has_no_support() -> None:
    assert CELL.lookup(_point(2.5, 3.5, kind="conv2d"), "lut") is None
    assert CELL.lookup(_point(2.5, 3.5), "ff") is None


def test_lookup_backs_off_to_pooled_tools_and_widens_the_interval() -> None:
    nodes = {n: (v, 4.0, 3) for n, v in CORNERS.items()}
    table = _table(_bucket(nodes, level=1))
    exact = CELL.lookup(_point(2.5, 3.5), "lut")
    pooled = table.lookup(_point(2.5, 3.5, backend="vivado"), "lut")
    assert pooled is not None and pooled.bucket.level == 1
    assert pooled.log_ratio == pytest.approx(exact.log_ratio)
    assert pooled.high == pytest.approx(exact.high * table.settings.backoff_widen)


def test_intervals_widen_where_support_is_thin() -> None:
    thin = _table(_bucket({n: (v, 0.6, 3) for n, v in CORNERS.items()}))
    wide, narrow = thin.lookup(_point(2.5, 3.5), "lut"), CELL.lookup(_point(2.5, 3.5), "lut")
    assert wide.high > narrow.high and wide.low < narrow.low


@given(st.floats(0, 6), st.floats(0, 6))
def test_hit_intervals_are_ordered_and_contain_the_estimate(x: float, y: float) -> None:
    nodes = {(i, j): ((i - j) / 7, 1.0, 3) for i in range(8) for j in range(8)}
    hit = _table(_bucket(nodes)).lookup(_point(x, y), "lut")
    assert hit is not None and hit.low <= 0.0 <= hit.high


# --- building from samples ---------------------------------------------------------------------------


def _samples(law, n_groups: int = 12, **key: str) -> list[Sample]:
    """Samples on a 2-D grid of coordinates; ``law(x, y)`` is the true log correction."""
    out = []
    for g in range(n_groups):
        for rf in range(3):
            x, y = 4.0 + g * 0.5, 6.0 + rf * 0.5
            analytical = dict.fromkeys(METRICS, 1000.0)
            measured = {m: (a + OFFSET) * math.exp(law(x, y)) - OFFSET for m, a in analytical.items()}
            point = DesignPoint({**KEY, **key}, x, y)
            out.append(Sample(point, analytical, measured, f"arch{g}", "synthetic/repo", "Vitis HLS 2023.2", "xcu250"))
    return out


def test_building_from_no_rows_is_an_error() -> None:
    with pytest.raises(CalibrationError, match="calibration set"):
        build_table([])


def test_a_constant_bias_is_learned_and_applied() -> None:
    table = build_table(_samples(lambda x, y: math.log(2.0)))
    hit = table.lookup(DesignPoint(KEY, 6.0, 6.5), "lut")
    assert hit is not None and hit.log_ratio == pytest.approx(math.log(2.0), abs=1e-4)


def test_no_correction_is_learned_where_the_analytical_model_is_exact() -> None:
    table = build_table(_samples(lambda x, y: 0.0))
    for metric in METRICS:
        hit = table.lookup(DesignPoint(KEY, 7.0, 7.0), metric)
        assert hit is not None and hit.log_ratio == pytest.approx(0.0, abs=1e-9)
        assert hit.low == pytest.approx(0.0, abs=1e-9) and hit.high == pytest.approx(0.0, abs=1e-9)


def test_a_smooth_law_is_recovered_inside_the_data() -> None:
    table = build_table(_samples(lambda x, y: 0.1 * x))
    for x in (5.0, 6.0, 7.0):
        assert table.lookup(DesignPoint(KEY, x, 6.5), "ff").log_ratio == pytest.approx(0.1 * x, abs=0.05)


def test_no_support_far_from_the_data() -> None:
    table = build_table(_samples(lambda x, y: 0.3))
    assert table.lookup(DesignPoint(KEY, 20.0, 6.5), "lut") is None


def test_every_stored_quantile_pair_is_ordered() -> None:
    table = build_table(_samples(lambda x, y: 0.2 * math.sin(3 * x + y)))
    for bucket in table.buckets.values():
        for q in bucket.residuals.values():
            assert q.low <= q.high
    for per_metric in table.fallback.values():
        assert all(q.low <= q.high for q in per_metric.values())


def test_table_round_trips_through_its_file(tmp_path: Path) -> None:
    samples = _samples(lambda x, y: 0.05 * y) + _samples(lambda x, y: -0.2, backend="vivado")
    table = build_table(samples, provenance={"script": "test"})
    path = tmp_path / "table.json"
    table.save(path)
    loaded = LutTable.load(path)
    assert loaded.to_dict() == table.to_dict()
    aliases = [b for b in loaded.buckets.values() if b.alias_of is not None]
    assert aliases, "a pooled key holding exactly one finer key's rows is stored as a reference"
    point = DesignPoint({**KEY, "backend": "vivado"}, 6.0, 6.5)
    assert loaded.lookup(point, "lut") == table.lookup(point, "lut")


def test_the_file_holds_no_calibration_rows(tmp_path: Path) -> None:
    table = build_table(_samples(lambda x, y: 0.1), provenance={"script": "test"})
    data = json.loads(table.to_json())
    allowed = {"level", "key", "rows", "groups", "sources", "smoothing", "residuals", "nodes", "alias_of"}
    assert all(set(b) <= allowed for b in data["buckets"])
    assert "arch0" not in table.to_json()  # architecture labels (design names) are not written


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"format": "something-else"}', "expected a lookup table"),
        ('{"format": "codesign-lut-table", "format_version": 99}', "format_version"),
        ('{"format": "codesign-lut-table", "format_version": 1, "buckets": [{"level": 0}]}', "malformed"),
    ],
)
def test_a_broken_table_file_is_a_one_line_error_naming_it(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(CalibrationError, match=message) as info:
        LutTable.load(path)
    assert "broken.json" in str(info.value) and "\n" not in str(info.value)


@settings(max_examples=25, deadline=None)
@given(st.floats(-2, 2), st.floats(0, 1e6))
def test_log_ratio_inverts_the_correction(log: float, analytical: float) -> None:
    measured = (analytical + OFFSET) * math.exp(log) - OFFSET
    assert log_ratio(measured, analytical) == pytest.approx(log, abs=1e-9)
