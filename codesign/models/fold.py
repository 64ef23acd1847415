"""Fold BatchNorm layers into the dense/conv layer before them, so the exported network has none.

Folding rescales each output channel's weights by ``gamma / sqrt(var + eps)`` and moves the shift into
the bias (Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-
Only Inference", CVPR 2018, section 3.2). The folded float weights are then quantized again by the same
weight and bias quantizers, so the folded model is a plain quantized network whose accuracy is what the
hardware computes; :func:`codesign.models.train.train` measures accuracy after folding (and briefly
fine-tunes the folded model).
"""

from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from codesign.models._build_checks import PrecisionRefusal
from codesign.models.builder import QuantNet, build_model
from cost_models.ir import LayerGraph, LayerKind

__all__ = ["build_foldable", "fold_batchnorm", "without_batchnorm"]


def without_batchnorm(graph: LayerGraph) -> LayerGraph:
    """The graph with every batchnorm layer removed and its consumers fed by the layer before it."""
    source = {x.name: x.inputs[0] for x in graph.layers if x.kind is LayerKind.BATCHNORM}
    if not source:
        return graph
    layers = []
    for layer in graph.layers:
        if layer.kind is LayerKind.BATCHNORM:
            continue
        inputs = tuple(source.get(i, i) for i in layer.inputs)
        use_bias = layer.use_bias or (layer.name in source.values())
        layers.append(replace(layer, inputs=inputs, use_bias=use_bias))
    return LayerGraph(graph.name, tuple(layers))


def build_foldable(graph: LayerGraph) -> QuantNet:
    """:func:`build_model` of ``graph``, once its folded form (batchnorm layers removed) builds too.

    Folding reveals ranges a float batchnorm hides (a wrapping activation behind it), so both are checked
    before any training; the precision refusals of both come as one error naming every layer's types.
    The folded build does not draw from torch's random generator (the model's initial weights stay seeded).

    Raises:
        UnsupportedLayerError: as :func:`build_model`, for either form.
    """
    refusal = None
    try:
        model = build_model(graph)
    except PrecisionRefusal as err:
        refusal = err
    folded = without_batchnorm(graph)
    if folded is not graph:
        try:
            with torch.random.fork_rng(devices=[]):
                build_model(folded)
        except PrecisionRefusal as err:
            refusal = err if refusal is None else refusal.merged_with(err)
    if refusal is not None:
        raise refusal
    return model


@torch.no_grad()
def fold_batchnorm(model: QuantNet) -> QuantNet:
    """A new model without batchnorm layers, computing what ``model`` computes in eval mode (before the
    weights are quantized again). Returns ``model`` itself when there is nothing to fold."""
    graph = model.graph
    norms = {x.inputs[0]: x.name for x in graph.layers if x.kind is LayerKind.BATCHNORM}
    if not norms:
        return model
    folded = build_model(without_batchnorm(graph))
    state = {k: v for k, v in model.state_dict().items() if k.split(".")[0] not in norms.values()}
    for layer_name, norm_name in norms.items():
        layer = getattr(model, layer_name)
        norm: nn.modules.batchnorm._BatchNorm = getattr(model, norm_name)
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        weight = layer.weight * scale.reshape(-1, *([1] * (layer.weight.dim() - 1)))
        bias = layer.bias if layer.bias is not None else torch.zeros_like(scale)
        state[f"{layer_name}.weight"] = weight
        state[f"{layer_name}.bias"] = (bias - norm.running_mean) * scale + norm.bias
    folded.load_state_dict(state)
    return folded
