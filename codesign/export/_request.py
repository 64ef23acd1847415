"""What to export: :class:`ExportRequest` and the ways to build one (a saved design folder, a trained
design and its model, or designs of a search run).

Re-exported by :mod:`codesign.export.project` and :mod:`codesign.export`; import it from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from cost_models.ir import LayerGraph
from hw_templates.config import HardwareConfig
from hw_templates.errors import ExportError, SpecError, bad_value

__all__ = [
    "ExportRequest",
    "as_request",
    "request_from_design",
    "request_from_run",
    "request_from_trained",
    "requests_from_run",
]


@dataclass(frozen=True)
class ExportRequest:
    """Everything needed to export and verify one design.

    Attributes:
        design_id: the folder name under the output folder.
        graph: the layer graph the model computes (precisions included).
        hardware: the hardware configuration (reuse factors, strategy, io type, part, clock, backend).
        model: the trained Brevitas ``nn.Module`` (e.g. from :func:`codesign.design.load_model`).
        inputs: test samples in the model's input layout (torch: channels first), float32.
        labels: their classes, or None.
        accuracy: the accuracy recorded when the design was trained, or None.
        record: extra JSON-ready facts for the manifest (dataset, training record, ...).
    """

    design_id: str
    graph: LayerGraph
    hardware: HardwareConfig
    model: Any = field(repr=False)
    inputs: np.ndarray = field(repr=False)
    labels: np.ndarray | None = field(default=None, repr=False)
    accuracy: float | None = None
    record: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "record", MappingProxyType(dict(self.record)))
        if not isinstance(self.inputs, np.ndarray) or self.inputs.ndim < 2 or len(self.inputs) == 0:
            raise SpecError(bad_value("inputs", type(self.inputs).__name__, "a non-empty array of samples"))
        if self.labels is not None and len(self.labels) != len(self.inputs):
            raise SpecError(bad_value("labels", f"{len(self.labels)} labels", f"one per sample ({len(self.inputs)})"))


def request_from_design(directory: str | Path, design_id: str | None = None) -> ExportRequest:
    """An export request from a saved design folder (``design.json`` + ``weights.pt``).

    The test split is rebuilt from the design's dataset record (source, seed, split sizes) and checked.

    Raises:
        ExportError: the folder is not a design, or its test split cannot be reproduced.
    """
    from codesign.design import DESIGN_FILE, TrainedDesign, load_model

    directory = Path(directory)
    if not (directory / DESIGN_FILE).is_file():
        raise ExportError(f"{directory}: not a design folder (no {DESIGN_FILE})")
    design = TrainedDesign.load(directory)
    return request_from_trained(design, load_model(directory), design_id or directory.name)


def request_from_trained(design: Any, model: Any, design_id: str) -> ExportRequest:
    """An export request from a :class:`~codesign.design.TrainedDesign` and its trained model.

    Raises:
        ExportError: the design's test split cannot be reproduced from its dataset record.
    """
    import torch

    from codesign.data.datasets import load_dataset
    from codesign.models.builder import to_torch_layout

    info = design.dataset
    data = load_dataset(info.source, info.input_shape, seed=info.seed, label_column=info.label_column)
    if tuple(data.info.split_sizes) != tuple(info.split_sizes):
        raise ExportError(
            f"design {design_id!r}: cannot reproduce its test split (split sizes {list(info.split_sizes)}, "
            f"reloading {info.source!r} gives {list(data.info.split_sizes)})"
        )
    inputs = to_torch_layout(torch.from_numpy(np.ascontiguousarray(data.x_test))).numpy()
    record = {"dataset": info.to_dict(), "train": dict(design.train), "arch": design.arch}
    return ExportRequest(design_id, design.graph, design.hardware, model, inputs, data.y_test, design.accuracy, record)


def request_from_run(
    run_dir: str | Path, design_id: str, storage: str | None = None, artifacts: str | Path | None = None
) -> ExportRequest:
    """An export request for design ``design_id`` of a search run (record from the run's storage, or
    ``storage``; weights from its ``trials/<n>/`` folder, downloaded from the run's artifact store, or
    ``artifacts``, when another machine trained them).

    Raises:
        SpecError: ``design_id`` is not a design of the run.
        SearchError: the trial's weights are neither in the run folder nor in its artifact store.
        ExportError: the design's test split cannot be reproduced.

    Example:
        >>> from codesign.search import pareto_design_ids
        >>> request = request_from_run("runs/demo", pareto_design_ids("runs/demo")[0])  # doctest: +SKIP
    """
    return requests_from_run(run_dir, [design_id], storage, artifacts)[0]


def requests_from_run(
    run_dir: str | Path, design_ids: Sequence[str], storage: str | None = None, artifacts: str | Path | None = None
) -> list[ExportRequest]:
    """:func:`request_from_run` for several designs: the run is opened once, and the designs of one trial
    (same architecture and weights, different hardware) share one loaded model.

    Raises:
        SpecError, SearchError, ExportError: as :func:`request_from_run`.

    Example:
        >>> from codesign.search import pareto_design_ids
        >>> requests = requests_from_run("runs/demo", pareto_design_ids("runs/demo"))  # doctest: +SKIP
    """
    from codesign.design import load_model
    from codesign.export.user_model import request_from_user_trial
    from codesign.models.user_module import USER_MODEL_FILE
    from codesign.search import load_designs
    from codesign.search.records import parse_design_id

    run = Path(run_dir)
    models: dict[int, Any] = {}
    out = []
    for design_id, design in zip(design_ids, load_designs(run, design_ids, storage, artifacts)):
        trial, _ = parse_design_id(design_id)
        if (run / "trials" / str(trial) / USER_MODEL_FILE).is_file():  # a user's module (``fixed`` space)
            out.append(request_from_user_trial(design, run / "trials" / str(trial), design_id))
            continue
        if trial not in models:
            models[trial] = load_model(run / "trials" / str(trial))
        out.append(request_from_trained(design, models[trial], design_id))
    return out


def as_request(item: Any) -> ExportRequest:
    """The request for one item of :func:`~codesign.export.export_designs`'s ``designs``.

    Raises:
        SpecError: the item is none of an ExportRequest, a design folder or ``(design, model, id)``.
        ExportError: a design folder that is not a design, or whose test split cannot be reproduced.
    """
    if isinstance(item, ExportRequest):
        return item
    if isinstance(item, (str, Path)):
        return request_from_design(item)
    if isinstance(item, tuple) and len(item) == 3:
        design, model, design_id = item
        return request_from_trained(design, model, str(design_id))
    raise SpecError(
        bad_value("designs[i]", type(item).__name__, "an ExportRequest, a design folder or (design, model, id)")
    )
