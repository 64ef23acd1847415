"""Tight accumulators: narrower types that provably hold every sum the trained weights can produce."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from codesign.data import load_dataset
from codesign.models.arch import ArchLayer, ArchSpec
from codesign.models.builder import build_model, to_torch_layout
from codesign.models.precision_rules import accumulator_precision, tight_accumulator, wraps_only
from codesign.models.tighten import tighten_accumulators
from codesign.models.train import TrainConfig, train
from hw_templates.precision import FixedType

MLP = ArchSpec(
    "mlp",
    (
        ArchLayer("dense", name="fc1", units=16, weight_bits=4),
        ArchLayer("activation", name="relu1", act_bits=4),
        ArchLayer("dense", name="fc2", units=10, weight_bits=6),
    ),
)
CNN = ArchSpec(
    "cnn",
    (
        ArchLayer("conv2d", name="conv1", filters=4, kernel=(3,), padding="same", weight_bits=4),
        ArchLayer("maxpool2d", name="pool1", pool=(2,)),  # fed straight by conv1: conv1 must stay exact
        ArchLayer("activation", name="relu1", act_bits=4),
        ArchLayer("conv2d", name="conv2", filters=4, kernel=(3,), weight_bits=4),
        ArchLayer("activation", name="relu2", act_bits=4),
        ArchLayer("flatten", name="flat"),
        ArchLayer("dense", name="fc", units=10, weight_bits=4),
    ),
)


@pytest.fixture(scope="module")
def trained():
    out = {}
    for spec, shape in ((MLP, (64,)), (CNN, (8, 8, 1))):
        data = load_dataset("digits", shape, seed=0)
        result = train(spec.to_graph(shape), data, TrainConfig(epochs=2, seed=0, batch_size=128))
        out[spec.name] = (result, tighten_accumulators(result.model, result.graph))
    return out


@pytest.mark.parametrize(
    ("exact", "bound", "expected"),
    [
        (FixedType(19, 11), 80.0, FixedType(16, 8)),
        (FixedType(19, 11), 127.99, FixedType(16, 8)),
        (FixedType(19, 11), 128.0, FixedType(17, 9)),  # 2**7 itself needs one more bit (signed range)
        (FixedType(19, 11), 5000.0, FixedType(19, 11)),  # never wider than exact
        (FixedType(8, 8, signed=False), 3.0, FixedType(8, 8, signed=False)),  # unsigned: left alone
    ],
)
def test_tight_type(exact, bound, expected) -> None:
    assert tight_accumulator(exact, bound) == expected


def test_eligible_layers_get_narrower_and_the_rest_stay_exact(trained) -> None:
    for name, (result, tight) in trained.items():
        for before, after in zip(result.graph.layers, tight.layers):
            if before.name in ("fc1", "fc2", "conv2", "fc"):
                assert after.precision.accum is not None and wraps_only(after.precision.result, before.precision.result)
                assert after.precision.result.width < before.precision.result.width, (name, before.name)
            else:  # conv1 feeds a pooling layer (hls4ml infers the pool's type from it); the rest have no sum
                assert after.precision == before.precision, (name, before.name)


def test_no_input_in_range_can_overflow_a_tight_accumulator(trained) -> None:
    """The worst case of every output: each input at the extreme of its type with its weight's sign."""
    result, tight = trained["mlp"]
    model = result.model
    for layer in (tight.layer("fc1"), tight.layer("fc2")):
        in_type = tight.layer(layer.inputs[0]).precision.result
        x_max = 2.0 ** (in_type.integer - 1) if in_type.signed else 2.0**in_type.integer - 2.0**-in_type.fractional
        module = getattr(model, layer.name)
        w = module.quant_weight().value.detach().numpy()
        b = module.quant_bias().value.detach().numpy() if module.bias is not None else np.zeros(w.shape[0])
        worst = np.abs(w).sum(axis=1) * x_max + np.abs(b)
        r = layer.precision.result
        assert worst.max() <= 2.0 ** (r.integer - 1) - 2.0**-r.fractional


def test_the_tight_graph_builds_the_same_network(trained) -> None:
    for result, tight in trained.values():
        rebuilt = build_model(tight)
        assert set(rebuilt.state_dict()) == set(result.model.state_dict())
        rebuilt.load_state_dict(result.model.state_dict())
        rebuilt.eval()
        shape = tight.layers[0].output_shape
        x = torch.randn(64, *shape) * 2
        with torch.no_grad():
            assert torch.equal(rebuilt(to_torch_layout(x)), result.model(to_torch_layout(x)))


def test_exact_accumulator_rule_is_what_the_graph_states() -> None:
    """The eligibility check compares with the exact type: a spec's narrowed result is left alone."""
    graph = MLP.to_graph((64,))
    fc1 = graph.layer("fc1")
    exact = accumulator_precision(graph.layer("input").precision.result, fc1.precision.weight, fc1.precision.bias, 64)
    assert fc1.precision.result == exact
    assert not wraps_only(exact, exact)
