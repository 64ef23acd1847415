"""What a retargeted study records per source trial (no training: records made by hand, real cost model)."""

from __future__ import annotations

import optuna
import pytest
from search_graphs import mlp_graph

from codesign.search.driver import RunPlan
from codesign.search.formulation import Formulation
from codesign.search.hardware_space import HardwareRanges, HardwareSpace
from codesign.search.objectives import parse_budget
from codesign.search.retarget import _retargeted
from hw_templates.parts import resolve_part

DIST = {"width": optuna.distributions.IntDistribution(4, 64)}


def _plan(budgets=()):
    form = Formulation("pareto", ("accuracy", "latency_ns", "lut_dsp"), ("latency_ns", "lut_dsp"), tuple(budgets))
    space = HardwareSpace.build([resolve_part("xc7z020")], ranges=HardwareRanges(reuse_factor_max=16))
    return RunPlan("r", "nested", form, space)


def _trained(accuracy=0.9):
    attrs = {"status": "trained", "accuracy": accuracy, "trained": True, "graph": mlp_graph((32, 10)).to_json()}
    return optuna.trial.create_trial(values=[accuracy, 100.0, 0.1], params={"width": 32}, distributions=DIST,
                                     user_attrs=attrs)  # fmt: skip


@pytest.mark.parametrize("state", ["PRUNED", "FAIL"])
def test_untrained_source_trials_keep_their_state(state, model) -> None:
    status = "rejected" if state == "PRUNED" else "failed"
    source = optuna.trial.create_trial(state=optuna.trial.TrialState[state], params={"width": 8}, distributions=DIST,
                                       user_attrs={"status": status})  # fmt: skip
    stats = {"trained": [], "seconds": 0.0}
    moved = _retargeted(source, _plan(), model, stats)
    assert moved.state.name == state and moved.user_attrs["designs"] == [] and stats["trained"] == []


def test_a_trained_architecture_that_no_longer_fits_is_complete_and_infeasible(model) -> None:
    stats = {"trained": [], "seconds": 0.0}
    fits = _retargeted(_trained(), _plan(), model, stats)
    assert fits.state.name == "COMPLETE" and fits.system_attrs["constraints"] == [0.0] and fits.user_attrs["designs"]
    moved = _retargeted(_trained(), _plan([parse_budget("lut", 10)]), model, stats)
    # its true accuracy, the cost bounds, and one positive constraint where optuna-dashboard reads it
    assert moved.state.name == "COMPLETE" and moved.values[0] == 0.9 and moved.user_attrs["designs"] == []
    assert len(moved.system_attrs["constraints"]) == 1 and moved.system_attrs["constraints"][0] > 0
    assert moved.constraints == {"0": moved.system_attrs["constraints"][0]} and len(stats["trained"]) == 2
