"""Hardware-independent counters: FLOPs, parameters and bit operations (BOPs).

Formulas (per inference, one sample):

* Convolution FLOPs ``2 * H_out * W_out * (C_in * K^2 + 1) * C_out`` and dense FLOPs ``2 * (I - 1) * O``,
  the forms the HW-NAS survey the project started from uses (Benmeziane et al., "A Comprehensive
  Survey on Hardware-Aware Neural Architecture Search", 2021, after Molchanov et al. 2017).
  Depthwise convolutions count ``C_in * K^2`` per output channel; pooling, activations and
  element-wise layers count one operation per output (a comparison, addition or table read).
* Parameters ``C_in * K^2 * C_out + C_out`` (convolution) and ``I * O + O`` (dense); BatchNorm has
  ``2 * C`` (scale and shift after folding) and ``n * (b_a * b_s + b_a + b_s)`` BOPs (scale width ``b_s``,
  16 bits when not set).
* Recurrent layers (LSTM, GRU) run their kernel and recurrent products (``Layer.mult_units``) once per
  time step, plus ``3 * units`` element-wise products of two variables (the gate/state products of
  hls4ml's ``nnet_recurrent.h``); their FLOPs and BOPs are those of one step times the steps, their
  recurrent product's input is the layer's own result (the state), and their parameters are Keras's
  ``gates * units * (features + units + 1)``.
* BOPs ``positions * C_out * C_in*K^2 * ((1 - s) * b_a * b_w + b_a + b_w + log2(C_in * K^2))`` with
  pruned fraction ``s``: Baskin et al., "UNIQ", ACM TOCS 2021, in the pruning-aware form of Hawks et
  al., "Ps and Qs: Quantization-aware pruning", Front. AI 2021, eq. 3. ``b_a`` is the input
  activation width, ``b_w`` the weight width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cost_models.ir import Layer, LayerGraph, LayerKind
from cost_models.kinds import RECURRENT_KINDS, KindCoverage

__all__ = ["KIND_COVERAGE", "Counters", "count_layer", "count_network"]


@dataclass(frozen=True)
class Counters:
    flops: int
    params: int
    bops: int

    def __add__(self, other: Counters) -> Counters:
        return Counters(self.flops + other.flops, self.params + other.params, self.bops + other.bops)


_ZERO = Counters(0, 0, 0)


def _weighted(layer: Layer, input_bits: int) -> Counters:
    positions = layer.output_positions
    flops = params = 0
    bops = 0.0
    weight_bits = layer.precision.weight.width if layer.precision.weight else 16
    for n_in, n_out in layer.mult_units():
        if layer.kind is LayerKind.DENSE:
            flops += 2 * (n_in - 1) * n_out
        else:
            flops += 2 * positions * (n_in + 1) * n_out
        params += n_in * n_out
        products = (1 - layer.sparsity) * input_bits * weight_bits
        bops += positions * n_out * n_in * (products + input_bits + weight_bits + math.log2(max(n_in, 1)))
    # Depthwise units are counted per channel: n_in is the kernel, n_out the channels.
    if layer.use_bias:
        params += layer.mult_units()[-1][1]
    return Counters(int(flops), int(params), round(bops))


def _recurrent(layer: Layer, input_bits: int) -> Counters:
    (k_in, rows), (r_in, _) = layer.mult_units()
    state_bits = layer.precision.result.width
    weight_bits = layer.precision.weight.width if layer.precision.weight else 16
    keep = 1 - layer.sparsity
    bops = 0.0
    for n_in, bits in ((k_in, input_bits), (r_in, state_bits)):
        bops += rows * n_in * (keep * bits * weight_bits + bits + weight_bits + math.log2(max(n_in, 1)))
    products = 3 * int(layer.units or 0)
    bops += products * state_bits * state_bits
    flops = 2 * (k_in + r_in) * rows + 2 * products
    params = (k_in + r_in) * rows + (rows if layer.use_bias else 0)
    return Counters(layer.steps * flops, params, round(layer.steps * bops))


def _batchnorm(layer: Layer, input_bits: int) -> Counters:
    # one multiply by the scale and one add per value: the UNIQ form with one input per output
    scale_bits = layer.precision.weight.width if layer.precision.weight else 16
    bops = layer.n_outputs * (input_bits * scale_bits + input_bits + scale_bits)
    return Counters(2 * layer.n_outputs, 2 * layer.output_shape[-1], bops)


def _elementwise(layer: Layer, input_bits: int) -> Counters:
    return Counters(layer.n_outputs, 0, 0)


def _nothing(layer: Layer, input_bits: int) -> Counters:
    return _ZERO


_COUNTERS = {
    **{k: _weighted for k in LayerKind if k.has_weights},
    **{k: _elementwise for k in LayerKind if not k.has_weights},
    LayerKind.BATCHNORM: _batchnorm,
    **{k: _recurrent for k in RECURRENT_KINDS},
    LayerKind.INPUT: _nothing,
    LayerKind.FLATTEN: _nothing,
    LayerKind.RESHAPE: _nothing,
}
KIND_COVERAGE = KindCoverage("FLOPs/params/BOPs counters", frozenset(_COUNTERS))


def count_layer(layer: Layer, input_bits: int) -> Counters:
    """Counters of one layer whose input activations are ``input_bits`` wide."""
    return _COUNTERS[layer.kind](layer, input_bits)


def count_network(graph: LayerGraph) -> Counters:
    """Sum of :func:`count_layer` over the graph, each layer fed at its input's result precision."""
    by_name = {x.name: x for x in graph.layers}
    total = _ZERO
    for layer in graph.layers:
        bits = by_name[layer.inputs[0]].precision.result.width if layer.inputs else 0
        total = total + count_layer(layer, bits)
    return total
