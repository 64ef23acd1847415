"""Mechanisms of the analytical model found on designs from sources nobody calibrated on (issue 11):
each test is a property or a hand-checked case against the hls4ml template it cites."""

from __future__ import annotations

import numpy as np
import pytest

from cost_models.analytical import AnalyticalModel
from cost_models.ir import GraphBuilder
from hw_templates import resolve_part
from hw_templates.config import HardwareConfig, IoType, Strategy
from hw_templates.precision import FixedType

Q16 = FixedType(16, 6)


def _hw(**kw) -> HardwareConfig:
    return HardwareConfig(resolve_part(kw.pop("part", "xcu250")), **kw)


def _stream_batchnorm(shape: tuple[int, ...]):
    b = GraphBuilder("bn", shape, Q16)
    b.add("batchnorm", name="bn")
    return b.build()


def _batchnorm_cost(shape: tuple[int, ...], rf: int, io_type: IoType):
    hw = _hw(io_type=io_type, reuse_factor=rf, strategy=Strategy.LATENCY)
    graph = _stream_batchnorm(shape)
    return next(c for c in AnalyticalModel().estimate(graph, hw).layers if c.name == "bn")


def test_streamed_batchnorm_interval_follows_hls4ml_multiplier_limit():
    # nnet_batchnorm_stream.h: II = n_in / DIV_ROUNDUP(n_in, rf) per pixel, n_in / size pixels.
    # 8x8x4 = 256 values, 64 pixels of 4: rf 4 -> limit 64, II 4 -> 256 cycles; rf >= 256 -> II 256.
    assert _batchnorm_cost((8, 8, 4), 4, IoType.STREAM).ii_cycles == 64 * 4
    assert _batchnorm_cost((8, 8, 4), 100_000, IoType.STREAM).ii_cycles == 64 * 256
    # a flat 32-value stream (one transfer of 32) at rf 10,000: one multiplier, 32 cycles, not 10,000
    assert _batchnorm_cost((32,), 10_000, IoType.STREAM).ii_cycles == 32


@pytest.mark.parametrize("io_type", [IoType.STREAM, IoType.PARALLEL])
def test_batchnorm_latency_stops_growing_once_rf_exceeds_its_size(io_type):
    at_size = _batchnorm_cost((16, 8), 128, io_type)
    for rf in (129, 1000, 100_000):
        beyond = _batchnorm_cost((16, 8), rf, io_type)
        assert beyond.latency_cycles == at_size.latency_cycles
        assert beyond.dsp == at_size.dsp and beyond.lut == at_size.lut


@pytest.mark.parametrize("rf", [1, 7, 100_000])
def test_batchnorm_bops_count_its_multiplies_at_any_reuse_factor(rf):
    # 128 values x (16 x 16 + 16 + 16) bit operations: scale multiply and bias add per value
    assert _batchnorm_cost((16, 8), rf, IoType.STREAM).bops == 128 * (16 * 16 + 32)


def test_batchnorm_layer_grid_matches_estimate_beyond_its_size():
    model, hw = AnalyticalModel(), _hw(io_type=IoType.STREAM)
    graph = _stream_batchnorm((16, 8))
    rfs = np.array([1, 4, 128, 5000])
    grid = model.layer_grid(graph.layers[-1], hw, rfs, Strategy.LATENCY, graph=graph)
    for i, rf in enumerate(rfs):
        one = _batchnorm_cost((16, 8), int(rf), IoType.STREAM)
        assert grid["ii_cycles"][i] == one.ii_cycles and grid["latency_cycles"][i] == one.latency_cycles
