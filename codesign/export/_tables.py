"""hls4ml's lookup-table activations as its C model computes them, for the verification of table designs.

hls4ml implements sigmoid and tanh as a ROM read (hls4ml 1.3.0, ``nnet_utils/nnet_activation.h``,
``sigmoid`` / ``tanh`` and ``init_sigmoid_table`` / ``init_tanh_table``), so its C simulation cannot equal
the trained model's float function followed by the layer's quantizer. The facts this module reproduces:

* the table has ``table_size`` entries (``N``) covering the inputs ``[-8, 8)`` (sigmoid) or ``[-4, 4)``
  (tanh): entry ``i`` is the function at ``span * (i - N/2) / N`` (``span`` 16 or 8), computed in single
  precision and stored as ``table_t`` (default ``ap_fixed<18,8>``: truncated to 10 fraction bits);
* the index of an input ``x`` is ``int(x * N / span) + N/2``, clipped to ``[0, N-1]``; the conversion to
  ``int`` truncates towards zero (``ap_fixed::to_int``, C semantics); ``x * N / span`` is exact;
* the entry is then cast to the layer's result type (hls4ml fuses the following quantizer into it).

:func:`table_model` returns a copy of a trained toolkit model whose float sigmoid/tanh are replaced by
that table read: its outputs are what the C simulation must reproduce bit for bit, while the trained
model's own outputs give the measured tolerance (largest difference, argmax agreement).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from cost_models.ir import DEFAULT_TABLE_SIZE, Activation, LayerGraph, LayerKind
from hw_templates.errors import ExportError
from hw_templates.precision import FixedType

__all__ = [
    "DEFAULT_TABLE_TYPE",
    "TABLE_FUNCTIONS",
    "TABLE_REFERENCE",
    "reference_outputs_for",
    "table_index",
    "table_layers",
    "table_model",
    "table_settings",
    "table_values",
]

#: hls4ml 1.3.0's default ``table_t`` (``nnet_activation.h`` ``activ_config``).
DEFAULT_TABLE_TYPE = FixedType.parse("ap_fixed<18,8>")
#: Functions read from a table, and the input span the table covers (centred on 0).
TABLE_FUNCTIONS = {Activation.SIGMOID: 16.0, Activation.TANH: 8.0}


def _function(function: Activation, x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    if function is Activation.SIGMOID:
        return 1.0 / (1.0 + np.exp(-x).astype(np.float32)).astype(np.float64)
    return np.tanh(x).astype(np.float64)


def table_values(function: Activation, size: int, table_t: FixedType) -> np.ndarray:
    """The ``size`` table entries as ``table_t`` values (float64, exact)."""
    span = TABLE_FUNCTIONS[function]
    i = np.arange(size, dtype=np.float64)
    x = (2 * (span / 2) * (i - size / 2.0) / size).astype(np.float32)
    value = _function(function, x).astype(np.float32).astype(np.float64)
    lsb = 2.0 ** (table_t.integer - table_t.width)
    steps = np.floor(value / lsb)  # ap_fixed's default AP_TRN: towards minus infinity
    low = -(2.0 ** (table_t.width - 1)) if table_t.signed else 0.0
    return np.clip(steps, low, 2.0 ** (table_t.width - (1 if table_t.signed else 0)) - 1) * lsb


def table_index(function: Activation, size: int, x: np.ndarray) -> np.ndarray:
    """The table index hls4ml reads for inputs ``x``."""
    scaled = np.trunc(np.asarray(x, np.float64) * size / TABLE_FUNCTIONS[function])
    return np.clip(scaled + size // 2, 0, size - 1).astype(np.int64)


def table_layers(graph: LayerGraph) -> list[str]:
    """Names of the layers hls4ml builds as a lookup table (verified against :func:`table_model`)."""
    tables = (*TABLE_FUNCTIONS, Activation.SOFTMAX)
    return [x.name for x in graph.layers if x.kind is LayerKind.ACTIVATION and x.function in tables]


def table_settings(graph: LayerGraph, name: str) -> tuple[int, FixedType]:
    layer = graph.layer(name)
    return layer.table_size or DEFAULT_TABLE_SIZE, layer.precision.table or DEFAULT_TABLE_TYPE


def table_model(model: Any, graph: LayerGraph) -> Any:
    """A copy of a toolkit-built model whose sigmoid/tanh layers read hls4ml's tables instead.

    Each such layer is built as ``Sequential(float function, result quantizer)``
    (:mod:`codesign.models.builder`); the float function is replaced, the quantizer kept.
    """
    import torch
    from torch import nn

    class _Table(nn.Module):
        def __init__(self, function: Activation, size: int, table_t: FixedType) -> None:
            super().__init__()
            self.function, self.size = function, size
            self.register_buffer("values", torch.from_numpy(table_values(function, size, table_t)))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            index = torch.from_numpy(table_index(self.function, self.size, x.detach().double().numpy()))
            return self.values[index].to(x.dtype)

    copied = copy.deepcopy(model)
    for name in table_layers(graph):
        size, table_t = table_settings(graph, name)
        if graph.layer(name).function is not Activation.SOFTMAX:  # a FinalSoftmax reads hls4ml's table itself
            getattr(copied, name)[0] = _Table(graph.layer(name).function, size, table_t)
    return copied.eval()


#: What the C simulation of a design with table activations is checked against.
TABLE_REFERENCE = "trained model with hls4ml's lookup-table semantics (hls4ml 1.3.0 nnet_activation.h)"


def reference_outputs_for(
    model: Any, graph: LayerGraph, inputs: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``(expected, trained, float_softmax)``: the outputs the C simulation must equal bit for bit; the
    trained model's own outputs when they differ from those (sigmoid/tanh tables), else None; and, for a
    design ending in a softmax (which the trained model already evaluates as hls4ml's table), the outputs
    with a float softmax instead, else None.

    Raises:
        ExportError: a table activation in a model the toolkit did not build (its layer cannot be replaced).
    """
    from codesign.export.user_model import reference_outputs

    trained = reference_outputs(model, inputs)
    if not table_layers(graph):
        return trained, None, None
    for name in table_layers(graph):
        module = getattr(model, name, None)
        if not (hasattr(module, "__getitem__") and len(module) == 2) and not hasattr(module, "function"):
            raise ExportError(
                f"layer {name!r} ({graph.layer(name).function.value}): lookup-table activations are verified only "
                "in models the toolkit built (function followed by its quantizer); this model's layer is not"
            )
    softmax = [x for x in table_layers(graph) if graph.layer(x).function is Activation.SOFTMAX]
    float_softmax = reference_outputs(_float_softmax(model, softmax[0]), inputs) if softmax else None
    if len(softmax) == len(table_layers(graph)):
        return trained, None, float_softmax
    return reference_outputs(table_model(model, graph), inputs), trained, float_softmax


def _float_softmax(model: Any, name: str) -> Any:
    """A copy of ``model`` whose final softmax (a FinalSoftmax) is torch's float softmax."""
    import torch

    copied = copy.deepcopy(model)
    getattr(copied, name).function = lambda x: torch.softmax(x, dim=-1)
    return copied.eval()
