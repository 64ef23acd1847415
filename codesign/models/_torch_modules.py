"""The plain torch modules :func:`codesign.models.builder.build_model` assembles a graph from: the wiring
(flatten, add, concat, global pooling) and :class:`QuantNet`, the built network.

Layout: these take torch's channels-first tensors (``(N, C, W)`` / ``(N, C, H, W)``); the graph is
channels-last like hls4ml, and :class:`ChannelsLastFlatten` flattens in channels-last order so dense
weights line up with hls4ml's.
"""

from __future__ import annotations

import torch
from torch import nn

from cost_models.ir import LayerGraph

__all__ = ["Add", "ChannelsLastFlatten", "Concat", "GlobalPool", "QuantNet"]


class ChannelsLastFlatten(nn.Module):
    """Flatten in channels-last order (hls4ml's and Keras' order), from a channels-first tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.movedim(1, -1) if x.dim() > 2 else x).flatten(1)


class Add(nn.Module):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Concat(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


class GlobalPool(nn.Module):
    def __init__(self, op: str, dims: int) -> None:
        super().__init__()
        self.op = op
        self.axes = tuple(range(2, 2 + dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # adaptive pooling to one position exports as ONNX GlobalAveragePool/GlobalMaxPool, which the
        # exporter's channels-last pass turns into a pooling hls4ml translates (torch's mean/amax export
        # as ReduceMean/ReduceMax, which hls4ml 1.3 does not)
        functions = {
            ("avg", 1): nn.functional.adaptive_avg_pool1d,
            ("avg", 2): nn.functional.adaptive_avg_pool2d,
            ("max", 1): nn.functional.adaptive_max_pool1d,
            ("max", 2): nn.functional.adaptive_max_pool2d,
        }
        return functions[self.op, len(self.axes)](x, 1).flatten(1)


class QuantNet(nn.Module):
    """A LayerGraph as a Brevitas module; ``graph`` is the graph it was built from.

    ``forward`` takes the input in torch layout (channels first) and returns the last layer's output.
    """

    def __init__(self, graph: LayerGraph, modules: dict[str, nn.Module]) -> None:
        super().__init__()
        self.graph = graph
        for name, module in modules.items():
            self.add_module(name, module)
        self._plan = tuple((x.name, x.inputs) for x in graph.layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {}
        for name, inputs in self._plan:
            module = getattr(self, name)
            values[name] = module(*(values[i] for i in inputs)) if inputs else module(x)
        return values[self._plan[-1][0]]
