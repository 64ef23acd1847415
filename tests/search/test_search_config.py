"""Config files: every example loads, and bad configs fail before any training with one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from codesign.cli.demo import demo_config
from codesign.search import load_search_config, search_settings_from_dict
from hw_templates.errors import DatasetError, SpecError

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("search_*.yaml"))


def base(**over):
    data = {"name": "t", "space": "mlp", "parts": ["xc7z020"], "search": {"trials": 2}}
    data.update(over)
    return data


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_config_loads(path: Path) -> None:
    settings = load_search_config(path)
    assert settings.trials >= 1 and settings.hardware.families


def test_the_demo_config_is_the_example_file() -> None:
    example = yaml.safe_load((EXAMPLES[0].parent / "search_demo.yaml").read_text())
    assert example == demo_config()


@pytest.mark.parametrize(
    "data, message",
    [
        (base(budgetz={}), "unknown key 'budgetz' (did you mean 'budgets'?)"),
        (base(search={"trails": 3}), "unknown key 'search.trails' (did you mean 'trials'?)"),
        (base(search={"trials": "3"}), "search.trials"),
        (base(search={"sampler": "nsga-2"}), "did you mean 'nsga2'"),
        (base(search={"formulation": "paretto"}), "did you mean 'pareto'"),
        (base(parts=["xcu205"]), "did you mean 'xcu250'"),
        (base(parts=[]), "at least one target part"),
        (base(templates=["dsp-free"]), "did you mean 'dsp_free'"),
        (base(space="mpl"), "did you mean 'mlp'"),
        (base(budgets={"lut": "120%"}), "between 0% and 100%"),
        (base(budgets={"latency": 5}), "did you mean 'latency_ns'"),
        (base(search={"formulation": "constrained"}), "needs at least one budget"),
        (base(search={"formulation": "scalarized"}), "needs a scalarization block"),
        (base(search={"objectives": ["accuracy"]}), "two or more metrics"),
        (base(search={"objectives": ["accuracy", "latencyns"]}), "did you mean 'latency_ns'"),
        (base(search={"formulation": "accuracy", "sampler": "nsga2"}), "tpe, gp, random, surrogate or rl"),
        (base(hardware={"io_types": []}), "at least one io type"),
        (base(hardware={"reuse_factor_min": 8, "reuse_factor_max": 4}), "reuse_factor_max"),
        (base(hardware={"strategies": ["fast"]}), "latency, resource"),
        (base(cost_model="magic"), "cost model"),
        (base(clock_ns="5"), "clock_ns"),
    ],
)
def test_bad_configs_fail_with_one_line(data, message) -> None:
    with pytest.raises(SpecError) as info:
        search_settings_from_dict(data)
    text = str(info.value)
    assert message in text and "\n" not in text


def test_missing_file_is_one_line(tmp_path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load_search_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("dataset", "space", "expected"),
    [
        ("wine", "mlp", (13, 3)),  # named space: both counts from the data
        ("breast_cancer", {"kind": "mlp", "units": [8]}, (30, 2)),
        ("digits", {"kind": "mlp", "features": 64, "n_classes": 10}, (64, 10)),  # stated values kept
    ],
)
def test_the_space_takes_feature_and_class_counts_from_the_dataset(dataset, space, expected) -> None:
    from codesign.search.problem import ToolkitProblem

    problem = ToolkitProblem(search_settings_from_dict(base(dataset=dataset, space=space)))
    assert (problem.space.features, problem.space.n_classes) == expected
    assert problem.data.x_train.shape[1:] == (expected[0],) and problem.data.info.n_classes == expected[1]


def test_a_stated_feature_count_that_does_not_fit_the_data_is_one_line() -> None:
    from codesign.search.problem import ToolkitProblem

    with pytest.raises(DatasetError, match="13 features"):
        ToolkitProblem(search_settings_from_dict(base(dataset="wine", space={"kind": "mlp", "features": 64})))


def test_the_default_sampler_is_the_surrogate_for_several_objectives_in_nested_mode() -> None:
    def sampler(**search: object) -> str:
        return search_settings_from_dict({"name": "t", "space": "mlp", "search": search}).sampler

    assert sampler() == "surrogate"  # pareto over accuracy, latency_ns, lut_dsp
    assert sampler(mode="flat") == "nsga2"  # the flat baseline keeps Optuna's NSGA-II
    assert sampler(formulation="accuracy") == "tpe"  # one objective
    assert sampler(sampler="nsga2") == "nsga2"  # a named sampler is kept
