"""Search spaces: every registered space samples, builds, trains and converts; descriptions are strict data."""

from __future__ import annotations

import sys
from pathlib import Path

import optuna
import pytest

from codesign.data import load_dataset
from codesign.models.arch import ArchSpec
from codesign.models.builder import build_model
from codesign.models.spaces import FixedSpace, MLPSpace, get_space, list_spaces, space_from_dict
from codesign.models.train import TrainConfig, train
from hw_templates.errors import SpecError

optuna.logging.set_verbosity(optuna.logging.WARNING)
sys.path.insert(0, str(Path(__file__).parent))  # for the FixedSpace factory module beside this file

FACTORY = {
    "kind": "fixed",
    "factory": "user_factories_for_tests:tiny_mlp",
    "params": {
        "width": {"type": "int", "low": 8, "high": 32, "step": 8},
        "bits": {"type": "int", "low": 2, "high": 8},
        "activation": {"type": "categorical", "choices": ["relu", "linear"]},
    },
    "shape": [64],
}
SPACES = [*list_spaces(), "fixed"]


def _space(name: str):
    return space_from_dict(FACTORY) if name == "fixed" else get_space(name)


def _specs(name: str, n: int, seed: int = 0) -> list[ArchSpec]:
    space = _space(name)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        out.append(space.sample(trial))
        study.tell(trial, 0.0)  # a second ask with changed choices would raise in Optuna
    return out


def test_the_four_default_spaces_are_registered() -> None:
    assert set(list_spaces()) >= {"mlp", "cnn", "cell", "hierarchical"}
    with pytest.raises(SpecError, match="did you mean 'cell'"):
        get_space("cel")


@pytest.mark.parametrize("name", SPACES)
def test_samples_convert_to_graphs_and_build(name: str) -> None:
    space = _space(name)
    specs = _specs(name, 12)
    assert len({s.to_json() for s in specs}) > 1  # the space really varies
    for spec in specs:
        graph = spec.to_graph(space.input_shape)
        assert graph.output.output_shape == (10,)
        assert ArchSpec.from_json(spec.to_json()) == spec
        build_model(graph)


@pytest.mark.parametrize("name", SPACES)
def test_a_sample_trains_briefly(name: str) -> None:
    space = _space(name)
    spec = _specs(name, 1, seed=2)[0]
    data = load_dataset("digits", space.input_shape)
    result = train(spec.to_graph(space.input_shape), data, TrainConfig(epochs=1, proxy_fraction=0.2, fold_epochs=0))
    assert result.status == "ok" and result.accuracy is not None


@pytest.mark.parametrize("name", SPACES)
def test_description_round_trips(name: str) -> None:
    space = _space(name)
    assert space_from_dict(space.to_dict()) == space


def test_same_trial_parameters_give_the_same_spec() -> None:
    space = get_space("hierarchical")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=5))
    trial = study.ask()
    spec = space.sample(trial)
    again = space.sample(optuna.trial.FixedTrial(trial.params))
    assert again == spec


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "mlp", "unitz": [8]}, "did you mean 'units'"),
        ({"kind": "mlp", "weight_bits": [1, 8]}, r"mlp.weight_bits.*2 <= min"),
        ({"kind": "mlp", "act_bits": [4, 17]}, "mlp.act_bits"),
        ({"kind": "cnn", "kernels": [2, 3]}, "odd sizes"),
        ({"kind": "cell", "ops": ["conv5"]}, "cell.ops"),
        ({"kind": "cells"}, "did you mean .cell."),
        ({"kind": "fixed", "factory": "no_colon"}, "module:function"),
        ({"kind": "fixed", "factory": "a:b", "params": {"x": {"type": "integer"}}}, "did you mean 'int'"),
    ],
)
def test_bad_space_descriptions_are_one_line_errors(data: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        space_from_dict(data)
    assert "\n" not in str(info.value)


def test_a_factory_that_fails_to_import_is_a_clear_error() -> None:
    space = FixedSpace(factory="no_such_module_xyz:make", params={})
    with pytest.raises(SpecError, match=r"cannot import 'no_such_module_xyz:make' \(ModuleNotFoundError"):
        space.sample(optuna.trial.FixedTrial({}))
    bad = FixedSpace(
        factory="user_factories_for_tests:not_a_spec", params={"width": {"type": "int", "low": 1, "high": 2}}
    )
    with pytest.raises(SpecError, match="returned int, expected an ArchSpec"):
        bad.sample(optuna.trial.FixedTrial({"width": 1}))


def test_fixed_bits_are_not_trial_parameters() -> None:
    space = MLPSpace(hidden=(1, 1), units=(16,), weight_bits=(4, 4), act_bits=(4, 4))
    trial = optuna.create_study().ask()
    spec = space.sample(trial)
    assert trial.params == {} and spec.layers[0].weight_bits == 4


def test_a_factory_module_in_the_working_folder_imports_without_pythonpath(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_family_i16.py").write_text(
        "from codesign.models.arch import ArchLayer, ArchSpec\n"
        "def make(width):\n"
        "    return ArchSpec('mine', (ArchLayer('dense', units=width), ArchLayer('dense', units=10)))\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    make = FixedSpace(factory="my_family_i16:make").resolve()
    assert make(8).layers[0].units == 8
    assert str(tmp_path) not in sys.path  # the working folder is added for the import only
