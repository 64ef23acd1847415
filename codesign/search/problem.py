"""What a co-design search explores: a :class:`Problem` samples, costs and evaluates architectures.

The driver (:mod:`codesign.search.driver`) only talks to this interface, so the toolkit's own model
families (:class:`ToolkitProblem`: architecture spaces, Brevitas training) and a user's
(:class:`FunctionProblem`: any space, cost function and evaluator, see :mod:`codesign.search.api`) run
through the same search.

How to add a problem: subclass :class:`Problem`; ``sample`` must use the same parameter names and
distributions in every trial; ``cost`` must be cheap (no training); ``evaluate`` is the expensive call
and should call ``report(epoch, val_accuracy)`` after each epoch and stop when it returns True.
"""

from __future__ import annotations

import json
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codesign.search._callables import arity, dict_sampler, evaluation_value, safe_call
from cost_models.ir import LayerGraph
from hw_templates.errors import SpecError, bad_value

if TYPE_CHECKING:
    import optuna

    from codesign.search.config import SearchSettings

__all__ = [
    "Evaluation",
    "FunctionProblem",
    "Problem",
    "ToolkitProblem",
    "check_space_name",
    "safe_call",
    "space_from_config",
]

logger = logging.getLogger(__name__)
Report = Callable[[int, float], bool]
#: Trained state dicts a toolkit problem keeps for hot starts (the most recent ones).
HOT_START_KEEP = 200
#: What a cost function may return: a layer graph, one design's figures, or several designs' figures.
CostResult = LayerGraph | Mapping[str, float] | Sequence[Mapping[str, float]]


@dataclass(frozen=True)
class Evaluation:
    """Outcome of one expensive evaluation.

    Attributes:
        accuracy: the score (test accuracy for the toolkit's models); None when it failed.
        status: ``ok``, ``stopped`` (stopped early as hopeless), ``diverged`` or ``failed``.
        seconds: wall time of the evaluation.
        val_history: validation accuracy per epoch (empty when the evaluator reports none).
        graph: the graph actually trained when it differs from the costed one (batchnorm folded).
        reason: why it failed, when it did.
        extra: further attributes recorded with the trial (e.g. epochs run).
        figures: measured cost figures (e.g. a latency measured on the device) that replace the cost
            function's estimates of the same name in every design of the architecture.
    """

    accuracy: float | None
    status: str = "ok"
    seconds: float = 0.0
    val_history: tuple[float, ...] = ()
    graph: LayerGraph | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)


class Problem(ABC):
    """A co-design problem (see the module docstring)."""

    @abstractmethod
    def sample(self, trial: optuna.Trial) -> Any:
        """Draw an architecture (any object) using the trial's suggest calls."""

    @abstractmethod
    def cost(self, arch: Any) -> CostResult:
        """The cheap cost view: a LayerGraph for the toolkit's cost models, or explicit figures."""

    @abstractmethod
    def evaluate(self, arch: Any, report: Report, trial_dir: Path | None) -> Evaluation:
        """The expensive evaluation (training); ``trial_dir`` is where to keep weights, if anywhere."""

    def describe(self, arch: Any) -> dict[str, Any]:
        """A JSON-ready description of ``arch`` (stored with the trial)."""
        return arch if isinstance(arch, dict) else {"repr": repr(arch)}

    def record(self) -> dict[str, Any]:
        """What the study records about the problem (dataset, space, training settings)."""
        return {}


def space_from_config(space: str | Mapping[str, Any]) -> Any:
    """The toolkit architecture space named (``"mlp"``) or described (``{kind: mlp, ...}``) in a config.

    Raises:
        SpecError: an unknown space name or description, or ``space`` is neither a name nor a mapping.
    """
    from codesign.models import spaces

    if isinstance(space, str):
        return spaces.get_space(space)
    if isinstance(space, Mapping):
        return spaces.space_from_dict(dict(space))
    raise SpecError(bad_value("space", space, "a space name such as 'mlp' or a mapping with 'kind'"))


def check_space_name(space: str | Mapping[str, Any]) -> None:
    """Raise SpecError when the config's space does not exist (before any training)."""
    space_from_config(space)


def _space_for_dataset(settings: SearchSettings, space: Any) -> Any:
    """The space with the dataset's feature and class counts wherever the config does not state them.

    A space named (``space: mlp``) or described without ``features``/``n_classes`` takes them from the
    dataset, so one search config (or a sweep's ``dataset:`` axis) serves digits (64 features, 10 classes)
    and wine (13, 3) alike; a ``fixed`` space takes its ``shape`` and ``n_classes`` the same way. Stated
    values are kept; a mismatch is then the dataset loader's clear error.
    """
    from dataclasses import fields

    from codesign.data import load_dataset

    stated = set(settings.space) if isinstance(settings.space, Mapping) else set()
    names = {f.name for f in fields(space)}
    open_fields = [name for name in ("features", "n_classes", "shape") if name in names and name not in stated]
    if not open_fields:
        return space
    info = load_dataset(settings.dataset, None, seed=settings.seed, label_column=settings.label_column).info
    derived = {"features": math.prod(info.input_shape), "n_classes": info.n_classes, "shape": info.input_shape}
    return replace(space, **{name: derived[name] for name in open_fields})


class ToolkitProblem(Problem):
    """The toolkit's own architecture spaces, trained with Brevitas QAT on a built-in or user dataset.

    Args:
        settings: the validated search config.
    """

    def __init__(self, settings: SearchSettings) -> None:
        from codesign.data import load_dataset

        self.settings = settings
        self._trained: list[dict[str, Any]] = []  # state dicts of this process's trainings (hot start)
        self.space = _space_for_dataset(settings, space_from_config(settings.space))
        self.data = load_dataset(
            settings.dataset, tuple(self.space.input_shape), seed=settings.seed, label_column=settings.label_column
        )
        self.sharing = _weight_sharing(settings, self.space, self.data)

    def sample(self, trial: optuna.Trial) -> Any:
        return self.space.sample(trial)

    def cost(self, arch: Any) -> LayerGraph:
        if _is_module(arch):
            return arch.graph
        return arch.to_graph(tuple(self.space.input_shape))

    def describe(self, arch: Any) -> dict[str, Any]:
        return arch.to_dict()

    def record(self) -> dict[str, Any]:
        return {"dataset": self.data.info.to_dict(), "space": self.space.to_dict()}

    def evaluate(self, arch: Any, report: Report, trial_dir: Path | None) -> Evaluation:
        from codesign.models.train import TrainConfig, train

        t = self.settings.training
        source = self._hot_start_source(arch) if t.hot_start_epochs and not _is_module(arch) else None
        config = TrainConfig(
            epochs=t.epochs if source is None else min(t.epochs, t.hot_start_epochs),
            batch_size=t.batch_size,
            learning_rate=t.learning_rate,
            seed=self.settings.seed,
            patience=t.patience,
            proxy_fraction=t.proxy_fraction,
        )
        if _is_module(arch):
            return self._evaluate_module(arch, config, report, trial_dir)
        graph = self.cost(arch)
        if self.sharing is not None:
            result, extra = self._shared(arch, report)
        else:
            result, extra = train(graph, self.data, config, report=report, hot_start=source), {}
        if t.hot_start_epochs and result.status != "diverged":
            self._trained = [*self._trained[-(HOT_START_KEEP - 1) :], result.model.state_dict()]
        if t.tight_accumulators:
            from codesign.models.tighten import tighten_result

            # same numbers, narrower adders: the trained weights bound every sum (codesign.models.tighten)
            result = tighten_result(result)
        if trial_dir is not None and result.status != "diverged":
            self._save(result, arch, trial_dir)
        status = {"ok": "ok", "stopped": "stopped", "diverged": "diverged"}[result.status]
        return Evaluation(
            accuracy=result.accuracy,
            status=status,
            seconds=result.train_seconds,
            val_history=tuple(result.val_history),
            graph=result.graph if result.graph != graph else None,
            reason="training diverged (NaN/inf loss)" if status == "diverged" else "",
            extra={"epochs": result.epochs, "hot_start_tensors": result.hot_start_tensors, **extra},
        )

    def _shared(self, arch: Any, report: Report) -> tuple[Any, dict[str, Any]]:
        """``arch`` scored by its supernet's weights (``training.weight_sharing``); a supernet trained for
        it is charged to this trial's seconds."""
        before = self.sharing.stats["supernet_seconds"]
        result = self.sharing.evaluate(arch, report)
        supernet_s = self.sharing.stats["supernet_seconds"] - before
        extra = {"supernet_seconds": round(supernet_s, 3), "supernets": self.sharing.stats["supernets"]}
        return replace(result, train_seconds=result.train_seconds + supernet_s), extra

    def _evaluate_module(self, arch: Any, config: Any, report: Report, trial_dir: Path | None) -> Evaluation:
        """A user's module (``fixed`` factory returning an ``nn.Module``): trained as it is, saved as QONNX."""
        from codesign.models.user_module import save_module, train_module

        run = train_module(arch, self.data, config, report)
        graph = arch.reread()
        if trial_dir is not None and run.status != "diverged":
            from codesign.design import TrainedDesign

            record = {"epochs": run.epochs, "seconds": round(run.seconds, 3), "status": run.status}
            record["seed"] = config.seed
            design = TrainedDesign(graph, self._base_hardware(), self.data.info, run.accuracy, record, arch.to_dict())
            save_module(arch, trial_dir)  # the model first: a design.json never names a file that is not there
            design.save(trial_dir)
        return Evaluation(
            accuracy=run.accuracy,
            status=run.status,
            seconds=run.seconds,
            val_history=run.val_history,
            graph=graph if graph != arch.graph else None,
            reason="training diverged (NaN/inf loss)" if run.status == "diverged" else "",
            extra={"epochs": run.epochs},
        )

    def _base_hardware(self) -> Any:
        space = self.settings.hardware
        return space.families[0].base_config(space.primary, space.clock_ns, space.backend)

    def _hot_start_source(self, arch: Any) -> dict[str, Any] | None:
        """The state dict of the earlier training that shares the most tensors (name and shape) with
        ``arch``'s model, or None when none shares any (``training.hot_start_epochs``)."""
        from codesign.models.builder import build_model

        if not self._trained:
            return None
        own = {k: tuple(v.shape) for k, v in build_model(self.cost(arch)).state_dict().items()}

        def shared(state: dict[str, Any]) -> int:
            return sum(1 for k, v in state.items() if own.get(k) == tuple(v.shape))

        best = max(self._trained, key=shared)
        return best if shared(best) else None

    def _save(self, result: Any, arch: Any, trial_dir: Path) -> None:
        from codesign.design import TrainedDesign

        hw = self._base_hardware()
        design = TrainedDesign.from_training(result, hw, self.data.info, arch=arch.to_dict(), data=self.data)
        design.save(trial_dir, result.model)


def _weight_sharing(settings: SearchSettings, space: Any, data: Any) -> Any:
    """The supernets of ``training.weight_sharing`` (None when it is off)."""
    t = settings.training
    if not t.weight_sharing.enabled:
        return None
    from codesign.models.supernet import SharingConfig, WeightSharing

    w = t.weight_sharing
    config = SharingConfig(
        epochs=w.supernet_epochs or t.epochs,
        finetune_epochs=w.finetune_epochs,
        batch_size=t.batch_size,
        learning_rate=t.learning_rate,
        seed=settings.seed,
        proxy_fraction=t.proxy_fraction,
    )
    return WeightSharing(space, data, config)


def _is_module(arch: Any) -> bool:
    """Is ``arch`` a user's module (:class:`~codesign.models.user_module.UserModule`), not an ArchSpec?"""
    from codesign.models.user_module import UserModule

    return isinstance(arch, UserModule)


class FunctionProblem(Problem):
    """A user's problem from plain callables (see :func:`codesign.search.api.search`).

    Args:
        space: ``sample(trial) -> arch``, or a mapping of parameter name to choices: a list (categorical),
            a ``(low, high)`` tuple of ints (integer range) or a ``range``.
        cost: ``arch -> LayerGraph | {metric: value} | [{metric: value}, ...]`` (cheap).
        evaluate: ``arch -> accuracy`` or ``(arch, report) -> accuracy`` (expensive); instead of a
            number it may return ``{"accuracy": ..., <figure>: <measured value>, ...}``: the measured
            figures replace the cost function's estimates of the same name.
    """

    def __init__(
        self,
        space: Callable[[optuna.Trial], Any] | Mapping[str, Any],
        cost: Callable[[Any], CostResult],
        evaluate: Callable[..., float],
    ) -> None:
        self._sample = space if callable(space) else dict_sampler(space)
        self._cost = cost
        self._evaluate = evaluate
        self._takes_report = arity(evaluate) >= 2

    def sample(self, trial: optuna.Trial) -> Any:
        return self._sample(trial)

    def cost(self, arch: Any) -> CostResult:
        return self._cost(arch)

    def describe(self, arch: Any) -> dict[str, Any]:
        try:
            json.dumps(arch)
            return arch if isinstance(arch, dict) else {"value": arch}
        except TypeError:
            return {"repr": repr(arch)}

    def evaluate(self, arch: Any, report: Report, trial_dir: Path | None) -> Evaluation:
        history: list[float] = []
        stopped = False

        def tracked(epoch: int, value: float) -> bool:
            nonlocal stopped
            history.append(float(value))
            stopped = bool(report(epoch, value))
            return stopped

        start = time.perf_counter()
        value = self._evaluate(arch, tracked) if self._takes_report else self._evaluate(arch)
        seconds = time.perf_counter() - start
        accuracy, figures = evaluation_value(value)
        return Evaluation(accuracy, "stopped" if stopped else "ok", seconds, tuple(history), figures=figures)
