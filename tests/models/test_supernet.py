"""Weight sharing (codesign.models.supernet): real Brevitas supernet training on a slice of digits."""

from __future__ import annotations

import optuna
import pytest
import torch

from codesign.data import Dataset
from codesign.models.spaces import CNNSpace, FixedSpace, MLPSpace
from codesign.models.supernet import SharingConfig, WeightSharing, check_shareable, quant_key, subnet_spec
from codesign.search import search_settings_from_dict
from hw_templates.errors import SpecError

SPACE = MLPSpace(hidden=(1, 2), units=(4, 8), weight_bits=(4, 4), act_bits=(3, 4))


def test_a_shallow_network_shares_the_supernet_of_the_deeper_ones_with_the_same_bit_widths() -> None:
    shallow = subnet_spec(SPACE, (8,), (8, ((4, 4), (4, 4)), 4))
    deep = subnet_spec(SPACE, (4, 8), (8, ((4, 4), (4, 4)), 4))
    other = subnet_spec(SPACE, (4, 8), (8, ((4, 3), (4, 4)), 4))
    assert quant_key(SPACE, shallow) == quant_key(SPACE, deep) != quant_key(SPACE, other)
    sampled = SPACE.sample(optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1)).ask())
    assert (
        subnet_spec(SPACE, tuple(layer.units for layer in sampled.layers[:-1:2]), quant_key(SPACE, sampled)) == sampled
    )


@pytest.mark.parametrize(
    ("space", "why"),
    [
        (CNNSpace(), "kernels, batchnorm and pooling"),
        (FixedSpace(factory="pkg.mod:make"), "user's factory"),
        (MLPSpace(hidden=(0, 2)), "mlp.hidden to start at 1"),
    ],
)
def test_spaces_whose_networks_are_not_slices_of_one_are_refused_in_one_line(space, why: str) -> None:
    with pytest.raises(SpecError, match=why) as err:
        check_shareable(space)
    assert "\n" not in str(err.value)


def test_a_search_config_with_weight_sharing_where_it_is_not_sound_is_refused() -> None:
    base = {"name": "x", "dataset": "digits", "training": {"weight_sharing": {"enabled": True}}}
    with pytest.raises(SpecError, match="got a cnn space"):
        search_settings_from_dict({**base, "space": "cnn"})
    with pytest.raises(SpecError, match="weight_sharing or hot_start_epochs"):
        search_settings_from_dict({**base, "training": {"hot_start_epochs": 2, "weight_sharing": {"enabled": True}}})
    settings = search_settings_from_dict({**base, "space": {"kind": "mlp", "hidden": [1, 2]}})
    assert settings.training.weight_sharing.finetune_epochs == 0  # fine-tuning did not rank better (docs)


@pytest.mark.slow
def test_one_supernet_per_setting_scores_its_networks_by_slices(digits_flat: Dataset) -> None:
    sharing = WeightSharing(SPACE, digits_flat, SharingConfig(epochs=3, finetune_epochs=0, batch_size=128,
                                                             learning_rate=2e-2, proxy_fraction=0.5))  # fmt: skip
    key = (8, ((4, 4), (4, 4)), 4)
    scored = {units: sharing.evaluate(subnet_spec(SPACE, units, key)) for units in [(8, 8), (4,), (8,)]}
    assert sharing.stats["supernets"] == 1  # three networks, one training
    shared = sharing.supernets[key]
    for result in scored.values():  # every tensor is the leading corner of the supernet's
        for name, tensor in result.model.state_dict().items():
            assert torch.equal(tensor, shared[name][tuple(slice(0, n) for n in tensor.shape)])
    assert min(r.accuracy for r in scored.values()) > 0.3  # trained (chance is 0.1)
    sharing.config = SharingConfig(epochs=3, finetune_epochs=1, proxy_fraction=0.5)
    tuned = sharing.evaluate(subnet_spec(SPACE, (4,), key))
    assert tuned.epochs == 1 and tuned.hot_start_tensors == 4 and sharing.stats["supernets"] == 1
    sharing.evaluate(subnet_spec(SPACE, (4,), (8, ((4, 3), (4, 3)), 4)))
    assert sharing.stats["supernets"] == 2  # other bit widths: their own supernet


@pytest.mark.slow
def test_a_search_with_weight_sharing_trains_one_supernet_and_refuses_to_reproduce_a_trial(tmp_path) -> None:
    from codesign.reproduce import reproduce
    from codesign.search import run_config

    settings = search_settings_from_dict({
        "name": "shared", "dataset": "digits", "parts": ["xc7z020"],
        "space": {"kind": "mlp", "hidden": [1, 2], "units": [4, 8], "weight_bits": [4, 4], "act_bits": [4, 4]},
        "hardware": {"io_types": ["io_parallel"], "reuse_factor_max": 8},
        "training": {"epochs": 1, "proxy_fraction": 0.2, "weight_sharing": {"enabled": True}},
        "search": {"evaluations": 3, "sampler": "random"},
    })  # fmt: skip
    summary = run_config(settings, tmp_path / "run", progress=False)
    assert summary.trainings == 3
    import optuna

    study = optuna.load_study(study_name="shared", storage=f"sqlite:///{tmp_path / 'run' / 'study.db'}")
    trained = [t.user_attrs for t in study.trials if t.user_attrs.get("status") == "trained"]
    assert [a["supernets"] for a in trained] == [1, 1, 1]  # one quantisation setting: one supernet
    assert trained[0]["supernet_seconds"] > 0 and trained[1]["supernet_seconds"] == trained[2]["supernet_seconds"] == 0
    with pytest.raises(SpecError, match="inherited weights"):
        reproduce(next((tmp_path / "run" / "trials").iterdir()))
