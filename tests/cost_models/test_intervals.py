"""Out-of-source intervals: fitted on some sources they cover about 90 % of a held-out source's rows,
their arithmetic by hand, the file round trip, and both registered models carry them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from cost_models import GraphBuilder, get_cost_model
from cost_models.intervals import IntervalTable, fit_intervals, load_intervals, log_residual
from cost_models.validation import Prediction, interval_coverage
from hw_templates.config import HardwareConfig
from hw_templates.errors import CalibrationError
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType


def _residuals(source: str, offset: float, rng: np.random.Generator, rows: int) -> list[tuple]:
    # Each source is off by its own bias (offset) plus row noise: what a new source looks like.
    return [("m", "hls", "dense", "lut", source, offset + 0.2 * rng.standard_normal()) for _ in range(rows)]


def test_intervals_fitted_without_a_source_cover_about_90_percent_of_it() -> None:
    rng = np.random.default_rng(7)
    offsets = rng.normal(0.0, 0.5, size=40)
    sources = [_residuals(f"s{i}", off, rng, rows=int(rng.integers(3, 60))) for i, off in enumerate(offsets)]
    inside = []
    for held in range(len(sources)):
        table = fit_intervals([r for i, rows in enumerate(sources) if i != held for r in rows])
        lo, hi = table.bounds("m", "hls", "dense", "lut")
        inside.append(np.mean([lo <= r[-1] <= hi for r in sources[held]]))
    # every source weighs the same in the fit, so the share of held-out sources inside is ~90 %
    assert 0.8 <= float(np.mean(inside)) <= 0.97


def test_an_interval_by_hand() -> None:
    table = IntervalTable({"m": {"hls": {"all": {"lut": (math.log(0.5), math.log(2.0), 10)}}}})
    assert table.interval("m", "hls", "conv", "lut", 99.0) == pytest.approx((49.0, 199.0))
    assert table.interval("m", "synth", "conv", "lut", 99.0) is None
    assert log_residual(199.0, 99.0) == pytest.approx(math.log(2.0))


def test_a_mix_with_few_sources_uses_the_pooled_quantiles() -> None:
    rows = [("m", "hls", "dense", "ff", f"s{i}", 0.1 * i) for i in range(10)]
    rows += [("m", "hls", "conv", "ff", "only", 5.0)] * 20
    table = fit_intervals(rows)
    assert "conv" not in table.quantiles["m"]["hls"] and "dense" in table.quantiles["m"]["hls"]
    assert table.bounds("m", "hls", "conv", "ff") == table.bounds("m", "hls", "all", "ff")


def test_a_recurrent_mix_with_few_sources_backs_off_to_the_dense_mix_not_the_pool() -> None:
    # Dense sources are off by little, convolution sources by 5-20x (the heavy tail of the pool); the
    # one recurrent source is off like the Dense ones, as its gates are Dense products.
    rng = np.random.default_rng(3)
    rows = [("m", "hls", "dense", "lut", f"d{i}", 0.3 * rng.standard_normal()) for i in range(12) for _ in range(3)]
    rows += [("m", "hls", "conv", "lut", f"c{i}", float(rng.uniform(1.6, 3.0))) for i in range(14)]
    held_out = [0.2 * rng.standard_normal() for _ in range(50)]
    table = fit_intervals(rows)  # the recurrent source held out: no recurrent row in the fit
    lo, hi = table.bounds("m", "hls", "recurrent", "lut")
    assert (lo, hi) == table.bounds("m", "hls", "dense", "lut")
    assert hi < table.bounds("m", "hls", "all", "lut")[1] - 1.0  # the pool's upper tail is the convs'
    assert np.mean([lo <= r <= hi for r in held_out]) >= 0.9
    with_it = fit_intervals(rows + [("m", "hls", "recurrent", "lut", "r0", r) for r in held_out])
    assert "recurrent" not in with_it.quantiles["m"]["hls"]  # one source: still the Dense mix's
    assert with_it.bounds("m", "hls", "recurrent", "lut") == with_it.bounds("m", "hls", "dense", "lut")
    # no Dense quantiles either (a synth table with only conv rows): the pool is the last resort
    only_conv = fit_intervals([("m", "synth", "conv", "lut", f"c{i}", 0.1 * i) for i in range(6)])
    assert only_conv.bounds("m", "synth", "recurrent", "lut") == only_conv.bounds("m", "synth", "all", "lut")


def test_the_table_round_trips_through_its_file(tmp_path: Path) -> None:
    rows = [("m", k, "dense", "dsp", f"s{i}", 0.05 * i) for i in range(8) for k in ("hls", "synth")]
    table = fit_intervals(rows, provenance={"script": "tests"})
    path = tmp_path / "intervals.json"
    path.write_text(json.dumps(table.to_dict()))
    again = load_intervals(path)
    assert again.provenance == {"script": "tests"}
    assert again.bounds("m", "synth", "dense", "dsp") == pytest.approx(
        table.bounds("m", "synth", "dense", "dsp"), abs=1e-4
    )
    path.write_text('{"format": "other"}')
    with pytest.raises(CalibrationError, match="expected an interval table"):
        load_intervals(path)


@pytest.mark.parametrize("name", ["analytical", "lut"])
def test_both_registered_models_return_intervals_around_their_estimate(name: str) -> None:
    if load_intervals() is None:
        pytest.skip("no shipped interval table")
    b = GraphBuilder("mlp", (16,), FixedType(16, 6))
    b.add("dense", units=32)
    b.add("activation", function="relu")
    b.add("dense", units=5)
    cost = get_cost_model(name, "hls").estimate(b.build(), HardwareConfig(resolve_part("xcu250"), reuse_factor=4))
    assert set(cost.intervals) == {"lut", "ff", "dsp", "bram18", "latency_cycles"}
    for metric, (low, high) in cost.intervals.items():
        assert low <= getattr(cost, metric) <= high, metric


def _prediction(source: str, fold: int, mix: str, ratio: float) -> Prediction:
    return Prediction(source, "hls", mix, fold, {"lut": 100.0 * ratio}, {"m": {"lut": 100.0}})


def test_held_out_coverage_per_mix_and_the_width_with_sources_weighted_equally() -> None:
    # 10 Dense sources off by up to 1.5x, 14 one-row conv sources 6-12x off, one recurrent source with
    # many rows (the fold of N-TORC): held out, its rows sit inside the Dense mix's narrow intervals.
    rng = np.random.default_rng(11)
    preds = [
        _prediction(f"d{i}", i, "dense", float(np.exp(rng.uniform(-0.4, 0.4)))) for i in range(10) for _ in range(3)
    ]
    preds += [_prediction(f"c{i}", 10 + i, "conv", float(rng.uniform(6.0, 12.0))) for i in range(14)]
    preds += [_prediction("r", 99, "recurrent", float(np.exp(rng.uniform(-0.2, 0.2)))) for _ in range(60)]
    per_mix = interval_coverage(preds, "m", by_mix=True)
    recurrent = per_mix[("hls", "recurrent", "lut")]
    assert recurrent.rows == 60 and recurrent.inside == 100.0
    assert recurrent.median_width < 200.0  # the Dense mix's width, not the pool's (> 1000 %)
    pooled = interval_coverage(preds, "m")[("hls", "lut")]
    # the row median is the recurrent source's width; with sources weighted equally the convs' count
    assert pooled.median_width == pytest.approx(recurrent.median_width)
    assert pooled.median_width_by_source > 3 * pooled.median_width
