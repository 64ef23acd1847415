"""Probabilistic fit constraint: the hardware search keeps exactly the front of the designs that fit
their part with the asked probability under the lookup-table model's intervals."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from search_graphs import mlp_graph
from test_search_inner import METRICS, small_space

from codesign.search import search_settings_from_dict
from codesign.search.hardware_space import HardwareRanges, HardwareSpace
from codesign.search.inner import search_hardware
from codesign.search.objectives import metric_value
from codesign.search.pareto import nondominated
from cost_models import get_cost_model
from cost_models.cost import Target
from cost_models.lut import LutModel, fit_probability, load_table
from hw_templates.config import IoType
from hw_templates.errors import SpecError
from hw_templates.parts import declare_part, resolve_part

LEVEL = 0.8
#: a whole run on the shipped table: its intervals for small 4-6-bit MLPs on an xc7z020 are wide
RUN_LEVEL = 0.5


def _space(part) -> HardwareSpace:
    return HardwareSpace.build([part], ranges=HardwareRanges(io_types=(IoType.PARALLEL,), reuse_factor_max=8))


def _vectors(points, part, clock):
    return {tuple(np.round([metric_value(m, p.totals, part, clock) for m in METRICS], 6)) for p in points}


def _brute_force(graph, space, model, level):
    """Every configuration estimated in full; the front of those that fit with probability >= level."""
    part, rows = space.primary, []
    for family in space.families:
        layers = graph.weight_layers()
        for combo in itertools.product(*(family.layer_options(x) for x in layers)):
            hw = family.config(part, space.clock_ns, space.backend, dict(zip([x.name for x in layers], combo)))
            cost = model.estimate(graph, hw)
            if cost.fits() and fit_probability(cost) >= level:
                rows.append([metric_value(m, cost.totals(), part, space.clock_ns) for m in METRICS])
    arr = np.array(rows)
    return {tuple(np.round(arr[i], 6)) for i in nondominated(arr)} if rows else set()


def _binding_part(model, graph):
    """A part on which some designs of the median-fit front fit with probability >= LEVEL and some do
    not: an xcu250 with k times the fastest design's LUTs, for the first k that does it (the intervals'
    widths come from the shipped out-of-source residuals, so the part is derived, not hard-coded)."""
    big = resolve_part("xcu250")
    fastest = min(
        search_hardware(graph, _space(big), model, METRICS).points[big.name], key=lambda p: p.totals["latency_cycles"]
    )
    for k in (1.1, 1.2, 1.3, 1.4, 1.5, 1.75, 2, 2.5, 3, 5, 8, 13, 21, 34, 55):
        part = declare_part(f"tight{k}", lut=int(k * fastest.totals["lut"]), ff=big.ff, dsp=big.dsp, bram18=big.bram18)
        plain = search_hardware(graph, _space(part), model, METRICS)
        probabilities = [fit_probability(model.estimate(graph, p.hardware)) for p in plain.points[part.name]]
        if any(p >= LEVEL for p in probabilities) and any(p < LEVEL for p in probabilities):
            return part
    pytest.fail(f"no part size where the fit constraint binds for {graph.name}")


@pytest.fixture(scope="module", params=["lut", "analytical"])
def tight_case(request):
    """An MLP on a part where the fastest designs' fit is uncertain under the model's 90 % intervals."""
    # The hardware search adds per-layer shares, which is exact for estimates the table does not correct
    # (a correction scales the whole design's total): the lookup-table model runs without the shipped
    # table's buckets, so every design gets the analytical estimate with the fallback intervals.
    model = LutModel(Target.HLS, replace(load_table(), buckets={})) if request.param == "lut" else None
    model, graph = model or get_cost_model(request.param), mlp_graph((32, 10), n_in=32)
    part = _binding_part(model, graph)
    return model, graph, _space(part), part


def test_probabilistic_front_is_the_front_of_likely_fits(tight_case) -> None:
    model, graph, space, part = tight_case
    plain = search_hardware(graph, space, model, METRICS)
    sure = search_hardware(graph, space, model, METRICS, fit_probability=LEVEL)
    assert sure.points[part.name], "some design should fit the part with 80 % probability"
    for p in sure.points[part.name]:
        assert p.totals["fit_probability"] >= LEVEL
        assert p.totals["fit_probability"] == pytest.approx(fit_probability(model.estimate(graph, p.hardware)))
    # the constraint binds: some designs of the median-fit front are too likely not to fit
    assert _vectors(plain.points[part.name], part, space.clock_ns) - _vectors(
        sure.points[part.name], part, space.clock_ns
    )
    assert _vectors(sure.points[part.name], part, space.clock_ns) == _brute_force(graph, space, model, LEVEL)


def test_impossible_probability_rejects_with_reason(tight_case) -> None:
    model, graph, _, part = tight_case
    tiny = declare_part("tiny", lut=40, ff=part.ff, dsp=part.dsp, bram18=part.bram18)
    front = search_hardware(graph, _space(tiny), model, METRICS, fit_probability=LEVEL)
    assert not front.points["tiny"]
    assert front.best_violation["tiny"] > 0


def test_a_model_without_intervals_answers_zero_or_one() -> None:
    from cost_models.analytical import AnalyticalModel

    class Plain(AnalyticalModel):  # the analytical figures without intervals
        name, gives_intervals, interval_name = "plain", False, None

    graph = mlp_graph()
    space = small_space()
    a = search_hardware(graph, space, Plain(), METRICS)
    b = search_hardware(graph, space, Plain(), METRICS, fit_probability=LEVEL)
    part = space.primary
    assert _vectors(a.points[part.name], part, 5.0) == _vectors(b.points[part.name], part, 5.0)
    assert all(p.totals["fit_probability"] == 1.0 for p in b.points[part.name])


def test_config_needs_a_model_with_intervals() -> None:
    from cost_models import register_cost_model
    from cost_models.analytical import AnalyticalModel

    class Plain(AnalyticalModel):
        name, gives_intervals, interval_name = "plain", False, None

    register_cost_model("test_plain", lambda target, arg: Plain(target))
    base = {"dataset": "digits", "parts": ["xc7z020"], "fit_probability": 0.95}
    with pytest.raises(SpecError, match=r"fit_probability.*a model with intervals"):
        search_settings_from_dict({**base, "cost_model": "test_plain"})
    for name in ("lut", "analytical"):  # both give out-of-source intervals
        assert search_settings_from_dict({**base, "cost_model": name}).fit_probability == 0.95
    with pytest.raises(SpecError, match="fit_probability"):
        search_settings_from_dict({**base, "cost_model": "lut", "fit_probability": 1.5})


@pytest.mark.parametrize("mode", ["nested", "random"])
def test_a_run_with_fit_probability_records_it_per_design(mode: str, tmp_path) -> None:
    import csv

    from codesign.search import run_config

    settings = search_settings_from_dict(
        {
            "name": "fit",
            "dataset": "digits",
            "space": {"kind": "mlp", "hidden": [1, 1], "units": [16, 32], "weight_bits": [4, 6], "act_bits": [4, 6]},
            "parts": ["xc7z020"],
            "cost_model": "lut",
            "fit_probability": RUN_LEVEL,
            "hardware": {"reuse_factor_max": 16},
            "training": {"epochs": 1, "proxy_fraction": 0.3},
            "search": {"trials": 2, "sampler": "random", "mode": mode},
        }
    )
    run_config(settings, tmp_path / "run", progress=False)
    with (tmp_path / "run" / "designs.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(float(r["fit_probability"]) >= RUN_LEVEL for r in rows)
