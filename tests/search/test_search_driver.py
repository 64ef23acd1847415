"""The driver end to end on a cheap user problem (real Optuna, real cost model, no training)."""

from __future__ import annotations

import csv

import optuna
import pytest
from search_graphs import mlp_graph

from codesign.search import RunPlan, run_search, search
from codesign.search.config import EarlyStopSettings
from codesign.search.formulation import Formulation
from codesign.search.hardware_space import HardwareRanges, HardwareSpace
from codesign.search.objectives import Scalarization, parse_budget
from codesign.search.problem import FunctionProblem
from codesign.search.results import open_run
from hw_templates.errors import SearchError, TrainingError
from hw_templates.parts import resolve_part

SPACE = {"width": [4, 8, 16, 32], "bits": [3, 4, 8], "depth": (1, 2)}


def graph_of(arch):
    return mlp_graph(tuple([arch["width"]] * arch["depth"]) + (10,), n_in=16, weight_bits=arch["bits"])


class Evaluator:
    """Accuracy grows with width, depth and bits; reports a 3-epoch curve; counts calls."""

    def __init__(self, fail_on=None, interrupt_on=None, error=None):
        self.calls, self.fail_on, self.interrupt_on = 0, fail_on, interrupt_on
        self.error = error or RuntimeError("boom")

    def __call__(self, arch, report):
        self.calls += 1
        if self.calls == self.fail_on:
            raise self.error
        if self.calls == self.interrupt_on:
            raise KeyboardInterrupt
        final = 0.5 + 0.01 * arch["width"] + 0.05 * arch["depth"] + 0.02 * arch["bits"]
        for epoch in (1, 2, 3):
            if report(epoch, final * epoch / 3):
                return final * epoch / 3
        return final


def plan(formulation="pareto", mode="nested", trials=8, budgets=(), scal=None, sampler="nsga2", name="t"):
    objectives = ("accuracy", "latency_ns", "lut_dsp") if formulation in ("pareto",) else ("accuracy",)
    costs = scal.metrics if scal else ("latency_ns", "lut_dsp")
    form = Formulation(formulation, objectives, costs, tuple(budgets), scal)
    space = HardwareSpace.build([resolve_part("xc7z020")], ranges=HardwareRanges(reuse_factor_max=16))
    return RunPlan(name, mode, form, space, sampler=sampler, trials=trials, seed=1,
                   early_stop=EarlyStopSettings(warmup_trials=2), config={"test": name})  # fmt: skip


def run(tmp_path, p, evaluator=None, **kw):
    evaluator = evaluator or Evaluator()
    summary = run_search(FunctionProblem(SPACE, graph_of, evaluator), p, tmp_path, progress=False, **kw)
    return summary, evaluator


def rows(path):
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_nested_pareto_run_writes_designs_and_pareto(tmp_path) -> None:
    summary, ev = run(tmp_path, plan())
    assert summary.trials == 8 and summary.trainings == ev.calls <= 8
    designs, pareto = rows(tmp_path / "designs.csv"), rows(tmp_path / "pareto.csv")
    assert designs and pareto and {r["design_id"] for r in pareto} <= {r["design_id"] for r in designs}
    for col in (
        "accuracy",
        "lut",
        "ff",
        "dsp",
        "bram18",
        "latency_cycles",
        "ii_cycles",
        "latency_ns",
        "util_max",
        "power_w",
        "energy_nj_per_inference",
        "part",
        "feasible",
        "pareto",
        "trial",
        "train_seconds",
        "param_width",
        "hardware",
    ):
        assert col in designs[0]
    assert all(r["pareto"] == "True" for r in pareto)
    html = (tmp_path / "report.html").read_text()
    assert "<svg" in html and "Per-layer cost" in html and "<script" not in html


@pytest.mark.parametrize("sampler", ["nsga3", "tpe", "random"])
def test_other_samplers_run(tmp_path, sampler) -> None:
    summary, _ = run(tmp_path, plan(sampler=sampler, trials=5))
    assert summary.trials == 5 and summary.feasible_designs > 0


def test_gp_sampler_runs_single_objective(tmp_path) -> None:
    summary, _ = run(tmp_path, plan("accuracy", sampler="gp", trials=4))
    assert summary.trials == 4


def test_constrained_budgets_become_optuna_constraints(tmp_path) -> None:
    budgets = (parse_budget("lut", 2500),)
    summary, _ = run(tmp_path, plan("constrained", budgets=budgets, sampler="tpe", trials=8))
    study = open_run(tmp_path).study
    trials = study.get_trials()
    assert len(trials) == 8 and summary.statuses.get("rejected", 0) >= 1  # rejections take budget slots
    for t in trials:
        # one value where Optuna's constraints_func writes it (optuna-dashboard reads it from there)
        assert list(t.system_attrs["constraints"]) == list(t.constraints.values()) and len(t.constraints) == 1
        if t.user_attrs["status"] == "rejected":  # no made-up values: pruned, infeasible, untrained
            assert t.state == optuna.trial.TrialState.PRUNED and t.values is None
            assert t.constraints["0"] > 0 and not t.user_attrs.get("trained")
            assert t.user_attrs["cost_bounds"]["lut"] > 2500
        else:
            assert t.state == optuna.trial.TrialState.COMPLETE and t.constraints["0"] <= 0
    assert all(float(r["lut"]) <= 2500 for r in rows(tmp_path / "designs.csv"))
    # every design keeps the cost model's 90 % intervals: designs.csv columns, error bars in the report
    assert all("lut" in d["intervals"] for t in trials for d in t.user_attrs.get("designs", []))
    for r in rows(tmp_path / "designs.csv"):
        for m in ("lut", "latency_ns", "lut_dsp", "util_max"):
            assert float(r[f"{m}_low"]) <= float(r[m]) <= float(r[f"{m}_high"])
        assert float(r["lut_low"]) < float(r["lut_high"]) and 0 <= float(r["fit_probability"]) <= 1
    html = (tmp_path / "report.html").read_text()
    assert "90 % prediction intervals" in html and "fit_probability</th>" in html


def test_scalarized_reports_the_best_score(tmp_path) -> None:
    scal = Scalarization("weighted_product", {"latency_ns": 100.0}, {"latency_ns": -0.07})
    run(tmp_path, plan("scalarized", scal=scal, sampler="tpe", trials=5))
    designs = rows(tmp_path / "designs.csv")
    best = {}
    for r in designs:
        best[r["trial"]] = max(best.get(r["trial"], 0.0), float(r["score"]))
    for t in open_run(tmp_path).study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)):
        if str(t.number) in best:
            assert t.values[0] == pytest.approx(best[str(t.number)], rel=1e-5)


def test_two_stage_keeps_only_the_top_architectures(tmp_path) -> None:
    p = plan("two_stage", sampler="tpe", trials=6)
    run(tmp_path, p)
    selected = open_run(tmp_path).attrs["selected_trials"]
    assert 1 <= len(selected) <= p.top_k
    assert {int(r["trial"]) for r in rows(tmp_path / "designs.csv")} <= set(selected)


@pytest.mark.parametrize("mode", ["flat", "random"])
def test_flat_and_random_sample_hardware_as_trial_parameters(tmp_path, mode) -> None:
    run(tmp_path, plan(mode=mode, sampler="random" if mode == "random" else "nsga2", trials=6))
    study = open_run(tmp_path).study
    trained = [t for t in study.get_trials() if t.user_attrs.get("trained")]
    assert trained and all("hw_rf_log2_0" in t.params for t in trained)
    assert all(len(t.user_attrs["designs"]) == 1 for t in trained if t.user_attrs["status"] == "trained")


def test_a_codesign_error_fails_the_trial_and_the_study_goes_on(tmp_path) -> None:
    summary, _ = run(tmp_path, plan(trials=4), Evaluator(fail_on=1, error=TrainingError("loss diverged")))
    study = open_run(tmp_path).study
    failed = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.FAIL]
    assert len(failed) == 1 and "TrainingError: loss diverged" in failed[0].user_attrs["reason"]
    assert summary.trials == 4 and summary.completed == 3


def test_an_unexpected_exception_fails_the_trial_and_stops_the_worker(tmp_path) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        run(tmp_path, plan(trials=4), Evaluator(fail_on=2), catch=())
    trials = open_run(tmp_path).study.get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL"]
    assert "RuntimeError: boom" in trials[1].user_attrs["reason"]


def test_exceptions_listed_in_catch_fail_only_their_trial(tmp_path) -> None:
    summary, _ = run(tmp_path, plan(trials=3), Evaluator(fail_on=1), catch=(RuntimeError,))
    assert summary.trials == 3 and summary.statuses["failed"] == 1


def _median_fastest_latency_ns() -> float:
    """The median over SPACE of each architecture's fastest estimated latency: a budget some meet, some not."""
    import itertools
    import statistics

    from codesign.search.inner import search_hardware
    from cost_models import get_cost_model

    space, model = plan().space, get_cost_model("analytical")
    archs = [dict(zip(SPACE, values, strict=True)) for values in itertools.product(*SPACE.values())]
    fronts = [search_hardware(graph_of(arch), space, model, ("latency_ns",)) for arch in archs]
    fastest = [front.bounds["xc7z020"]["latency_cycles"] * space.clock_ns for front in fronts]
    assert min(fastest) < statistics.median(fastest) < max(fastest)
    return statistics.median(fastest)


def test_infeasible_architectures_are_rejected_without_training(tmp_path) -> None:
    budget = parse_budget("latency_ns", _median_fastest_latency_ns())
    summary, ev = run(tmp_path, plan(budgets=(budget,), trials=8))
    rejected = summary.statuses.get("rejected", 0)
    assert rejected >= 1 and ev.calls + rejected + summary.statuses.get("duplicate", 0) <= 8


def test_impossible_budgets_fail_before_any_evaluation(tmp_path) -> None:
    ev = Evaluator()
    with pytest.raises(SearchError, match="budgets: expected budgets some design can meet"):
        run(tmp_path, plan(budgets=(parse_budget("latency_ns", 1),)), ev)
    assert ev.calls == 0


@pytest.mark.slow
def test_interrupt_then_rerun_resumes_without_losing_trials(tmp_path) -> None:
    summary, _ = run(tmp_path, plan(trials=6), Evaluator(interrupt_on=3))
    assert summary.interrupted
    study = open_run(tmp_path).study
    before = {t.number: t.values for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))}
    assert len(before) >= 2 and (tmp_path / "designs.csv").is_file()
    summary, _ = run(tmp_path, plan(trials=6))
    after = open_run(tmp_path).study.get_trials()
    done = [t for t in after if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 6 and not summary.interrupted
    assert {t.number: t.values for t in done if t.number in before} == before
    assert [t.user_attrs["reason"] for t in after if t.state == optuna.trial.TrialState.FAIL] == ["interrupted"]


def test_a_study_refuses_a_different_config(tmp_path) -> None:
    run(tmp_path, plan(trials=2))
    with pytest.raises(SearchError, match="different one"):
        run(tmp_path, plan(trials=2, budgets=(parse_budget("lut", 50000),)))


@pytest.mark.slow
def test_early_stopping_stops_hopeless_runs_in_a_multi_objective_study(tmp_path) -> None:
    run(tmp_path, plan(trials=14))
    study = open_run(tmp_path).study
    stopped = [t for t in study.get_trials() if t.user_attrs.get("status") == "stopped"]
    for t in stopped:
        assert len(t.user_attrs["val_history"]) < 3 and t.user_attrs["needed_accuracy"] is not None


def test_library_search_with_explicit_cost_figures_in_memory() -> None:
    calls = []

    def evaluate(arch):
        calls.append(arch)
        return 0.5 + 0.01 * arch["width"]

    result = search(
        space={"width": [8, 16, 32], "op": ["conv", "skip"]},
        cost=lambda a: [{"latency_ns": 10.0 * r, "lut": 100.0 * a["width"] / r, "dsp": 0} for r in (1, 2)],
        evaluate=evaluate, objectives=("accuracy", "latency_ns", "lut"), trials=8,
    )  # fmt: skip
    assert result.evaluations == len(calls) <= 6  # 6 distinct architectures: repeats are not re-evaluated
    assert result.summary.pareto_designs == len(result.pareto) >= 1 and result.summary.storage == "memory"


def test_a_trial_interrupted_while_its_record_is_written_is_skipped() -> None:
    """Ctrl-C between two attribute writes leaves a trial that says 'trained' without an accuracy; the
    next trial's archive (and a resumed run) must skip it instead of failing with a KeyError."""
    from codesign.search.trial import Archive

    p = plan()
    study = optuna.create_study(directions=["maximize", "minimize", "minimize"])
    broken = study.ask()
    for key, value in {"trained": True, "val_history": [0.5, 0.6], "status": "trained"}.items():
        broken.set_user_attr(key, value)
    study.tell(broken, state=optuna.trial.TrialState.FAIL)
    archive = Archive.from_trials(study.get_trials(), p.formulation, p.space)
    assert archive.trainings == 1 and archive.curves == [] and archive.known == {} and archive.feasible == 0
