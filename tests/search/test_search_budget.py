"""The library API's evaluation budget, measured figures, custom objectives, catch= and result object;
the surrogate and RL samplers. User callbacks are cheap functions (no training), so these run fast."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from codesign.search import search
from codesign.search.samplers import SAMPLER_NAMES, make_sampler
from hw_templates.errors import SearchError, SpecError

SPACE = {"width": [8, 16, 32, 64], "depth": (1, 4), "bits": [2, 4, 8]}


def fpga_ns(a: dict) -> float:
    return 10.0 * a["depth"] * a["bits"]


def accuracy(a: dict) -> float:
    return 0.5 + 0.004 * a["width"] + 0.03 * a["depth"] + 0.01 * a["bits"]


def cost(a: dict) -> list[dict]:
    """Two device latencies; the widest, deepest networks fit nothing (rejected, free)."""
    if a["width"] * a["depth"] > 128:
        return []
    return [{"fpga_ns": fpga_ns(a), "cpu_us": 0.5 * a["width"] * a["depth"]}]


@pytest.mark.parametrize("sampler", ["surrogate", "rl", "tpe", "random"])
def test_the_budget_counts_expensive_evaluations_only(sampler: str) -> None:
    calls: list[dict] = []

    def evaluate(a: dict) -> float:
        calls.append(a)
        return accuracy(a)

    result = search(
        SPACE, cost, evaluate, objectives=("accuracy", "fpga_ns", "cpu_us"), evaluations=12, sampler=sampler, seed=3
    )
    keys = [tuple(sorted(a.items())) for a in calls]
    assert result.evaluations == len(calls) == 12 and len(set(keys)) == 12  # repeats were free
    assert all(a["width"] * a["depth"] <= 128 for a in calls)  # rejected candidates were never evaluated
    assert result.summary.trials >= 12 and len(result.designs) == 12
    front = np.array([[-d.accuracy, d.figures["fpga_ns"], d.figures["cpu_us"]] for d in result.pareto])
    for d in result.designs:  # nothing evaluated beats a Pareto design on every objective
        v = np.array([-d.accuracy, d.figures["fpga_ns"], d.figures["cpu_us"]])
        assert not np.any(np.all(v <= front, axis=1) & np.any(v < front, axis=1))


def test_the_surrogate_never_proposes_a_rejected_or_known_architecture() -> None:
    result = search(SPACE, cost, accuracy, objectives=("accuracy", "fpga_ns", "cpu_us"), evaluations=15,
                    sampler="surrogate", seed=0)  # fmt: skip
    statuses = [t.user_attrs["status"] for t in result.study.trials]
    assert statuses.count("trained") == 15 and result.summary.trials == 15  # no trial wasted


def test_startup_proposals_cost_candidates_one_by_one_and_the_model_gets_the_whole_pool() -> None:
    from codesign.search.surrogate import SurrogateSampler

    wide = {"a": list(range(40)), "b": list(range(40)), "c": [1, 2, 4, 8]}  # 6,400 architectures

    def run(evaluations: int) -> SurrogateSampler:
        sampler = SurrogateSampler(seed=1, n_startup=4, pool_random=50, pool_mutations=10)
        result = search(wide, lambda a: [{"ns": float(a["a"] + a["c"])}], lambda a: 0.01 * a["b"],
                        objectives=("accuracy", "ns"), evaluations=evaluations, sampler=sampler)  # fmt: skip
        assert result.evaluations == evaluations
        return sampler

    assert len(run(4)._pool) <= 8  # four startup proposals: a few costings each, no pool of 50+
    assert len(run(5)._pool) >= 4 * 50  # the first model proposal grew the rounds the startup skipped


def test_a_trial_reuses_the_hardware_front_the_surrogate_costed_for_it() -> None:
    from codesign.models.arch import ArchLayer, ArchSpec
    from codesign.search.surrogate import SurrogateSampler

    def graph(a: dict):
        layers = (ArchLayer("dense", name="fc0", units=a["units"], weight_bits=a["bits"]),
                  ArchLayer("activation", name="relu0", act_bits=a["bits"]),
                  ArchLayer("dense", name="out", units=4, weight_bits=a["bits"]))  # fmt: skip
        return ArchSpec("mlp", layers).to_graph((8,))

    sampler = SurrogateSampler(seed=0, n_startup=2, pool_random=8, pool_mutations=4)
    space = {"units": [2, 4, 8], "bits": [2, 4, 6, 8]}
    result = search(space, graph, lambda a: 0.1 * a["units"] + 0.01 * a["bits"], objectives=("accuracy", "latency_ns"),
                    evaluations=4, sampler=sampler)  # fmt: skip
    assert result.evaluations == 4 and not sampler._ctx.fronts  # every front handed over was taken
    for t in result.study.trials:  # the very front the sampler computed (a second search would take other seconds)
        assert t.user_attrs["hw_search"]["seconds"] == round(sampler._pool[t.user_attrs["arch_key"]].front.seconds, 6)


def test_a_maximin_startup_spreads_the_first_evaluations_over_the_space() -> None:
    from codesign.search.surrogate import SurrogateSampler

    def spread(init: str) -> float:
        sampler = SurrogateSampler(seed=4, init=init, n_startup=6)
        result = search(SPACE, cost, accuracy, objectives=("accuracy", "fpga_ns"), evaluations=6, sampler=sampler)
        x = np.array(
            [[d.arch["width"].bit_length(), d.arch["depth"], d.arch["bits"].bit_length()] for d in result.designs]
        )
        return float(np.mean([np.min(np.delete(np.abs(x - row).sum(axis=1), i)) for i, row in enumerate(x)]))

    assert spread("maximin") > spread("random")  # farther apart: nearest-neighbour distance in the encoding
    with pytest.raises(ValueError, match="init"):
        SurrogateSampler(init="sobol")


def test_an_early_stopped_evaluation_can_teach_the_model_its_projected_accuracy() -> None:
    from codesign.search.surrogate import Candidate, SurrogateSampler

    done = [Candidate(k, {}, np.zeros((1, 1)), np.zeros(0)) for k in "abc"]
    labels = {}
    for mode in ("as_is", "projected"):
        sampler = SurrogateSampler(stopped=mode)
        sampler._done = {"a": 0.9, "b": 0.8, "c": 0.5}
        curves = {"a": [0.6, 0.8, 0.85], "b": [0.7, 0.75, 0.78], "c": [0.4, 0.5]}
        sampler._histories = {k: (h, k == "c") for k, h in curves.items()}
        labels[mode] = sampler._labels(done)
    assert labels["as_is"].tolist() == [0.9, 0.8, 0.5]
    # c stopped after epoch 2 at 0.5; fully trained runs rose 0.10 and 0.05 from epoch 2: median 0.075
    assert labels["projected"][:2].tolist() == [0.9, 0.8] and labels["projected"][2] == pytest.approx(0.575)
    sampler._done["c"] = 0.6  # a stop after its best epoch records that epoch's test accuracy: kept when higher
    assert sampler._labels(done)[2] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="stopped"):
        SurrogateSampler(stopped="drop")


def test_measured_figures_replace_estimates_and_maximize_flips_a_figure() -> None:
    def with_throughput(a: dict) -> list[dict]:  # a figure of the user's own that is maximized
        return [{**c, "throughput": 1e3 / c["fpga_ns"]} for c in cost(a)]

    result = search(
        SPACE, with_throughput, lambda a: {"accuracy": accuracy(a), "cpu_us": 1.0 + a["bits"]},
        objectives=("accuracy", "fpga_ns", "cpu_us", "throughput"), maximize=("throughput",), evaluations=5, seed=1,
    )  # fmt: skip
    for d in result.designs:
        assert d.figures["cpu_us"] == 1.0 + d.arch["bits"]  # the measured value, not 0.5 * width * depth
    directions = [d.name for d in result.study.directions]
    assert directions == ["MAXIMIZE", "MINIMIZE", "MINIMIZE", "MAXIMIZE"]


def test_a_missing_figure_fails_before_any_evaluation_with_a_hint() -> None:
    calls = []
    with pytest.raises(SearchError, match=r"expected figure 'cpu_ms'.*'cpu_us' looks like 'cpu_ms'"):
        search(SPACE, cost, lambda a: calls.append(a) or 0.5, objectives=("accuracy", "cpu_ms"), evaluations=3)
    assert calls == []


class BudgetExhausted(RuntimeError):
    pass


def test_catch_fails_listed_errors_and_propagates_the_others() -> None:
    seen = []

    def flaky(a: dict) -> float:
        seen.append(a)
        if len(seen) % 2:
            raise ValueError("a flaky measurement")
        return accuracy(a)

    result = search(SPACE, cost, flaky, objectives=("accuracy", "fpga_ns"), evaluations=4, catch=(ValueError,))
    assert result.evaluations == 4 and len(result.designs) == 2  # failed trials count as spent, not as designs

    def exhausted(a: dict) -> float:
        raise BudgetExhausted("the benchmark's budget is used up")

    with pytest.raises(BudgetExhausted):
        search(SPACE, cost, exhausted, objectives=("accuracy", "fpga_ns"), evaluations=4, catch=(ValueError,))


def test_bad_run_length_and_maximize_are_refused() -> None:
    with pytest.raises(SpecError, match="evaluations"):
        search(SPACE, cost, accuracy, objectives=("accuracy", "fpga_ns"), evaluations=0)
    with pytest.raises(SpecError, match="maximize"):
        search(SPACE, cost, accuracy, objectives=("accuracy", "fpga_ns"), maximize=("latency_ns",))


def test_every_registered_sampler_makes_an_optuna_sampler() -> None:
    for name in SAMPLER_NAMES:
        assert isinstance(make_sampler(name, 0, 2), optuna.samplers.BaseSampler)
    with pytest.raises(SpecError, match="did you mean 'surrogate'"):
        make_sampler("surogate", 0, 2)


def test_the_incremental_archive_matches_a_rebuild() -> None:
    from codesign.search.trial import Archive

    result = search(SPACE, cost, accuracy, objectives=("accuracy", "fpga_ns"), evaluations=6, seed=2)
    from codesign.search.api import _formulation
    from codesign.search.hardware_space import HardwareSpace
    from hw_templates import resolve_part

    form = _formulation("pareto", ("accuracy", "fpga_ns"), (), None, None)
    space = HardwareSpace.build([resolve_part("xc7z020")])
    trials = result.study.get_trials()
    step = Archive()
    for n in range(1, len(trials) + 1):
        step.update(trials[:n], form, space)
    whole = Archive.from_trials(trials, form, space)
    assert step.trainings == whole.trainings == 6 and step.known == whole.known
    assert np.array_equal(step.accuracy, whole.accuracy) and np.array_equal(step.costs, whole.costs)


def test_a_config_budget_becomes_the_run_length_unless_trials_are_given() -> None:
    from codesign.search import plan_from_settings, search_settings_from_dict

    settings = search_settings_from_dict({"name": "t", "space": "mlp", "search": {"evaluations": 5}})
    assert plan_from_settings(settings).evaluations == 5
    assert plan_from_settings(settings, trials=3).evaluations is None  # --trials replaces the budget
    plan = plan_from_settings(settings, evaluations=7)  # --evaluations overrides the file's budget
    assert plan.evaluations == 7 and plan.max_trials is None
    plan = plan_from_settings(settings, trials=9, evaluations=7)  # both: whichever comes first
    assert plan.evaluations == 7 and plan.max_trials == 9
    with pytest.raises(SpecError, match="evaluations"):
        search_settings_from_dict({"name": "t", "space": "mlp", "search": {"evaluations": 0}})


def test_zero_cost_proxies_score_an_untrained_quantized_model() -> None:
    from codesign.models.arch import ArchLayer, ArchSpec
    from codesign.models.builder import build_model
    from codesign.search.proxies import PROXIES, compute_proxies

    def spec(units: int) -> ArchSpec:
        layers = (ArchLayer("dense", name="fc0", units=units, weight_bits=4), ArchLayer("activation", name="r",
                  act_bits=4), ArchLayer("dense", name="out", units=10, weight_bits=4))  # fmt: skip
        return ArchSpec(f"m{units}", layers)

    x = np.random.default_rng(0).normal(size=(32, 64)).astype("float32")
    y = np.arange(32) % 10
    small, wide = (compute_proxies(build_model(spec(u).to_graph((64,))), x, y) for u in (4, 64))
    assert set(small) == set(PROXIES) and all(np.isfinite(v) for v in (*small.values(), *wide.values()))
    assert wide["naswot"] > small["naswot"]  # 64 ReLUs tell 32 samples apart better than 4 do


HOT = """
name: hot
dataset: digits
space: {kind: mlp, hidden: [1, 1], units: [8, 16], weight_bits: [3, 6], act_bits: [4, 4]}
parts: [xc7z020]
training: {epochs: 3, proxy_fraction: 0.3, hot_start_epochs: 1}
search: {evaluations: 3, sampler: surrogate}
"""


@pytest.mark.slow
def test_a_toolkit_search_with_a_budget_hot_starts_later_trainings(tmp_path) -> None:
    from codesign.search import run_config

    config = tmp_path / "hot.yaml"
    config.write_text(HOT)
    summary = run_config(config, tmp_path / "run", progress=False)
    trained = [t for t in summary.study.trials if t.user_attrs.get("status") in ("trained", "stopped")]
    assert summary.trainings == len(trained) == 3
    assert trained[0].user_attrs["hot_start_tensors"] == 0 and trained[0].user_attrs["epochs"] == 3
    for t in trained[1:]:  # every later MLP shares at least the output layer's bias shape
        assert t.user_attrs["hot_start_tensors"] > 0 and t.user_attrs["epochs"] == 1
