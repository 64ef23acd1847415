"""The inner hardware search is exact: it finds the same front as estimating every configuration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_graphs import branched_graph, cnn_graph, mlp_graph

import codesign.search.inner as inner
from codesign.search.hardware_space import HardwareRanges, HardwareSpace
from codesign.search.inner import search_hardware
from codesign.search.objectives import metric_value, parse_budget
from codesign.search.pareto import nondominated
from hw_templates.config import IoType, Strategy
from hw_templates.parts import resolve_part
from hw_templates.reuse import is_valid_reuse_factor

METRICS = ("latency_ns", "lut_dsp")


def brute_force(graph, space, model, metrics=METRICS, budgets=()):
    """Every configuration estimated with the cost model's own estimate(): the set of front vectors."""
    part = space.primary
    vectors = []
    for family in space.families:
        if family.rejection(graph):
            continue
        layers = graph.weight_layers()
        for combo in itertools.product(*(family.layer_options(x) for x in layers)):
            hw = family.config(part, space.clock_ns, space.backend, dict(zip([x.name for x in layers], combo)))
            totals = model.estimate(graph, hw).totals()
            inside = all(totals[r] <= getattr(part, r) for r in ("lut", "ff", "dsp", "bram18"))
            inside &= family.max_dsp is None or totals["dsp"] <= family.max_dsp
            inside &= all(b.violation(totals, part, space.clock_ns) <= 1e-9 for b in budgets)
            if inside:
                vectors.append([metric_value(m, totals, part, space.clock_ns) for m in metrics])
    return front_of(vectors)


def front_of(vectors) -> set:
    """The non-dominated set of rounded vectors. Rounding first: the solver sums per-layer tables in another
    order than estimate() does, so two designs can differ by one ulp (0.05301140977443609 vs ...094) and a
    slower one would survive on that noise alone."""
    if not len(vectors):
        return set()
    arr = np.round(np.asarray(vectors, dtype=float), 6)
    return {tuple(arr[i]) for i in nondominated(arr)}


def solver_front(graph, space, model, metrics=METRICS, budgets=()):
    front = search_hardware(graph, space, model, metrics, budgets)
    part = space.primary
    return front_of(
        [[metric_value(m, p.totals, part, space.clock_ns) for m in metrics] for p in front.points[part.name]]
    ), front


def small_space(part="xc7z020", io=(IoType.PARALLEL,), rf_max=16, templates=(), pf_max=1):
    ranges = HardwareRanges(io_types=io, reuse_factor_max=rf_max, parallelization_max=pf_max)
    return HardwareSpace.build([resolve_part(part)], templates=list(templates), ranges=ranges)


@pytest.mark.parametrize(
    "graph_fn, io",
    [(lambda: mlp_graph((16, 10)), IoType.PARALLEL), (branched_graph, IoType.PARALLEL),
     (lambda: mlp_graph((8, 8, 4), n_in=8), IoType.STREAM), (cnn_graph, IoType.PARALLEL),
     (cnn_graph, IoType.STREAM)],
    ids=["mlp", "residual", "mlp-stream", "cnn", "cnn-stream"],
)  # fmt: skip
def test_front_equals_brute_force(graph_fn, io, model) -> None:
    graph = graph_fn()
    space = small_space(io=(io,), pf_max=4)
    found, front = solver_front(graph, space, model)
    assert found == brute_force(graph, space, model)
    assert front.exact and front.configurations == space.size(graph)


def test_layer_by_layer_merge_is_exact_on_chains(model, monkeypatch) -> None:
    graph, space = mlp_graph((16, 16, 10)), small_space(rf_max=64)
    exhaustive, _ = solver_front(graph, space, model, ("latency_ns", "lut", "dsp"))
    monkeypatch.setattr(inner, "EXHAUSTIVE_LIMIT", 1)
    merged, front = solver_front(graph, space, model, ("latency_ns", "lut", "dsp"))
    assert merged == exhaustive and front.exact
    assert front.evaluated < front.configurations


def test_budgets_are_met_by_every_design_and_match_brute_force(model) -> None:
    graph, space = mlp_graph((16, 10)), small_space()
    budgets = (parse_budget("lut", 3000), parse_budget("latency_ns", 80))
    found, front = solver_front(graph, space, model, budgets=budgets)
    assert found == brute_force(graph, space, model, budgets=budgets)
    for p in front.points["xc7z020"]:
        assert p.totals["lut"] <= 3000 and p.totals["latency_cycles"] * 5.0 <= 80


def test_every_design_uses_legal_reuse_factors_and_matches_estimate(model) -> None:
    graph, space = mlp_graph((32, 10), n_in=20), small_space(rf_max=64)
    front = search_hardware(graph, space, model, METRICS)
    for p in front.points["xc7z020"]:
        cost = model.estimate(graph, p.hardware)
        assert cost.lut == pytest.approx(p.totals["lut"]) and cost.latency_cycles == pytest.approx(
            p.totals["latency_cycles"]
        )
        for layer in graph.weight_layers():
            lh = p.hardware.layers[layer.name]
            if lh.strategy is Strategy.RESOURCE:
                assert is_valid_reuse_factor(*layer.mult_units()[0], lh.reuse_factor)


def test_impossible_part_gives_no_design_and_a_positive_violation(model) -> None:
    graph = mlp_graph((256, 256, 10), n_in=256, weight_bits=8)
    front = search_hardware(graph, small_space(part="xc7z007s", rf_max=1), model, METRICS)
    assert front.points["xc7z007s"] == () and front.best_violation["xc7z007s"] > 0


def test_dsp_free_rejects_wide_weights_and_keeps_zero_dsp(model) -> None:
    space = small_space(templates=["dsp_free"])
    narrow = search_hardware(mlp_graph(weight_bits=4), space, model, METRICS)
    assert narrow.points["xc7z020"] and all(
        p.totals["dsp"] == 0 for p in narrow.points["xc7z020"] if "dsp_free" in p.family
    )
    wide = search_hardware(
        mlp_graph(weight_bits=8), HardwareSpace.build([resolve_part("xc7z020")], templates=["dsp_free"]), model, METRICS
    )
    assert wide.points["xc7z020"] == () and any("8-bit weights" in r for r in wide.reasons)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    widths=st.lists(st.sampled_from([2, 4, 6, 8, 12]), min_size=1, max_size=3),
    n_in=st.sampled_from([4, 6, 8]),
    bits=st.sampled_from([3, 8]),
)
def test_random_mlps_match_brute_force(model, widths, n_in, bits) -> None:
    graph = mlp_graph(tuple(widths), n_in=n_in, weight_bits=bits)
    space = small_space(rf_max=8)
    assert solver_front(graph, space, model)[0] == brute_force(graph, space, model)


@pytest.mark.parametrize("io", [IoType.PARALLEL, IoType.STREAM])
def test_depthwise_layers_get_only_the_latency_strategy_even_in_resource_families(model, io) -> None:
    from cost_models.ir import GraphBuilder, LayerPrecision
    from hw_templates.precision import FixedType

    b = GraphBuilder("dw", (8, 8, 4), FixedType(8, 3))
    p = LayerPrecision(result=FixedType(16, 6), weight=FixedType(6, 1), bias=FixedType(8, 3))
    b.add("depthwise_conv2d", name="dw", kernel=(3, 3), padding="same", precision=p)
    b.add("activation", function="relu")
    b.add("conv2d", name="pw", filters=4, kernel=(1, 1), precision=p)
    b.add("flatten")
    b.add("dense", name="out", units=10, precision=p)
    graph = b.build()
    ranges = HardwareRanges(io_types=(io,), strategies=(Strategy.RESOURCE,), reuse_factor_max=16)
    space = HardwareSpace.build([resolve_part("xczu7ev")], ranges=ranges)
    front = search_hardware(graph, space, model, METRICS)
    assert front.points["xczu7ev"]
    for point in front.points["xczu7ev"]:
        assert point.hardware.resolve("dw").strategy is Strategy.LATENCY
        assert point.hardware.resolve("pw").strategy is Strategy.RESOURCE
