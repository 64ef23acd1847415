"""Export the user's own model: a Brevitas ``nn.Module`` or a QONNX file, not one the toolkit built.

The model is read into a layer graph by the frontends (:mod:`codesign.models.frontends`), estimated,
converted to an hls4ml project and its C simulation checked against the model's own outputs (the module
run by torch, or the QONNX file run by qonnx's executor) on test inputs, with the same manifest and
``verification.json`` as toolkit-built designs.

Test inputs: the example batch the user gives (or none for a QONNX file), plus random samples drawn
uniformly over the input quantizer's range (so every code of the input type can occur), 256 in all by
default. Exactness needs what toolkit designs have: power-of-two (``*FixedPoint``) quantizers, an input
quantizer first, quantized biases; a model without them is refused naming the quantizer.

Example:
    >>> from codesign.export.user_model import export_model
    >>> result = export_model(my_brevitas_module, torch.randn(8, 16), hardware, "exports")  # doctest: +SKIP
    >>> result.status  # doctest: +SKIP
    'verified'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cost_models.ir import LayerGraph
from hw_templates.config import HardwareConfig
from hw_templates.errors import SpecError, bad_value

__all__ = [
    "OnnxModel",
    "export_model",
    "export_onnx_file",
    "model_request",
    "reference_outputs",
    "request_from_user_trial",
    "write_qonnx",
]

#: Test samples per exported user model (example inputs included).
N_SAMPLES = 256


class OnnxModel:
    """A QONNX file as an exportable model: it writes itself as the raw QONNX and runs with qonnx."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise SpecError(bad_value("model", str(path), "a readable .onnx file (no such file)"))

    def write(self, target: Path) -> Path:
        import onnx

        model = onnx.load(str(self.path))
        onnx.save(model, str(target))
        return target

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """Run the model on a batch (model layout) with qonnx's executor, one sample at a time."""
        from qonnx.core.modelwrapper import ModelWrapper
        from qonnx.core.onnx_exec import execute_onnx
        from qonnx.util.cleanup import cleanup_model

        model = cleanup_model(ModelWrapper(str(self.path)))
        name_in, name_out = model.graph.input[0].name, model.graph.output[0].name
        rows = [execute_onnx(model, {name_in: x[None].astype(np.float32)})[name_out] for x in inputs]
        return np.concatenate(rows, axis=0)

    def input_shape(self) -> tuple[int, ...]:
        from qonnx.core.modelwrapper import ModelWrapper

        model = ModelWrapper(str(self.path))
        return tuple(int(d) for d in model.get_tensor_shape(model.graph.input[0].name)[1:])


def write_qonnx(model: Any, input_shape: tuple[int, ...], path: Path) -> Path:
    """The raw QONNX file of a model: a user's QONNX file as it is, a Brevitas module exported."""
    if isinstance(model, OnnxModel):
        return model.write(path)
    from codesign.export._qonnx import export_qonnx

    return export_qonnx(model, input_shape, path)


def reference_outputs(model: Any, inputs: np.ndarray) -> np.ndarray:
    """The model's own outputs on ``inputs`` (model layout): the values the C simulation must reproduce."""
    if isinstance(model, OnnxModel):
        return model(inputs)
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))).numpy()


def _test_inputs(graph: LayerGraph, shape: tuple[int, ...], example: np.ndarray | None, n: int) -> np.ndarray:
    """The example batch plus uniform samples over the input type's range (one LSB beyond each end)."""
    ftype = graph.layers[0].precision.result
    lsb = 2.0 ** (ftype.integer - ftype.width)
    low = -(2.0 ** (ftype.integer - 1)) if ftype.signed else 0.0
    high = 2.0 ** (ftype.integer - 1 if ftype.signed else ftype.integer)
    given = np.zeros((0, *shape), np.float32) if example is None else example.astype(np.float32).reshape(-1, *shape)
    rng = np.random.default_rng(0)
    extra = rng.uniform(low - lsb, high + lsb, size=(max(n - len(given), 0), *shape)).astype(np.float32)
    return np.concatenate([given, extra], axis=0)


def model_request(
    model: Any, example_input: Any, hardware: HardwareConfig, design_id: str, n_samples: int = N_SAMPLES
) -> Any:
    """An :class:`~codesign.export.ExportRequest` for a user's Brevitas module or :class:`OnnxModel`."""
    from codesign.export.project import ExportRequest
    from codesign.models.frontends import graph_from_module, graph_from_onnx

    if isinstance(model, OnnxModel):
        graph = graph_from_onnx(model.path, name=design_id)
        shape = model.input_shape()
        example = None if example_input is None else np.asarray(example_input)
    else:
        import torch

        if not isinstance(example_input, torch.Tensor) or example_input.dim() < 2:
            raise SpecError(bad_value("example_input", type(example_input).__name__, "a torch batch (N, ...)"))
        model.eval()
        graph = graph_from_module(model, example_input, name=design_id)
        shape = tuple(example_input.shape[1:])
        example = example_input.detach().cpu().numpy()
    inputs = _test_inputs(graph, shape, example, n_samples)
    record = {
        "source": "user model",
        "model": str(model.path) if isinstance(model, OnnxModel) else type(model).__name__,
    }
    return ExportRequest(design_id, graph, hardware, model, inputs, None, None, record)


def export_model(
    module: Any,
    example_input: Any,
    hardware: HardwareConfig,
    out: str | Path,
    *,
    design_id: str | None = None,
    force: bool = False,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Any:
    """Export a Brevitas ``nn.Module`` as a verified hls4ml project; returns its ExportResult.

    Args:
        module: the trained Brevitas model (torch layout: channels first).
        example_input: a torch batch ``(N, ...)`` in the module's layout; its samples are test inputs.
        hardware: the hardware configuration (part, clock, io type, strategy, reuse factors, backend).
        out: the output folder; the project is ``out/<design_id>``.
        design_id: default: the module's class name.

    Raises:
        UnsupportedLayerError / ExportError: a module the IR or hls4ml cannot express, named.
        VerificationError: the C simulation differs from the module.
    """
    from codesign.export.project import export_designs

    request = model_request(module, example_input, hardware, design_id or type(module).__name__)
    return export_designs([request], out, force=force, cache_dir=cache_dir, progress=progress)[0]


def export_onnx_file(
    path: str | Path,
    hardware: HardwareConfig,
    out: str | Path,
    *,
    design_id: str | None = None,
    force: bool = False,
    jobs: int | None = 1,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    check: bool = True,
) -> Any:
    """Export a QONNX file (from Brevitas, or QKeras via qonnx's converter); returns its ExportResult."""
    from codesign.export.project import export_designs

    model = OnnxModel(path)
    request = model_request(model, None, hardware, design_id or model.path.stem)
    return export_designs([request], out, force=force, jobs=jobs, cache_dir=cache_dir, progress=progress, check=check)[
        0
    ]


def request_from_user_trial(design: Any, folder: Path, design_id: str) -> Any:
    """The export request of a search trial whose ``fixed`` factory returned a module: its QONNX file
    (:mod:`codesign.models.user_module`) with the design's hardware, tested on the dataset's test split."""
    from dataclasses import replace

    from codesign.export.project import request_from_trained
    from codesign.models.user_module import USER_MODEL_FILE

    base = request_from_trained(design, None, design_id)  # the test split, labels and records
    request = model_request(OnnxModel(folder / USER_MODEL_FILE), base.inputs, design.hardware, design_id)
    labels = base.labels if len(request.inputs) == len(base.inputs) else None
    record = {**base.record, **request.record, "source": "user module (search trial)"}
    return replace(request, labels=labels, accuracy=base.accuracy, record=record)
