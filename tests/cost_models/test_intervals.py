"""Out-of-source intervals: fitted on some sources they cover about 90 % of a held-out source's rows,
their arithmetic by hand (winsorised sources, offsets), their laws (the estimate inside, wider at higher
confidence), the file round trip, and both registered models carry them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cost_models import GraphBuilder, get_cost_model
from cost_models.intervals import (
    MIN_SPREAD,
    TAIL,
    TAILS,
    WINSOR_MADS,
    IntervalTable,
    Quantiles,
    _coverage_loss,
    choose_tails,
    fit_intervals,
    load_intervals,
    log_residual,
)
from cost_models.validation import Prediction, interval_coverage
from hw_templates.config import HardwareConfig
from hw_templates.errors import CalibrationError
from hw_templates.parts import resolve_part
from hw_templates.precision import FixedType

#: Estimates this large make every offset of ``OFFSETS`` act like 1: residuals are plain log ratios.
BIG = 1e6


def _row(model: str, kind: str, mix: str, target: str, source: str, log_ratio: float) -> tuple:
    """A residual row whose measured value is ``e^log_ratio`` times a large estimate."""
    return (model, kind, mix, target, source, (BIG + 1) * math.exp(log_ratio) - 1, BIG)


def _residuals(source: str, offset: float, rng: np.random.Generator, rows: int) -> list[tuple]:
    # Each source is off by its own bias (offset) plus row noise: what a new source looks like.
    return [_row("m", "hls", "dense", "lut", source, offset + 0.2 * rng.standard_normal()) for _ in range(rows)]


def test_intervals_fitted_without_a_source_cover_about_90_percent_of_it() -> None:
    rng = np.random.default_rng(7)
    offsets = rng.normal(0.0, 0.5, size=40)
    sources = [_residuals(f"s{i}", off, rng, rows=int(rng.integers(3, 60))) for i, off in enumerate(offsets)]
    inside = []
    for held in range(len(sources)):
        table = fit_intervals([r for i, rows in enumerate(sources) if i != held for r in rows])
        lo, hi = table.interval("m", "hls", "dense", "lut", BIG)
        inside.append(np.mean([lo <= r[-2] <= hi for r in sources[held]]))
    # every source weighs the same in the fit, so the share of held-out sources inside is ~90 %
    assert 0.8 <= float(np.mean(inside)) <= 0.97


def test_an_interval_by_hand() -> None:
    table = IntervalTable({"m": {"hls": {"all": {"lut": Quantiles(math.log(0.5), math.log(2.0), 10)}}}})
    assert table.interval("m", "hls", "conv", "lut", 99.0) == pytest.approx((49.0, 199.0))
    assert table.interval("m", "synth", "conv", "lut", 99.0) is None
    assert log_residual(199.0, 99.0) == pytest.approx(math.log(2.0))
    # offset 16: (4 + 16) * 0.5 - 16 < 0 is clipped to 0; (4 + 16) * 2 - 16 = 24
    assert Quantiles(math.log(0.5), math.log(2.0), 10, 16.0).interval(4.0) == pytest.approx((0.0, 24.0))
    assert log_residual(24.0, 4.0, offset=16.0) == pytest.approx(math.log(2.0))


def test_a_wild_source_is_winsorised_to_three_robust_deviations_by_hand() -> None:
    # five one-row sources at -0.2, -0.1, 0, 0.1 and 3.0 (20x off): median source 0, median absolute
    # deviation 0.1, so the wild one is moved to 3 x 1.4826 x 0.1 = 0.44478; with five equal weights the
    # 3 % / 97 % quantiles are the extremes (the interpolation clamps below 0.5 / above 4.5 of 5)
    rows = [_row("m", "hls", "dense", "latency_cycles", f"s{i}", r) for i, r in enumerate((-0.2, -0.1, 0.0, 0.1, 3.0))]
    q = fit_intervals(rows).bounds("m", "hls", "dense", "latency_cycles")
    assert WINSOR_MADS == 3.0 and TAIL == 0.03 and MIN_SPREAD < 0.14826
    assert (q.lo, q.hi, q.rows) == pytest.approx((-0.2, 3 * 1.4826 * 0.1, 5), abs=1e-4)  # offsets at 1e6: 1e-4
    # without the wild source's shift the upper bound would be 3.0 (a 20x interval for everyone)
    assert q.interval(BIG)[1] < 1.6 * BIG


def test_the_tail_is_the_narrowest_that_holds_left_out_sources_in_the_band_by_hand() -> None:
    # ten one-row sources at 0, 0.1, ..., 0.9; each left out, the other nine give the quantiles (all
    # residuals >= 0, so the low bound is 0). Tails 0.03 and 0.08: the high bound lies at or above the
    # second largest of the nine (positions 8.73 / 8.28 of 0.5..8.5), so only 0.9 falls out: 90 %. Tail
    # 0.25: position 6.75, 0.25 of the way from the 7th to the 8th value, so 0.7 (bound 0.65), 0.8 (0.675)
    # and 0.9 (0.725) fall out: 70 %, below the band. Of the two in it, the narrower (0.08) is kept.
    rows = [_row("m", "hls", "dense", "lut", f"s{i}", 0.1 * i) for i in range(10)]
    assert choose_tails(rows, candidates=(0.03, 0.08, 0.25)) == {("m", "hls"): 0.08}
    assert choose_tails(rows, candidates=(0.03, 0.25)) == {("m", "hls"): 0.03}
    # sources held out in units (two of five): the lower half lies inside the upper half's intervals (they
    # reach 0), the upper half outside the lower half's, whatever the tail: 50 % both, the narrower is kept
    units = {f"s{i}": i // 5 for i in range(10)}
    assert choose_tails(rows, units, candidates=(0.03, 0.25)) == {("m", "hls"): 0.25}
    assert choose_tails(rows[:1]) == {}  # one source: nothing to leave out, fit_intervals keeps TAIL
    assert set(choose_tails(rows).values()) <= set(TAILS)


def test_the_tail_choice_puts_sources_weighted_coverage_before_pooled() -> None:
    # one big source decides pooled coverage on its own: 99 % pooled with 85 % of sources is better than
    # 90 % pooled with 78 % of sources; inside the band on both, nothing to choose
    assert _coverage_loss(0.99, 0.85) < _coverage_loss(0.90, 0.78)
    assert _coverage_loss(0.94, 0.81) == _coverage_loss(0.85, 0.90) == (0.0, 0.0)


def test_a_mix_with_few_sources_uses_the_pooled_quantiles() -> None:
    rows = [_row("m", "hls", "dense", "ff", f"s{i}", 0.1 * i) for i in range(10)]
    rows += [_row("m", "hls", "conv", "ff", "only", 5.0)] * 20
    table = fit_intervals(rows)
    assert "conv" not in table.quantiles["m"]["hls"] and "dense" in table.quantiles["m"]["hls"]
    assert table.bounds("m", "hls", "conv", "ff") == table.bounds("m", "hls", "all", "ff")


def test_a_recurrent_mix_with_few_sources_backs_off_to_the_dense_mix_not_the_pool() -> None:
    # Dense sources are off by little, convolution sources by 5-20x (the heavy tail of the pool); the
    # one recurrent source is off like the Dense ones, as its gates are Dense products.
    rng = np.random.default_rng(3)
    rows = [_row("m", "hls", "dense", "lut", f"d{i}", 0.3 * rng.standard_normal()) for i in range(12) for _ in range(3)]
    rows += [_row("m", "hls", "conv", "lut", f"c{i}", float(rng.uniform(1.6, 3.0))) for i in range(14)]
    held_out = [0.2 * rng.standard_normal() for _ in range(50)]
    table = fit_intervals(rows)  # the recurrent source held out: no recurrent row in the fit
    lo, hi, _, _ = table.bounds("m", "hls", "recurrent", "lut")
    assert (lo, hi) == table.bounds("m", "hls", "dense", "lut")[:2]
    assert hi < table.bounds("m", "hls", "all", "lut").hi - 1.0  # the pool's upper tail is the convs'
    assert np.mean([lo <= r <= hi for r in held_out]) >= 0.9
    with_it = fit_intervals(rows + [_row("m", "hls", "recurrent", "lut", "r0", r) for r in held_out])
    assert "recurrent" not in with_it.quantiles["m"]["hls"]  # one source: still the Dense mix's
    assert with_it.bounds("m", "hls", "recurrent", "lut") == with_it.bounds("m", "hls", "dense", "lut")
    # no Dense quantiles either (a synth table with only conv rows): the pool is the last resort
    only_conv = fit_intervals([_row("m", "synth", "conv", "lut", f"c{i}", 0.1 * i) for i in range(6)])
    assert only_conv.bounds("m", "synth", "recurrent", "lut") == only_conv.bounds("m", "synth", "all", "lut")


def test_the_table_round_trips_through_its_file(tmp_path: Path) -> None:
    # DSP counts off by a few blocks whatever the estimate: the fit picks an offset above 1
    rows = [("m", k, "dense", "dsp", f"s{i}", float(p + i % 4), float(p)) for i in range(8) for p in (0, 2, 40, 400)
            for k in ("hls", "synth")]  # fmt: skip
    table = fit_intervals(rows, provenance={"script": "tests"})
    path = tmp_path / "intervals.json"
    path.write_text(json.dumps(table.to_dict()))
    again = load_intervals(path)
    assert again.provenance == {"script": "tests"}
    q = table.bounds("m", "synth", "dense", "dsp")
    assert q.offset > 1.0
    assert again.bounds("m", "synth", "dense", "dsp") == q
    assert again.interval("m", "synth", "dense", "dsp", 40.0) == q.interval(40.0)
    # a table written before offsets existed (seven columns) reads with offset 1
    old = {**table.to_dict(), "quantiles": [row[:7] for row in table.to_dict()["quantiles"]]}
    path.write_text(json.dumps(old))
    assert load_intervals(path).bounds("m", "synth", "dense", "dsp").offset == 1.0
    path.write_text('{"format": "other"}')
    with pytest.raises(CalibrationError, match="expected an interval table"):
        load_intervals(path)
    bad = {**table.to_dict(), "quantiles": [[*row[:7], -1.0] for row in table.to_dict()["quantiles"]]}
    path.write_text(json.dumps(bad))
    with pytest.raises(CalibrationError, match="positive offset"):
        load_intervals(path)


_RESIDUAL_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["s0", "s1", "s2", "s3", "s4", "s5"]),
        st.floats(0, 5000, allow_nan=False),
        st.floats(0, 5000, allow_nan=False),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(_RESIDUAL_ROWS, st.floats(0, 1e5, allow_nan=False))
def test_every_estimate_lies_inside_its_interval(rows: list, value: float) -> None:
    table = fit_intervals([("m", "hls", "conv", "bram18", s, m, p) for s, m, p in rows])
    lo, hi = table.interval("m", "hls", "conv", "bram18", value)
    assert 0.0 <= lo <= value * (1 + 1e-12) + 1e-9 and hi >= value * (1 - 1e-12) - 1e-9


@settings(max_examples=60, deadline=None)
@given(_RESIDUAL_ROWS, st.floats(0, 1e5, allow_nan=False), st.floats(0.005, 0.2), st.floats(0.005, 0.2))
def test_intervals_widen_with_confidence(rows: list, value: float, tail_a: float, tail_b: float) -> None:
    # a smaller tail (higher confidence) never gives a narrower interval, on either side
    residuals = [("m", "synth", "dense", "latency_cycles", s, m, p) for s, m, p in rows]
    wide_tail, narrow_tail = sorted((tail_a, tail_b))
    wide = fit_intervals(residuals, tail=wide_tail).interval("m", "synth", "dense", "latency_cycles", value)
    narrow = fit_intervals(residuals, tail=narrow_tail).interval("m", "synth", "dense", "latency_cycles", value)
    assert wide[0] <= narrow[0] + 1e-9 * (1 + value) and wide[1] >= narrow[1] - 1e-9 * (1 + value)


@settings(max_examples=40, deadline=None)
@given(_RESIDUAL_ROWS)
def test_any_fitted_table_round_trips_through_its_file(rows: list) -> None:
    table = fit_intervals([("m", "hls", "dense", "ff", s, m, p) for s, m, p in rows], provenance={"n": len(rows)})
    # the file holds the quantiles as fitted: every interval read back is the fitted one, to the bit
    # (rows like [("s0", 0, 0), ("s0", 0.5, 0)] at offset 64 once read back 0.501 for 0.5)
    again = IntervalTable.from_dict(json.loads(json.dumps(table.to_dict())))
    assert again.quantiles == table.quantiles and again.provenance == table.provenance
    for value in (0.0, 3.0, 250.0, 1e5):
        assert again.interval("m", "hls", "dense", "ff", value) == table.interval("m", "hls", "dense", "ff", value)


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
    # at the fixed tail: the back-off and the widths are what this checks (the nested choice of the tail
    # is checked by hand above and by the bench test below), and 25 folds of it cost ~10 s
    per_mix = interval_coverage(preds, "m", by_mix=True, nested=False)
    recurrent = per_mix[("hls", "recurrent", "lut")]
    assert recurrent.rows == 60 and recurrent.inside == 100.0
    assert recurrent.median_width < 200.0  # the Dense mix's width, not the pool's (> 1000 %)
    pooled = interval_coverage(preds, "m", nested=False)[("hls", "lut")]
    # the row median is the recurrent source's width; with sources weighted equally the convs' count
    assert pooled.median_width == pytest.approx(recurrent.median_width)
    assert pooled.median_width_by_source > 3 * pooled.median_width


def test_the_bench_flags_held_out_coverage_outside_80_to_95_percent(load_script) -> None:
    # 12 one-fold sources, each estimated exactly on LUT and 30x too low on latency by one source
    # (the others exact): every LUT row is inside (100 %, flagged); latency is inside for 11 of 12 sources
    bench = load_script("bench_cost_model")
    preds = []
    for i in range(12):
        latency = 30.0 * 100 if i == 0 else 100.0
        for _ in range(3):
            measured = {"lut": 100.0, "latency_cycles": latency}
            predicted = {m: {"lut": 100.0, "latency_cycles": 100.0} for m in ("analytical", "lut")}
            preds.append(Prediction(f"s{i}", "hls", "dense", i, measured, predicted))
    markdown, data = bench.coverage_table(preds)
    lut = data["analytical"]["hls"]["lut"]
    assert lut["inside"] == 100.0 and lut["inside_by_source"] == 100.0
    latency = data["analytical"]["hls"]["latency_cycles"]
    assert latency["inside"] == pytest.approx(100 * 11 / 12) and latency["inside_by_source"] == pytest.approx(
        100 * 11 / 12
    )
    assert latency["inside_per_source"]["s0"] == 0.0 and latency["inside_per_source"]["s1"] == 100.0
    assert bench.missed_sources(data["analytical"]) == ["HLS estimate (csynth), latency: s0 0 %"]
    flags = bench.coverage_flags(data)
    assert "analytical, HLS estimate (csynth), LUT: pooled 100 %, sources weighted 100 %" in flags
    assert not any("latency" in line for line in flags)
    assert "(width 0 / 0 %) !" in markdown
