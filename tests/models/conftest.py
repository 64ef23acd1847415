"""Small shared inputs for the models tests: digits loaded once, and reference architectures."""

from __future__ import annotations

import pytest

from codesign.data import Dataset, load_dataset
from codesign.models.arch import ArchLayer, ArchSpec


@pytest.fixture
def mlp_arch() -> ArchSpec:
    """The reference 4-bit MLP 64-32-10."""
    bits = 4
    return ArchSpec(
        "mlp",
        (
            ArchLayer("dense", name="fc1", units=32, weight_bits=bits),
            ArchLayer("activation", name="relu1", act_bits=bits),
            ArchLayer("dense", name="fc2", units=10, weight_bits=bits),
        ),
    )


@pytest.fixture
def cnn_arch() -> ArchSpec:
    """A small 4-bit CNN for 8x8x1 digits with a batchnorm to fold."""
    layers = [
        ArchLayer("conv2d", name="conv1", filters=4, kernel=(3,), padding="same", weight_bits=4),
        ArchLayer("batchnorm", name="bn1"),
        ArchLayer("activation", name="relu1", act_bits=4),
        ArchLayer("maxpool2d", name="pool1", pool=(2,)),
        ArchLayer("flatten", name="flat"),
        ArchLayer("dense", name="fc", units=10, weight_bits=4),
    ]
    return ArchSpec("cnn", tuple(layers))


@pytest.fixture(scope="session")
def digits_flat() -> Dataset:
    return load_dataset("digits", (64,), seed=0)


@pytest.fixture(scope="session")
def digits_image() -> Dataset:
    return load_dataset("digits", (8, 8, 1), seed=0)
