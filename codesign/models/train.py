"""Seeded quantization-aware training on CPU (CUDA when asked and available), with accuracy shortcuts.

Shortcuts a search uses to spend less time per candidate (the HW-NAS survey's list):

* **early stopping**: ``patience`` epochs without a better validation accuracy end the run, and a
  ``report(epoch, val_accuracy) -> bool`` callback (e.g. an Optuna pruner) ends it when it returns True;
* **proxy data**: ``proxy_fraction`` trains on a stratified fraction of the training split (validation
  and test stay whole), and ``epochs`` can be small;
* **hot start**: ``hot_start`` initialises every tensor whose name and shape match a previous model's.

The weights of the best validation epoch are kept. Batchnorm layers are then folded into the layer
before them and the folded model fine-tuned briefly (:mod:`codesign.models.fold`), so the test
accuracy reported is that of the network the hardware computes. A NaN/inf loss ends the run with status
``"diverged"`` instead of raising.

Example:
    >>> from codesign.data import load_dataset
    >>> from codesign.spec import load_design_spec
    >>> spec = load_design_spec("examples/digits_mlp_4bit.yaml")  # doctest: +SKIP
    >>> data = load_dataset("digits", spec.graph.input_shape)  # doctest: +SKIP
    >>> train(spec.graph, data, TrainConfig(epochs=20)).accuracy  # doctest: +SKIP
    0.95
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from codesign.data import Dataset
from codesign.models._weights import MAX_WEIGHTS_BYTES, WEIGHTS_FILE, check_weights, hot_start_from, load_weights
from codesign.models.builder import QuantNet, to_torch_layout
from codesign.models.fold import build_foldable, fold_batchnorm
from cost_models.ir import LayerGraph
from hw_templates.atomic import atomic_open
from hw_templates.errors import SpecError, TrainingError, bad_value

__all__ = [
    "MAX_WEIGHTS_BYTES",
    "WEIGHTS_FILE",
    "TrainConfig",
    "TrainResult",
    "check_weights",
    "hot_start_from",
    "load_weights",
    "train",
]

logger = logging.getLogger(__name__)

Status = Literal["ok", "diverged", "stopped"]
Report = Callable[[int, float], bool]


@dataclass(frozen=True)
class TrainConfig:
    """Training settings.

    Attributes:
        epochs: maximum epochs over the (proxy) training split.
        batch_size: samples per step.
        learning_rate: Adam step size (cosine-annealed to 0 over ``epochs``).
        weight_decay: Adam L2 penalty.
        seed: seeds weight initialisation, shuffling and the proxy subset.
        patience: stop after this many epochs without a better validation accuracy (None: never).
        proxy_fraction: share of the training split to train on.
        device: ``"cpu"`` or ``"cuda"`` (only when available).
        threads: torch intra-op threads during training (None leaves the process setting alone).
        fold_epochs: fine-tuning epochs after batchnorm folding (only when the graph has batchnorm).

    Raises:
        SpecError: a setting out of its range (named, with the range).
    """

    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 1e-2
    weight_decay: float = 0.0
    seed: int = 0
    patience: int | None = None
    proxy_fraction: float = 1.0
    device: str = "cpu"
    threads: int | None = None
    fold_epochs: int = 2

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(bad_value(name, value, "a positive integer"))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise SpecError(bad_value("seed", self.seed, "an integer in 0..2^32-1"))
        if not self.learning_rate > 0:
            raise SpecError(bad_value("learning_rate", self.learning_rate, "a positive number"))
        if self.patience is not None and self.patience < 1:
            raise SpecError(bad_value("patience", self.patience, "a positive integer or None"))
        if not 0 < self.proxy_fraction <= 1:
            raise SpecError(bad_value("proxy_fraction", self.proxy_fraction, "a fraction in (0, 1]"))
        if self.device not in ("cpu", "cuda"):
            raise SpecError(bad_value("device", self.device, "'cpu' or 'cuda'", ["cpu", "cuda"]))
        most = 4 * (os.cpu_count() or 1)  # torch allocates every thread's pool: 10^5 threads ran out of memory
        if self.threads is not None and not 1 <= self.threads <= most:
            raise SpecError(
                bad_value("threads", self.threads, f"an integer in 1..{most} (4 per CPU, the limit) or None")
            )


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced.

    Attributes:
        accuracy: test-split accuracy of the final (folded) model; None when the run diverged.
        val_history: validation accuracy after each epoch.
        epochs: epochs run (before folding).
        train_seconds: wall time of training, folding and fine-tuning (not data loading or the test).
        status: "ok", "diverged" (NaN/inf loss) or "stopped" (the report callback asked to stop).
        early_stopped: True when patience ended the run.
        hot_start_tensors: tensors taken from the hot-start weights.
        seed: the training seed.
        model: the trained model (eval mode, on the CPU).
        graph: the graph ``model`` computes (batchnorm layers folded away).
        config: the settings it was trained with (recorded so that it can be re-run).
        input_graph: the graph training started from (before folding and accumulator tightening).
        threads: torch intra-op threads during training (float sums depend on them).
        tightened: True when :func:`codesign.models.tighten.tighten_result` narrowed the accumulators.
    """

    accuracy: float | None
    val_history: tuple[float, ...]
    epochs: int
    train_seconds: float
    status: Status
    early_stopped: bool
    hot_start_tensors: int
    seed: int
    model: QuantNet = field(repr=False)
    graph: LayerGraph = field(repr=False)
    config: TrainConfig | None = field(default=None, repr=False)
    input_graph: LayerGraph | None = field(default=None, repr=False)
    threads: int = 0
    tightened: bool = False

    @property
    def best_val_accuracy(self) -> float | None:
        """The best validation accuracy of any epoch; None when no epoch ran."""
        return max(self.val_history) if self.val_history else None

    def record(self) -> dict[str, Any]:
        """Plain-JSON summary (what :class:`codesign.design.TrainedDesign` stores as ``train``)."""
        return {
            "epochs": self.epochs,
            "seconds": round(self.train_seconds, 3),
            "status": self.status,
            "seed": self.seed,
            "early_stopped": self.early_stopped,
            "best_val_accuracy": self.best_val_accuracy,
            "hot_start_tensors": self.hot_start_tensors,
            "config": None if self.config is None else _config_record(self.config),
            "threads": self.threads,
            "tight_accumulators": self.tightened,
        }

    def save(self, directory: str | Path) -> Path:
        """Write the state dict as ``directory/weights.pt``; return its path."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        with atomic_open(path / WEIGHTS_FILE, "wb") as out:
            torch.save(self.model.state_dict(), out)
        return path / WEIGHTS_FILE


def _config_record(cfg: TrainConfig) -> dict[str, Any]:
    """The settings that decide the weights (not ``threads``, recorded as used, nor ``device``)."""
    return {k: v for k, v in asdict(cfg).items() if k not in ("threads", "device")}


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("device: expected a machine with CUDA for device 'cuda', got none (use device 'cpu')")
    return torch.device(name)


@dataclass
class _Tensors:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @classmethod
    def of(cls, data: Dataset, device: torch.device) -> _Tensors:
        def x(a: Any) -> torch.Tensor:
            return to_torch_layout(torch.as_tensor(a, dtype=torch.float32)).contiguous().to(device)

        def y(a: Any) -> torch.Tensor:
            return torch.as_tensor(a, dtype=torch.long).to(device)

        return cls(x(data.x_train), y(data.y_train), x(data.x_val), y(data.y_val), x(data.x_test), y(data.y_test))


@torch.no_grad()
def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1024) -> float:
    model.eval()
    correct = 0
    for start in range(0, len(x), batch):
        correct += int((model(x[start : start + batch]).argmax(dim=1) == y[start : start + batch]).sum())
    return correct / max(1, len(x))


def _epoch(model: nn.Module, opt: torch.optim.Optimizer, t: _Tensors, batch: int, gen: torch.Generator) -> float:
    """One pass over the training split; returns the mean loss (NaN/inf when it diverged)."""
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(len(t.x_train), generator=gen).to(t.x_train.device)
    total = 0.0
    for start in range(0, len(order), batch):
        idx = order[start : start + batch]
        opt.zero_grad()
        loss = loss_fn(model(t.x_train[idx]), t.y_train[idx])
        if not torch.isfinite(loss):
            return math.inf
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / len(order)


@dataclass
class _Run:
    history: list[float] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] | None = None
    status: Status = "ok"
    early_stopped: bool = False


def _fit(model: nn.Module, t: _Tensors, cfg: TrainConfig, epochs: int, lr: float, report: Report | None) -> _Run:
    """Train for up to ``epochs``; keep the best validation state; honour patience and ``report``."""
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    run, best, since_best = _Run(), -1.0, 0
    for epoch in range(epochs):
        if not math.isfinite(_epoch(model, opt, t, cfg.batch_size, gen)):
            run.status = "diverged"
            break
        sched.step()
        val = _accuracy(model, t.x_val, t.y_val)
        run.history.append(val)
        if val > best:
            best, since_best = val, 0
            run.best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
        if report is not None and report(epoch, val):
            run.status = "stopped"
            break
        if cfg.patience is not None and since_best >= cfg.patience:
            run.early_stopped = True
            break
    if run.best_state is not None:
        model.load_state_dict(run.best_state)
    return run


def _fold_and_tune(model: QuantNet, t: _Tensors, cfg: TrainConfig) -> QuantNet:
    folded = fold_batchnorm(model)
    if folded is model or cfg.fold_epochs == 0:
        return folded
    folded.to(t.x_train.device)
    before = _accuracy(folded, t.x_val, t.y_val)
    tuned = copy.deepcopy(folded)
    run = _fit(tuned, t, cfg, cfg.fold_epochs, cfg.learning_rate * 0.1, None)
    return tuned if run.status == "ok" and max(run.history, default=-1.0) > before else folded


def train(
    model: QuantNet | LayerGraph,
    data: Dataset,
    config: TrainConfig | None = None,
    *,
    report: Report | None = None,
    hot_start: Mapping[str, torch.Tensor] | nn.Module | str | Path | None = None,
) -> TrainResult:
    """Train a graph (built here, seeded) or a model from :func:`build_model`; see the module docstring.

    Raises:
        TrainingError: CUDA asked for but absent, or unreadable hot-start weights. A diverging loss
            does not raise: the result's status says ``"diverged"``.
    """
    cfg = config or TrainConfig()
    device = _device(cfg.device)
    with _threads(cfg.threads):
        torch.manual_seed(cfg.seed)
        net = build_foldable(model) if isinstance(model, LayerGraph) else model  # refusals before training
        input_graph, threads = net.graph, torch.get_num_threads()
        taken = hot_start_from(net, hot_start) if hot_start is not None else 0
        tensors = _Tensors.of(data.subset(cfg.proxy_fraction, cfg.seed), device)
        net.to(device)
        start = time.perf_counter()
        run = _fit(net, tensors, cfg, cfg.epochs, cfg.learning_rate, report)
        if run.status != "diverged":
            net = _fold_and_tune(net, tensors, cfg)
        seconds = time.perf_counter() - start
        accuracy = None if run.status == "diverged" else _accuracy(net, tensors.x_test, tensors.y_test)
    net.to("cpu").eval()
    logger.info("trained %s: accuracy %s in %.1f s (%s)", net.graph.name, accuracy, seconds, run.status)
    return TrainResult(
        accuracy=accuracy,
        val_history=tuple(run.history),
        epochs=len(run.history),
        train_seconds=seconds,
        status=run.status,
        early_stopped=run.early_stopped,
        hot_start_tensors=taken,
        seed=cfg.seed,
        model=net,
        graph=net.graph,
        config=cfg,
        input_graph=input_graph,
        threads=threads,
    )
