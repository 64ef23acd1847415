"""Pareto filtering, hypervolume, metrics, budgets, scalarization and the early-stopping rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.search.early_stop import HopelessRule, optimistic_gain
from codesign.search.formulation import Formulation
from codesign.search.objectives import Scalarization, metric_value, parse_budget
from codesign.search.pareto import dominates, hypervolume, nondominated
from hw_templates.errors import SpecError
from hw_templates.parts import resolve_part

points = st.lists(st.tuples(*[st.integers(0, 6)] * 3), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(points)
def test_nondominated_matches_the_definition(rows) -> None:
    pts = np.array(rows, dtype=float)
    kept = set(nondominated(pts).tolist())
    for i, p in enumerate(pts):
        beaten = any(dominates(q, p) for q in pts)
        if beaten:
            assert i not in kept
        else:  # a non-dominated point is kept once (exact duplicates collapse)
            assert any(np.array_equal(pts[j], p) for j in kept)
    assert len({tuple(pts[j]) for j in kept}) == len(kept)


@settings(max_examples=40, deadline=None)
@given(points, st.tuples(*[st.integers(0, 6)] * 3))
def test_hypervolume_never_drops_when_a_point_is_added(rows, extra) -> None:
    ref = np.array([7.0, 7.0, 7.0])
    pts = np.array(rows, dtype=float)
    assert hypervolume(np.vstack([pts, [extra]]), ref) >= hypervolume(pts, ref) - 1e-9


def test_hypervolume_known_values() -> None:
    assert hypervolume(np.array([[1.0, 1.0, 1.0]]), np.array([2.0, 2.0, 2.0])) == 1.0
    two = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    assert hypervolume(two, np.array([2.0, 2.0, 2.0])) == pytest.approx(3.0)
    assert hypervolume(np.array([[3.0, 0.0]]), np.array([2.0, 2.0])) == 0.0


def test_metrics_on_a_part() -> None:
    part = resolve_part("xc7z020")
    totals = {"lut": 5320, "ff": 0, "dsp": 110, "bram18": 0, "latency_cycles": 10, "ii_cycles": 2}
    assert metric_value("latency_ns", totals, part, 5.0) == 50.0
    assert metric_value("utilization", totals, part, 5.0) == pytest.approx(0.5)
    assert metric_value("lut_dsp", totals, part, 5.0) == pytest.approx(0.6)


def test_budgets_as_counts_percent_and_errors() -> None:
    part = resolve_part("xc7z020")
    assert parse_budget("dsp", "50%").limit_on(part) == 110
    assert parse_budget("latency_ns", 100).violation({"latency_cycles": 30}, part, 5.0) == pytest.approx(0.5)
    with pytest.raises(SpecError, match="did you mean 'lut'"):
        parse_budget("lutt", 10)
    with pytest.raises(SpecError, match="percentages only"):
        parse_budget("latency_ns", "10%")
    with pytest.raises(SpecError, match="non-negative"):
        parse_budget("lut", -1)


def test_mnasnet_weighted_product_and_weighted_sum() -> None:
    prod = Scalarization("weighted_product", {"latency_ns": 100.0}, {"latency_ns": -0.07})
    assert prod.score(0.9, {"latency_ns": 100.0}) == pytest.approx(0.9)
    assert prod.score(0.9, {"latency_ns": 200.0}) == pytest.approx(0.9 * 2**-0.07)
    assert prod.needed_accuracy(prod.score(0.8, {"latency_ns": 50.0}), {"latency_ns": 50.0}) == pytest.approx(0.8)
    total = Scalarization("weighted_sum", {"lut": 1000.0}, {"lut": -0.1})
    assert total.score(0.9, {"lut": 2000.0}) == pytest.approx(0.7)
    with pytest.raises(SpecError, match="targets"):
        Scalarization("weighted_sum", {}, {})


def test_needed_accuracy_is_what_beats_the_archive() -> None:
    f = Formulation("pareto", ("accuracy", "latency_ns", "lut_dsp"), ("latency_ns", "lut_dsp"))
    archive_acc = np.array([0.9, 0.8])
    archive_costs = np.array([[10.0, 0.5], [5.0, 0.2]])
    assert f.needed_accuracy(np.array([[6.0, 0.3]]), archive_acc, archive_costs) == 0.8
    assert f.needed_accuracy(np.array([[4.0, 0.3]]), archive_acc, archive_costs) == -math.inf
    single = Formulation("accuracy", ("accuracy",), ("latency_ns", "lut_dsp"))
    assert single.needed_accuracy(np.array([[1.0, 1.0]]), archive_acc, archive_costs) == 0.9


def test_hopeless_rule_waits_for_warmup_and_uses_the_largest_gain() -> None:
    curves = [([0.4, 0.5, 0.8], 0.85), ([0.5, 0.7, 0.75], 0.8), ([0.5, 0.6, 0.9], 0.9)]
    assert optimistic_gain(1, curves) == pytest.approx(0.35)  # epochs from 0: val_history[1]
    rule = HopelessRule(min_epoch=1, warmup_trials=3, margin_sd=0.0)
    assert rule.should_stop(1, 0.3, 0.9, curves)  # 0.3 + 0.35 < 0.9
    assert not rule.should_stop(1, 0.6, 0.9, curves)
    assert not rule.should_stop(0, 0.0, 0.9, curves)  # before min_epoch
    assert not rule.should_stop(1, 0.0, 0.9, curves[:2])  # warm-up
    assert not rule.should_stop(1, 0.0, -math.inf, curves)  # nothing to beat


def test_a_run_retracing_a_finished_curve_is_forecast_at_that_curve_final_accuracy() -> None:
    # report(epoch, val) counts epochs from 0 (train(), the benchmark replay): the rise is read at the same
    # epoch of the finished runs, so a run whose curve equals a finished one is forecast at exactly its final
    # accuracy (the rule once read the epoch before, forecasting more than a run that rises can reach).
    history, final = [0.2, 0.5, 0.7, 0.8, 0.85], 0.86
    curves = [(history, final)] * 3
    rule = HopelessRule(min_epoch=0, warmup_trials=3, margin_sd=0.0)
    for epoch, val in enumerate(history):
        assert optimistic_gain(epoch, curves) == pytest.approx(final - val)
        assert rule.should_stop(epoch, val, final + 0.005, curves)
        assert not rule.should_stop(epoch, val, final - 0.005, curves)


def test_the_noise_margin_widens_the_forecast_by_the_spread_of_the_finished_rises() -> None:
    # rises from epoch 1 to the final accuracy: 0.0, 0.02, 0.04 (largest 0.04, standard deviation 0.02)
    curves = [([0.5, 0.9], 0.9), ([0.5, 0.9], 0.92), ([0.5, 0.9], 0.94)]
    assert optimistic_gain(1, curves, margin_sd=1.0) == pytest.approx(0.06)
    assert optimistic_gain(1, curves[:1], margin_sd=1.0) == pytest.approx(0.0)  # one run: no spread
    assert HopelessRule(margin_sd=0.0).should_stop(1, 0.9, 0.95, curves)  # 0.9 + 0.04 < 0.95
    assert not HopelessRule(margin_sd=1.0).should_stop(1, 0.9, 0.95, curves)  # 0.9 + 0.06 >= 0.95
    assert HopelessRule(margin_sd=1.0).should_stop(1, 0.88, 0.95, curves)  # 0.88 + 0.06 < 0.95
