"""Explicit cost figures and the flat baseline's encoding of hardware knobs."""

from __future__ import annotations

import optuna
import pytest
from search_graphs import mlp_graph

from codesign.search.fronts import MAX_RF_LOG2, figures_front, flat_choices
from codesign.search.hardware_space import HardwareRanges, HardwareSpace
from codesign.search.objectives import parse_budget
from hw_templates.config import Strategy
from hw_templates.errors import SearchError
from hw_templates.parts import resolve_part
from hw_templates.reuse import is_valid_reuse_factor

SPACE = HardwareSpace.build([resolve_part("xc7z020")], ranges=HardwareRanges(reuse_factor_max=4096))


def test_figures_keep_the_feasible_pareto_options() -> None:
    figures = [{"latency_ns": 10, "lut": 900}, {"latency_ns": 20, "lut": 500}, {"latency_ns": 30, "lut": 600}]
    front = figures_front(figures, SPACE, ("latency_ns", "lut"), (parse_budget("lut", 800),))
    kept = [(p.totals["latency_cycles"], p.totals["lut"]) for p in front.points["xc7z020"]]
    assert kept == [(4.0, 500.0)]  # 900 breaks the budget, 600 is dominated


@pytest.mark.parametrize(
    "figures, message",
    [({"latency": 1, "lut": 1}, "'latency' looks like 'latency_ns'"),
     ({"lut": 1}, "expected figure 'latency_cycles' or 'latency_ns'"),
     ({"latency_ns": -1, "lut": 1}, "a finite number >= 0")],
)  # fmt: skip
def test_bad_figures_fail_with_one_line(figures, message) -> None:
    with pytest.raises(SearchError, match=message):
        figures_front(figures, SPACE, ("latency_ns", "lut"), ())


def test_no_figures_mean_no_feasible_design() -> None:
    front = figures_front([], SPACE, ("latency_ns", "lut"), ())
    assert front.points["xc7z020"] == () and front.best_violation["xc7z020"] > 0


def test_flat_encoding_maps_every_draw_to_a_legal_reuse_factor() -> None:
    graph = mlp_graph((30, 10), n_in=20)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        trial = study.ask()
        _, choices = flat_choices(trial, SPACE, graph)
        assert 0 <= trial.params["hw_rf_log2_0"] <= MAX_RF_LOG2
        for layer in graph.weight_layers():
            option = choices[layer.name]
            assert option.strategy in (Strategy.LATENCY, Strategy.RESOURCE)
            assert is_valid_reuse_factor(*layer.mult_units()[0], option.reuse_factor)
        study.tell(trial, 0.0)
