"""A family of Brevitas MLPs written without the toolkit, searched by ``search.yaml`` beside this file.

The factory returns an ``nn.Module``; the search reads it into the toolkit's IR (cost estimates on every
hardware configuration), trains its own parameters on the config's dataset and keeps it as QONNX so that
``codesign export RUN --design ID`` builds and verifies its hls4ml project. Power-of-two (``*FixedPoint``)
quantizers, an input quantizer first and quantized biases make the export bit-exact.

Run from this folder: ``codesign search search.yaml --out runs/fixed``.
"""

from __future__ import annotations

import torch
from brevitas import nn as qnn
from brevitas.quant import Int16Bias
from brevitas.quant.fixed_point import (
    Int8ActPerTensorFixedPoint,
    Int8WeightPerTensorFixedPoint,
    Uint8ActPerTensorFixedPoint,
)
from torch import nn


class BrevitasMlp(nn.Module):
    """64 inputs (digits), one hidden layer of ``width`` ReLUs, 10 outputs; ``bits`` for weights and ReLU."""

    def __init__(self, width: int, bits: int) -> None:
        super().__init__()
        weights = {"weight_quant": Int8WeightPerTensorFixedPoint, "weight_bit_width": bits, "bias_quant": Int16Bias}
        self.inp = qnn.QuantIdentity(act_quant=Int8ActPerTensorFixedPoint, return_quant_tensor=True)
        self.fc1 = qnn.QuantLinear(64, width, **weights, return_quant_tensor=False)
        self.relu = qnn.QuantReLU(act_quant=Uint8ActPerTensorFixedPoint, bit_width=bits, return_quant_tensor=True)
        self.out = qnn.QuantLinear(width, 10, **weights, return_quant_tensor=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.relu(self.fc1(self.inp(x))))


def make(width: int, bits: int) -> nn.Module:
    """The factory named in ``search.yaml`` (``my_brevitas_mlp:make``)."""
    return BrevitasMlp(width, bits)
