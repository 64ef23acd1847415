"""FPGA cost models for hls4ml-style designs: the layer-graph IR, the Cost record, the models.

numpy only: importing this package never imports torch, brevitas, hls4ml or optuna.
"""

from cost_models.base import CostModel, get_cost_model, list_cost_models, register_cost_model
from cost_models.cost import RESOURCES, Cost, LayerCost, Target
from cost_models.counters import Counters, count_layer, count_network
from cost_models.ir import Activation, GraphBuilder, Layer, LayerGraph, LayerKind, LayerPrecision

__all__ = [
    "RESOURCES",
    "Activation",
    "Cost",
    "CostModel",
    "Counters",
    "GraphBuilder",
    "Layer",
    "LayerCost",
    "LayerGraph",
    "LayerKind",
    "LayerPrecision",
    "Target",
    "count_layer",
    "count_network",
    "get_cost_model",
    "list_cost_models",
    "register_cost_model",
]
