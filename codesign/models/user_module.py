"""A user's own Brevitas module as a search architecture: a ``fixed`` space whose factory returns an ``nn.Module``.

The module is read into the typed IR by :func:`codesign.models.frontends.graph_from_module` (the
cost view the hardware search prices), trained as it is (its own parameters, the toolkit's loop of
:mod:`codesign.models.train`: Adam, cosine schedule, best validation state kept, no batchnorm folding)
and saved as a QONNX file beside the trial's ``design.json``, so ``codesign export RUN --design ...``
exports it through the user-model path (:mod:`codesign.export.user_model`), verified against the QONNX
file's own outputs.

Example:
    >>> um = read_module(make(16, 4), "my_family:make", {"width": 16, "bits": 4}, (64,), 10)  # doctest: +SKIP
    >>> um.graph.output.output_shape  # doctest: +SKIP
    (10,)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cost_models.ir import LayerGraph
from hw_templates.errors import CodesignError, SpecError, first_line

__all__ = ["USER_MODEL_FILE", "ModuleRun", "UserModule", "read_module", "save_module", "torch_shape", "train_module"]

#: The trained module's QONNX file in a trial folder (exported by ``codesign export RUN --design``).
USER_MODEL_FILE = "model.onnx"
ALLOWED = "an ArchSpec (codesign.models.arch) or a Brevitas nn.Module taking one batch"


def torch_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A channels-last sample shape in torch's channels-first layout."""
    return (shape[-1], *shape[:-1]) if len(shape) > 1 else tuple(shape)


@dataclass(eq=False)
class UserModule:
    """One sampled module with what the search needs about it.

    Attributes:
        module: the user's ``nn.Module`` (trained in place).
        factory: the ``"module:function"`` that made it; params: the sampled keyword arguments.
        input_shape: one sample's shape, channels-last (the dataset's).
        graph: the module read into the IR (its cost view).
    """

    module: nn.Module = field(repr=False)
    factory: str
    params: Mapping[str, Any]
    input_shape: tuple[int, ...]
    graph: LayerGraph = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "module",
            "factory": self.factory,
            "params": dict(self.params),
            "module": type(self.module).__name__,
        }

    def example(self, n: int = 1) -> torch.Tensor:
        return torch.zeros((n, *torch_shape(self.input_shape)), dtype=torch.float32)

    def reread(self) -> LayerGraph:
        """The graph of the module as it is now (after training a learned scale may differ)."""
        self.module.eval()
        return _graph(self.module, self.example(), self.factory)


def _graph(module: nn.Module, example: torch.Tensor, factory: str) -> LayerGraph:
    from codesign.models.frontends import graph_from_module

    try:
        with torch.no_grad():
            return graph_from_module(module, example, name=type(module).__name__)
    except CodesignError as err:
        reason = str(err)
    except Exception as err:  # tracing runs the user's forward: it may raise anything
        reason = f"{type(err).__name__}: {first_line(err)}"
    raise SpecError(
        f"fixed.factory: {factory!r} returned module {type(module).__name__}, which the frontend cannot read "
        f"({reason}); "
        f"expected {ALLOWED}"
    ) from None


def _run_once(module: nn.Module, example: torch.Tensor, factory: str) -> tuple[int, ...]:
    """The per-sample output shape of the module on a batch of the dataset's shape (the frontend reads
    layer sizes from the weights only, so a module built for other inputs would pass it)."""
    try:
        with torch.no_grad():
            out = module(example)
        return tuple(out.shape[1:])
    except Exception as err:  # the user's forward may raise anything
        first = first_line(err)
        raise SpecError(
            f"fixed.factory: {factory!r} returned module {type(module).__name__}, which fails on a batch of the "
            f"dataset's inputs, shape {list(example.shape[1:])} ({type(err).__name__}: {first}); expected {ALLOWED}"
        ) from None


def read_module(
    module: Any, factory: str, params: Mapping[str, Any], shape: tuple[int, ...], n_classes: int | None
) -> UserModule:
    """Check and read a factory's module; SpecError (one line, naming the factory) when it cannot be used."""
    if not isinstance(module, nn.Module):
        raise SpecError(f"fixed.factory: {factory!r} returned {type(module).__name__}, expected {ALLOWED}")
    module.eval()
    example = torch.zeros((2, *torch_shape(tuple(shape))), dtype=torch.float32)
    out = _run_once(module, example, factory)
    um = UserModule(module, factory, dict(params), tuple(shape), _graph(module, example, factory))
    if n_classes is not None and math.prod(out) != n_classes:
        raise SpecError(
            f"fixed.factory: {factory!r} returned module {type(module).__name__} with output shape {list(out)}, "
            f"expected {n_classes} outputs (one per class of the dataset, input shape {list(shape)})"
        )
    return um


@dataclass(frozen=True)
class ModuleRun:
    """What training a user module produced (the fields :class:`~codesign.search.problem.Evaluation` needs)."""

    accuracy: float | None
    status: str
    seconds: float
    val_history: tuple[float, ...]
    epochs: int


def train_module(um: UserModule, data: Any, config: Any, report: Callable[[int, float], bool] | None) -> ModuleRun:
    """Train the module's own parameters on ``data`` with the toolkit's loop (see the module docstring)."""
    from codesign.models.train import _accuracy, _fit, _Tensors, _threads

    with _threads(config.threads):
        torch.manual_seed(config.seed)
        tensors = _Tensors.of(data.subset(config.proxy_fraction, config.seed), torch.device("cpu"))
        start = time.perf_counter()
        run = _fit(um.module, tensors, config, config.epochs, config.learning_rate, report)
        seconds = time.perf_counter() - start
        accuracy = None if run.status == "diverged" else _accuracy(um.module, tensors.x_test, tensors.y_test)
    um.module.eval()
    return ModuleRun(accuracy, run.status, seconds, tuple(run.history), len(run.history))


def save_module(um: UserModule, folder: Path) -> Path:
    """Write the trained module as QONNX (``USER_MODEL_FILE``) into a trial folder."""
    from codesign.export._qonnx import export_qonnx

    folder.mkdir(parents=True, exist_ok=True)
    return export_qonnx(um.module, torch_shape(um.input_shape), folder / USER_MODEL_FILE)
