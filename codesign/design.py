"""The trained-design record: what training hands to export, reports and the design store.

A design directory holds ``design.json`` (plain JSON: the graph, the hardware configuration, how the
data was prepared, the accuracy and the training record: every setting, the starting graph when it
differs, tool versions, the weights' sha256 and the dataset's fingerprint) and ``weights.pt`` (a torch state dict, read
with ``weights_only=True``). :func:`load_model` rebuilds the trained Brevitas module from the two.

Example:
    >>> design = TrainedDesign.from_training(result, spec.hardware, data.info)  # doctest: +SKIP
    >>> design.save("out/digits_mlp_4bit", result.model)  # doctest: +SKIP
    >>> model = load_model("out/digits_mlp_4bit")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from codesign.data.datasets import DatasetInfo
from cost_models.ir import LayerGraph
from hw_templates.config import HardwareConfig
from hw_templates.errors import SpecError, bad_value

if TYPE_CHECKING:
    from torch import nn

    from codesign.data import Dataset
    from codesign.models.builder import QuantNet
    from codesign.models.train import TrainResult

__all__ = ["DESIGN_FILE", "DESIGN_VERSION", "TrainedDesign", "load_model"]

DESIGN_FILE = "design.json"
DESIGN_VERSION = 1


@dataclass(frozen=True)
class TrainedDesign:
    """A trained network with the hardware it is meant for.

    Attributes:
        graph: the network as trained (batchnorm folded away), with its precisions.
        hardware: the hardware configuration.
        dataset: how inputs were prepared (standardisation, shape, classes, split seed).
        accuracy: test accuracy; None when training diverged.
        train: the training record (epochs, seconds, status, seed, ...).
        arch: the ArchSpec it came from, as a dict, when it came from a search space.
    """

    graph: LayerGraph
    hardware: HardwareConfig
    dataset: DatasetInfo
    accuracy: float | None
    train: Mapping[str, Any] = field(default_factory=dict)
    arch: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "train", MappingProxyType(dict(self.train)))

    @classmethod
    def from_training(
        cls,
        result: TrainResult,
        hardware: HardwareConfig,
        dataset: DatasetInfo,
        arch: Mapping[str, Any] | None = None,
        data: Dataset | None = None,
    ) -> TrainedDesign:
        """The record of a :func:`codesign.models.train.train` run on ``data``: its settings, the graph it
        started from when folding or tightening changed it, tool versions, the weights' sha256 and
        (with ``data``) the dataset's fingerprint: what ``codesign reproduce`` needs."""
        from codesign.provenance import state_sha256, tool_versions

        train = {**result.record(), "tools": tool_versions(), "weights_sha256": state_sha256(result.model.state_dict())}
        if data is not None:
            train["dataset_sha256"] = data.fingerprint()
        if result.input_graph is not None and result.input_graph != result.graph:
            train["input_graph"] = result.input_graph.to_dict()
        return cls(result.graph, hardware, dataset, result.accuracy, train, arch)

    def to_dict(self) -> dict[str, Any]:
        return {
            "design_version": DESIGN_VERSION,
            "graph": self.graph.to_dict(),
            "hardware": self.hardware.to_dict(),
            "dataset": self.dataset.to_dict(),
            "accuracy": self.accuracy,
            "train": dict(self.train),
            "arch": dict(self.arch) if self.arch is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainedDesign:
        version = data.get("design_version")
        if version != DESIGN_VERSION:
            raise SpecError(bad_value("design.json design_version", version, str(DESIGN_VERSION)))
        return cls(
            graph=LayerGraph.from_dict(data["graph"]),
            hardware=HardwareConfig.from_dict(data["hardware"]),
            dataset=DatasetInfo.from_dict(data["dataset"]),
            accuracy=data.get("accuracy"),
            train=data.get("train", {}),
            arch=data.get("arch"),
        )

    def save(self, directory: str | Path, model: nn.Module | None = None) -> Path:
        """Write ``design.json`` (and ``weights.pt`` from ``model`` when given) into ``directory``."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        (path / DESIGN_FILE).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        if model is not None:
            import torch

            from codesign.models.train import WEIGHTS_FILE

            torch.save(model.state_dict(), path / WEIGHTS_FILE)
        return path

    @classmethod
    def load(cls, directory: str | Path) -> TrainedDesign:
        """Read ``directory/design.json``.

        Raises:
            SpecError: a missing or malformed file.
        """
        path = Path(directory) / DESIGN_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise SpecError(f"design: cannot read {str(path)!r} ({err})") from None
        try:
            return cls.from_dict(data)
        except SpecError:
            raise
        except (KeyError, TypeError, ValueError) as err:
            raise SpecError(f"design {str(path)!r}: malformed ({type(err).__name__}: {err})") from None


def load_model(directory: str | Path) -> QuantNet:
    """Rebuild the trained Brevitas module of a saved design (eval mode, weights from ``weights.pt``)."""
    from codesign.models.builder import build_model
    from codesign.models.train import WEIGHTS_FILE, load_weights

    design = TrainedDesign.load(directory)
    model = build_model(design.graph)
    model.load_state_dict(load_weights(Path(directory) / WEIGHTS_FILE))
    return model.eval()
