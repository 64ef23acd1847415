"""Designs the export tests share: two small architectures for digits and the hardware cases to export."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from codesign.data.datasets import load_dataset
from codesign.design import TrainedDesign
from codesign.models.arch import ArchLayer, ArchSpec
from codesign.models.train import TrainConfig, train
from hw_templates.config import Backend, FifoDepths, HardwareConfig, IoType, MultiplierImpl, Strategy
from hw_templates.parts import resolve_part

MLP = ArchSpec(
    "mlp",
    (
        ArchLayer("dense", name="fc1", units=16, weight_bits=4),
        ArchLayer("activation", name="relu1", act_bits=4),
        ArchLayer("dense", name="fc2", units=10, weight_bits=6),
    ),
)
CNN = ArchSpec(
    "cnn",
    (
        ArchLayer("conv2d", name="conv1", filters=4, kernel=(3,), padding="same", weight_bits=6),
        ArchLayer("activation", name="relu1", act_bits=6),
        ArchLayer("maxpool2d", name="pool1", pool=(2,)),
        ArchLayer("conv2d", name="conv2", filters=6, kernel=(3,), weight_bits=6),
        ArchLayer("activation", name="relu2", act_bits=6),
        ArchLayer("flatten", name="flatten"),
        ArchLayer("dense", name="fc1", units=10, weight_bits=6),
    ),
)


def hardware(io_type: str = "io_parallel", strategy: str = "latency", reuse_factor: int = 1) -> HardwareConfig:
    return HardwareConfig(
        resolve_part("xcu250"),
        clock_ns=5.0,
        io_type=IoType.parse(io_type, "io_type"),
        strategy=Strategy.parse(strategy, "strategy"),
        reuse_factor=reuse_factor,
    )


def train_design(spec: ArchSpec, input_shape: tuple[int, ...], epochs: int, folder: Path) -> Path:
    """Train ``spec`` briefly on digits and save it as a design folder (design.json + weights.pt)."""
    graph = spec.to_graph(input_shape)
    data = load_dataset("digits", input_shape, seed=0)
    result = train(graph, data, TrainConfig(epochs=epochs, seed=0, batch_size=128, fold_epochs=0))
    design = TrainedDesign.from_training(result, hardware(), data.info)
    return design.save(folder, result.model)


_FABRIC = MultiplierImpl.FABRIC
#: The session export: (design folder, design id, hardware) covering both network kinds, both io
#: types, both strategies and two backends.
EXPORT_CASES = (
    ("mlp", "mlp_parallel_latency", hardware("io_parallel", "latency", 1)),
    ("mlp", "mlp_stream_resource", replace(hardware("io_stream", "resource", 4), backend=Backend.VIVADO)),
    # multiplier_impl fabric: written into build_prj.tcl as Vitis HLS's config_op (C simulation unchanged)
    ("cnn", "cnn_parallel_resource", replace(hardware("io_parallel", "resource", 3), multiplier_impl=_FABRIC)),
    ("cnn", "cnn_stream_latency", hardware("io_stream", "latency", 1)),
    # sized FIFOs under Resource (the conv2d/maxpool2d/flatten io_stream Resource cells of the coverage table)
    ("cnn", "cnn_stream_sized_fifos", replace(hardware("io_stream", "resource", 3), fifo_depths=FifoDepths.SIZED)),
)
