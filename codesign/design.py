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

from codesign.config_io import read_json
from codesign.data.datasets import DatasetInfo
from codesign.spec import MAX_LAYERS
from cost_models.ir import LayerGraph
from hw_templates.atomic import atomic_open, atomic_write_text
from hw_templates.config import HardwareConfig
from hw_templates.errors import SpecError, bad_value, clip

if TYPE_CHECKING:
    from torch import nn

    from codesign.data import Dataset
    from codesign.models.builder import QuantNet
    from codesign.models.train import TrainResult

__all__ = ["DESIGN_FILE", "DESIGN_VERSION", "TrainedDesign", "load_model"]

DESIGN_FILE = "design.json"
DESIGN_VERSION = 1
#: Largest design.json read (a 4096-layer graph writes about 2 MiB).
MAX_DESIGN_BYTES = 64 << 20


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
        if model is not None:  # weights first: a design.json never names weights that are not there
            import torch

            from codesign.models.train import WEIGHTS_FILE

            with atomic_open(path / WEIGHTS_FILE, "wb") as out:
                torch.save(model.state_dict(), out)
        atomic_write_text(path / DESIGN_FILE, json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> TrainedDesign:
        """Read ``directory/design.json``.

        Raises:
            SpecError: a missing or malformed file.
        """
        path = Path(directory) / DESIGN_FILE
        data = read_json(path, "design", MAX_DESIGN_BYTES)
        layers = data.get("graph", {}).get("layers") if isinstance(data.get("graph"), dict) else None
        if isinstance(layers, list) and len(layers) > MAX_LAYERS + 1:
            raise SpecError(
                f"design {clip(str(path))}: expected at most {MAX_LAYERS} layers (the limit), got {len(layers):,}"
            )
        try:
            return cls.from_dict(data)
        except SpecError as err:
            raise SpecError(f"design {clip(str(path))}: {err}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            what = f"key {err}" if isinstance(err, KeyError) else clip(err)
            raise SpecError(
                f"design {clip(str(path))}: expected a design.json written by codesign, got a malformed one "
                f"({type(err).__name__}: {what})"
            ) from None


def load_model(directory: str | Path) -> QuantNet:
    """Rebuild the trained Brevitas module of a saved design (eval mode, weights from ``weights.pt``)."""
    from codesign.models.builder import build_model
    from codesign.models.train import WEIGHTS_FILE, check_weights, load_weights

    design = TrainedDesign.load(directory)
    model = build_model(design.graph)
    weights = Path(directory) / WEIGHTS_FILE
    state = load_weights(weights)
    check_weights(model, state, f"weights {clip(str(weights))}")
    model.load_state_dict(state)
    return model.eval()
