"""Activation layers for :func:`codesign.models.builder.build_model`: each function as the trained model
computes it and as the hls4ml project will.

* ``relu`` / ``linear`` -> ``QuantReLU`` / ``QuantIdentity`` with the layer's result quantizer;
* ``sigmoid``, ``tanh``, ``leaky_relu``, ``hard_tanh``, ``hard_sigmoid`` -> the float torch function
  followed by the result quantizer; slopes must be dyadic (:func:`dyadic_alpha`), so the hardware's
  ``alpha * x`` is the trained model's;
* ``softmax`` as the last layer only -> :class:`FinalSoftmax` (the identity while training, hls4ml's
  table softmax in eval mode).
"""

from __future__ import annotations

from collections.abc import Callable

import brevitas.nn as qnn
import torch
from torch import nn

from codesign.models._build_checks import Exact, refuse_wrap, unsupported, where
from codesign.models._quant import act_quant
from cost_models.ir import Activation, Layer
from hw_templates.precision import FixedType

__all__ = ["SUPPORTED_FUNCTIONS", "FinalSoftmax", "HardSigmoid", "build_activation", "dyadic_alpha"]


class FinalSoftmax(nn.Module):
    """A last-layer softmax: the identity while training (the loss takes the logits); in eval mode
    (accuracy, reference outputs) hls4ml's table softmax with the tables the export writes
    (:mod:`codesign.export._softmax_table`), followed by the layer's result quantizer, so the reported
    accuracy is the built design's. The ONNX export sees a float softmax: hls4ml builds the table from it."""

    def __init__(self, quant: nn.Module, table_size: int) -> None:
        super().__init__()
        self.quant = quant
        self.table_size = table_size
        self.function: Callable[[torch.Tensor], torch.Tensor] = self.table_softmax

    def table_softmax(self, x: torch.Tensor) -> torch.Tensor:
        from codesign.export._softmax_table import softmax_stable, softmax_tables

        tables = softmax_tables(x.shape[-1], self.table_size)
        return torch.from_numpy(softmax_stable(x.detach().double().numpy(), tables)).to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return x
        if torch.onnx.is_in_onnx_export():
            return self.quant(torch.softmax(x, dim=-1))
        return self.quant(self.function(x))


SUPPORTED_FUNCTIONS = (
    Activation.RELU,
    Activation.LINEAR,
    Activation.SIGMOID,
    Activation.TANH,
    Activation.LEAKY_RELU,
    Activation.HARD_TANH,
    Activation.HARD_SIGMOID,
    Activation.SOFTMAX,
)
#: Functions built as a float torch function followed by the layer's result quantizer.
_FLOAT_FUNCTIONS: dict[Activation, Callable[[Layer], nn.Module]] = {
    Activation.SIGMOID: lambda layer: nn.Sigmoid(),
    Activation.TANH: lambda layer: nn.Tanh(),
    Activation.LEAKY_RELU: lambda layer: nn.LeakyReLU(dyadic_alpha(layer)),
    Activation.HARD_TANH: lambda layer: nn.Hardtanh(),
    Activation.HARD_SIGMOID: lambda layer: HardSigmoid(dyadic_alpha(layer)),
}


class _HardSigmoidOnnx(torch.autograd.Function):
    """ONNX ``HardSigmoid(alpha, beta=0.5)`` in the exported graph (torch's own export fixes alpha to 1/6)."""

    @staticmethod
    def forward(ctx: object, x: torch.Tensor, alpha: float) -> torch.Tensor:
        return torch.clamp(x * alpha + 0.5, 0.0, 1.0)

    @staticmethod
    def symbolic(g: object, x: object, alpha: float) -> object:
        return g.op("HardSigmoid", x, alpha_f=alpha, beta_f=0.5)  # type: ignore[attr-defined]


class HardSigmoid(nn.Module):
    """``clip(alpha * x + 1/2, 0, 1)`` with a dyadic slope, which hls4ml's ``hard_sigmoid`` computes exactly
    (``slope_t`` ``ap_ufixed<16,0>``, ``shift_t`` ``ap_ufixed<2,0>``); torch's slope 1/6 and Keras' 0.2
    are not dyadic, so they are refused instead."""

    def __init__(self, alpha: float) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export():
            return _HardSigmoidOnnx.apply(x, self.alpha)
        return torch.clamp(x * self.alpha + 0.5, 0.0, 1.0)


def dyadic_alpha(layer: Layer) -> float:
    """leaky_relu's and hard_sigmoid's slope: positive and a multiple of 2^-8 below 1, which hls4ml's
    parameter types hold exactly (so the hardware's ``alpha * x`` equals the trained model's)."""
    alpha, name = layer.alpha, layer.function.value if layer.function else ""
    if not 0 < alpha < 1 or alpha * 256 != int(alpha * 256):
        example = "0.25; torch's 1/6 and Keras' 0.2 are not" if layer.function is Activation.HARD_SIGMOID else "0.125"
        raise unsupported(
            layer, f"{name} alpha {alpha!r}: expected a multiple of 1/256 in (0, 1), exact in hardware (e.g. {example})"
        )
    return alpha


def _relu_type(exact: FixedType) -> FixedType:
    """Exact type of relu(x) for x of type ``exact`` (non-negative, same integer and fraction bits)."""
    if not exact.signed:
        return exact
    return FixedType(exact.width - 1, exact.integer - 1, False)


def build_activation(layer: Layer, exact_in: Exact, is_last: bool) -> tuple[nn.Module, Exact]:
    """The module of an activation layer and the exact type of its output (its result type)."""
    fn = layer.function
    result = layer.precision.result
    at = f"{where(layer)} result"
    if fn in (Activation.RELU, Activation.LINEAR):
        refuse_wrap(layer, result, exact_in if fn is Activation.LINEAR or exact_in is None else _relu_type(exact_in))
    if fn is Activation.RELU:
        return qnn.QuantReLU(act_quant=act_quant(result, at), return_quant_tensor=False), result
    if fn is Activation.LINEAR:
        return qnn.QuantIdentity(act_quant=act_quant(result, at), return_quant_tensor=False), result
    if fn in _FLOAT_FUNCTIONS:
        quant = qnn.QuantIdentity(act_quant=act_quant(result, at), return_quant_tensor=False)
        return nn.Sequential(_FLOAT_FUNCTIONS[fn](layer), quant), result
    if fn is Activation.SOFTMAX and is_last:
        quant = qnn.QuantIdentity(act_quant=act_quant(result, at), return_quant_tensor=False)
        return FinalSoftmax(quant, layer.table_size), result
    allowed = ", ".join(a.value for a in SUPPORTED_FUNCTIONS)
    raise unsupported(
        layer,
        f"activation {fn.value if fn else None!r} cannot be built (supported: {allowed}; "
        "softmax only as the last layer)",
    )
