"""A user model factory, imported by FixedSpace in tests/models/test_spaces.py as ``module:function``."""

from __future__ import annotations

from codesign.models.arch import ArchLayer, ArchSpec


def tiny_mlp(width: int, bits: int, activation: str = "relu") -> ArchSpec:
    return ArchSpec(
        "tiny",
        (
            ArchLayer("dense", units=width, weight_bits=bits),
            ArchLayer("activation", function=activation, act_bits=bits),
            ArchLayer("dense", units=10, weight_bits=bits),
        ),
    )


def not_a_spec(width: int) -> int:
    return width
