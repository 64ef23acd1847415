"""The metric table: one function per metric for one design and for a batch, the new metrics (power,
energy from the interval, URAM, largest share) as objectives and budgets, and the Pareto filter."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from search_graphs import mlp_graph
from test_search_inner import brute_force, small_space, solver_front

from codesign.search import metrics
from codesign.search.metrics import CSV_METRICS, METRIC_TABLE, RAW_KEYS, check_metric
from codesign.search.objectives import parse_budget
from codesign.search.pareto import nondominated
from hw_templates.errors import SpecError
from hw_templates.parts import resolve_part

PART = resolve_part("xcvu9p")


def _totals(seed: int, n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.integers(0, 5000, n).astype(float) for k in RAW_KEYS}


@pytest.mark.parametrize("name", [m for m in METRIC_TABLE if m != "accuracy"])
def test_each_metric_gives_the_same_value_for_one_design_and_for_a_batch(name: str) -> None:
    batch = _totals(1, 7)
    column = metrics.value(name, batch, PART, 4.0)
    assert isinstance(column, np.ndarray) and column.shape == (7,)
    for i in range(7):
        one = metrics.value(name, {k: float(v[i]) for k, v in batch.items()}, PART, 4.0)
        assert isinstance(one, float) and one == pytest.approx(column[i])


def test_every_metric_has_a_unit_label_and_a_known_combination() -> None:
    for m in METRIC_TABLE.values():
        assert m.label and m.help and m.combine in ("sum", "path", "max", "derived", "none")
        assert set(m.needs) <= set(RAW_KEYS) and set(m.via) <= set(METRIC_TABLE)
        assert (m.weights is not None) == (m.combine == "sum")
    assert metrics.metric_label("latency_ns") == "latency (ns)" and metrics.metric_label("power_w") == "power (W)"


def test_power_is_the_cost_models_and_energy_is_power_times_the_interval(model) -> None:
    graph = mlp_graph((16, 10))
    space = small_space(part="xcvu9p")
    cost = model.estimate(graph, space.families[0].base_config(PART, 4.0, space.backend))
    totals = cost.totals()
    assert metrics.value("power_w", totals, PART, 4.0) == pytest.approx(cost.power_w)
    energy = metrics.value("energy_nj_per_inference", totals, PART, 4.0)
    assert energy == pytest.approx(cost.power_w * cost.ii_cycles * 4.0)
    assert cost.ii_cycles < cost.latency_cycles and energy < cost.power_w * cost.latency_ns


def test_util_max_is_the_binding_resource_and_utilization_is_its_old_name() -> None:
    totals = {"lut": PART.lut * 0.2, "ff": 0.0, "dsp": PART.dsp * 0.7, "bram18": 0.0, "uram": 0.0}
    assert metrics.value("util_max", totals, PART, 5.0) == pytest.approx(0.7)
    assert check_metric("utilization", "x") == "util_max" and parse_budget("utilization", 0.5).metric == "util_max"
    assert metrics.value("util_max", {"uram": 1.0}, resolve_part("xc7z020"), 5.0) == np.inf  # a part without URAM


def test_violation_is_negative_inside_and_positive_outside_every_limit() -> None:
    budgets = (parse_budget("lut", "10%"), parse_budget("power_w", 5.0))
    inside = {"lut": PART.lut * 0.05, "ff": 0.0, "dsp": 0.0, "bram18": 0.0}
    assert metrics.violation(inside, PART, 4.0, budgets) < 0
    assert metrics.violation({**inside, "lut": PART.lut * 0.2}, PART, 4.0, budgets) == pytest.approx(1.0)
    assert metrics.violation(inside, PART, 4.0, (parse_budget("power_w", 1.0),)) > 0
    batch = {k: np.array([v, v * 4]) for k, v in inside.items()}
    assert (metrics.violation(batch, PART, 4.0, budgets) > 0).tolist() == [False, True]


def test_unknown_metric_and_percent_on_power_are_one_line_errors() -> None:
    with pytest.raises(SpecError, match="did you mean 'power_w'"):
        check_metric("power", "search.objectives")
    with pytest.raises(SpecError, match="percentages only for lut, ff, dsp, bram18, uram"):
        parse_budget("power_w", "50%")


@pytest.mark.parametrize(
    "names, budgets",
    [(("latency_ns", "power_w"), ()), (("energy_nj_per_inference", "lut"), ()), (("ii_ns", "util_max"), ()),
     (("latency_ns", "lut_dsp"), (("power_w", 2.5), ("energy_nj_per_inference", 400.0)))],
    ids=["power", "energy", "util_max", "power-energy-budgets"],
)  # fmt: skip
def test_the_inner_search_is_exact_for_the_new_metrics_and_budgets(model, names, budgets) -> None:
    graph, space = mlp_graph((16, 10)), small_space(part="xc7z020", rf_max=16)
    parsed = tuple(parse_budget(k, v) for k, v in budgets)
    found, front = solver_front(graph, space, model, names, parsed)
    assert found and found == brute_force(graph, space, model, names, parsed)
    assert all(
        metrics.violation(p.totals, space.primary, space.clock_ns, parsed) <= 1e-9 for p in front.points["xc7z020"]
    )


def test_designs_csv_has_every_metric_column() -> None:
    assert CSV_METRICS[: len(RAW_KEYS)] == RAW_KEYS and {"power_w", "energy_nj_per_inference", "util_max"} <= set(
        CSV_METRICS
    )


def _brute_nondominated(pts: np.ndarray) -> set[tuple[float, ...]]:
    keep = set()
    for i, p in enumerate(pts):
        if not any(np.all(q <= p) and np.any(q < p) for j, q in enumerate(pts) if j != i):
            keep.add(tuple(p))
    return keep


@settings(max_examples=60, deadline=None)
@given(
    d=st.integers(1, 4),
    rows=st.lists(st.lists(st.integers(0, 4), min_size=4, max_size=4), min_size=0, max_size=40),
)
def test_nondominated_matches_the_definition_and_keeps_duplicates_once(d: int, rows: list[list[int]]) -> None:
    pts = np.array([r[:d] for r in rows], dtype=float).reshape(len(rows), d)
    keep = nondominated(pts)
    assert keep.tolist() == sorted(keep.tolist())
    assert [tuple(p) for p in pts[keep]] == list(dict.fromkeys(tuple(p) for p in pts[keep]))  # no repeats
    assert {tuple(p) for p in pts[keep]} == _brute_nondominated(pts)


def test_nondominated_keeps_the_first_of_repeated_rows() -> None:
    pts = np.array(list(itertools.repeat([1.0, 1.0, 1.0], 3)) + [[0.0, 2.0, 1.0]])
    assert nondominated(pts).tolist() == [0, 3]
    assert nondominated(pts[:, :2]).tolist() == [0, 3]
