"""The search config file: its schema (pydantic, strict) and its translation into typed settings.

Every key is documented in ``docs/search.md``; complete files are in ``examples/search_*.yaml``.
:func:`load_search_config` reads a file with the toolkit's one strict loader
(:mod:`codesign.config_io`): unknown keys fail with a did-you-mean, types are checked, and every value
that can be checked without training (parts, templates, samplers, metrics, budgets, the space name) is
checked here, so a bad config fails before any training with one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from codesign.config_io import read_mapping, validate
from codesign.outputs import check_run_name
from codesign.search.hardware_space import HardwareRanges, HardwareSpace
from codesign.search.objectives import METRICS, Budget, Scalarization, check_metric, parse_budget
from codesign.search.samplers import SAMPLER_NAMES, default_sampler
from codesign.spec import PartDecl
from hw_templates.config import Backend, FifoDepths, IoType, Strategy
from hw_templates.errors import SpecError, bad_value
from hw_templates.parts import declare_part, resolve_part
from hw_templates.templates import get_template

__all__ = [
    "FORMULATIONS",
    "MODES",
    "SAMPLERS",
    "EarlyStopSettings",
    "SearchConfigFile",
    "SearchSettings",
    "load_search_config",
    "search_settings_from_dict",
]

PosInt = Annotated[int, Field(strict=True, ge=1)]
Fraction = Annotated[float, Field(strict=True, gt=0, le=1)]
PosFloat = Annotated[float, Field(strict=True, gt=0)]
FORMULATIONS = ("pareto", "accuracy", "constrained", "scalarized", "two_stage")
MODES = ("nested", "flat", "random")
SAMPLERS = SAMPLER_NAMES
DEFAULT_OBJECTIVES = ("accuracy", "latency_ns", "lut_dsp")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WeightSharingBlock(_Model):
    """``training.weight_sharing:``: score networks by slices of a supernet (:mod:`codesign.models.supernet`)."""

    enabled: bool = False
    supernet_epochs: PosInt | None = None  # None: training.epochs
    finetune_epochs: Annotated[int, Field(strict=True, ge=0)] = 0


class TrainingBlock(_Model):
    """``training:``: how each sampled architecture is trained (the expensive evaluation)."""

    epochs: PosInt = 4
    batch_size: PosInt = 64
    learning_rate: PosFloat = 1e-2
    proxy_fraction: Fraction = 1.0
    patience: PosInt | None = None
    tight_accumulators: bool = True
    hot_start_epochs: PosInt | None = None
    weight_sharing: WeightSharingBlock = Field(default_factory=WeightSharingBlock)


class HardwareBlock(_Model):
    """``hardware:``: parameter ranges of the per-layer knobs."""

    io_types: list[str] = Field(default_factory=lambda: ["io_parallel"])
    strategies: list[str] = Field(default_factory=lambda: ["latency", "resource"])
    reuse_factor_min: PosInt = 1
    reuse_factor_max: PosInt = 64
    parallelization_max: PosInt = 1
    fifo_depths: list[str] = Field(default_factory=lambda: ["full"])


class EarlyStopBlock(_Model):
    """``search.early_stop:``: stopping hopeless trainings (see :mod:`codesign.search.early_stop`)."""

    enabled: bool = True
    min_epoch: PosInt = 1
    warmup_trials: Annotated[int, Field(strict=True, ge=0)] = 3
    slack: Annotated[float, Field(strict=True, ge=0, le=1)] = 0.0
    margin_sd: Annotated[float, Field(strict=True, ge=0)] = 1.0


class ScalarizationBlock(_Model):
    method: Literal["weighted_product", "weighted_sum"] = "weighted_product"
    targets: dict[str, PosFloat]
    weights: dict[str, float] = Field(default_factory=dict)


class SearchBlock(_Model):
    """``search:``: how the search runs."""

    mode: str = "nested"
    formulation: str = "pareto"
    objectives: list[str] | None = None
    sampler: str | None = None
    trials: PosInt = 16
    evaluations: PosInt | None = None
    timeout_s: PosFloat | None = None
    top_k: PosInt = 3
    early_stop: EarlyStopBlock = Field(default_factory=EarlyStopBlock)

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        return _choice(value, MODES)

    @field_validator("formulation")
    @classmethod
    def _formulation(cls, value: str) -> str:
        return _choice(value, FORMULATIONS)

    @field_validator("sampler")
    @classmethod
    def _sampler(cls, value: str | None) -> str | None:
        return None if value is None else _choice(value, SAMPLERS)


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    text = value.strip().lower().replace("-", "_")
    if text not in allowed:
        from hw_templates.errors import did_you_mean

        raise ValueError(f"expected one of {', '.join(allowed)}{did_you_mean(text, allowed)}")
    return text


class SearchConfigFile(_Model):
    """The top level of a search config."""

    name: str = "codesign"
    seed: Annotated[int, Field(strict=True, ge=0)] = 0
    dataset: str = "digits"
    label_column: str | None = None
    space: str | dict[str, Any] = "mlp"
    parts: list[str] = Field(default_factory=lambda: ["xc7z020"])
    custom_parts: dict[str, PartDecl] = Field(default_factory=dict)
    clock_ns: PosFloat = 5.0
    backend: str = "vitis"
    cost_model: str = "analytical"
    templates: list[str] = Field(default_factory=list)
    hardware: HardwareBlock | None = None
    training: TrainingBlock = Field(default_factory=TrainingBlock)
    search: SearchBlock = Field(default_factory=SearchBlock)
    budgets: dict[str, float | int | str] = Field(default_factory=dict)
    fit_probability: Annotated[float, Field(strict=True, gt=0, lt=1)] | None = None
    scalarization: ScalarizationBlock | None = None


@dataclass(frozen=True)
class EarlyStopSettings:
    enabled: bool = True
    min_epoch: int = 1
    warmup_trials: int = 3
    slack: float = 0.0
    margin_sd: float = 1.0


@dataclass(frozen=True)
class SearchSettings:
    """A validated search config, in typed form (what the driver reads).

    Attributes mirror the file (see ``docs/search.md``); ``hardware`` is the built space,
    ``objectives`` the metrics of the study (accuracy first where present), ``raw`` the file's data as
    given (recorded in the study).
    """

    name: str
    seed: int
    dataset: str
    label_column: str | None
    space: str | dict[str, Any]
    hardware: HardwareSpace
    cost_model: str
    training: TrainingBlock
    mode: str
    formulation: str
    objectives: tuple[str, ...]
    sampler: str
    trials: int
    timeout_s: float | None
    top_k: int
    early_stop: EarlyStopSettings
    budgets: tuple[Budget, ...]
    scalarization: Scalarization | None
    raw: dict[str, Any]
    fit_probability: float | None = None
    evaluations: int | None = None

    @property
    def cost_metrics(self) -> tuple[str, ...]:
        """Cost metrics designs are compared on (the hardware front's axes)."""
        if self.scalarization is not None:
            return self.scalarization.metrics
        costs = tuple(m for m in self.objectives if m != "accuracy")
        return costs or ("latency_ns", "lut_dsp")


def _objectives(block: SearchBlock) -> tuple[str, ...]:
    formulation = block.formulation
    if formulation in ("accuracy", "two_stage", "scalarized"):
        if block.objectives not in (None, ["accuracy"]):
            raise SpecError(
                bad_value(
                    "search.objectives", block.objectives, f"none (formulation {formulation} maximizes one value)"
                )
            )
        return ("accuracy",)
    given = block.objectives or (list(DEFAULT_OBJECTIVES) if formulation == "pareto" else ["accuracy"])
    if not given:
        raise SpecError("search.objectives: expected at least one metric, got an empty list")
    given = [check_metric(name, "search.objectives", tuple(METRICS)) for name in given]
    if len(set(given)) != len(given):
        raise SpecError(bad_value("search.objectives", given, "distinct metrics"))
    if formulation == "pareto" and len(given) < 2:
        raise SpecError(bad_value("search.objectives", given, "two or more metrics for a Pareto search"))
    return tuple(given)


def _sampler(block: SearchBlock, n_objectives: int) -> str:
    if block.mode == "random":
        if block.sampler not in (None, "random"):
            raise SpecError(bad_value("search.sampler", block.sampler, "random (or none) with mode random"))
        return "random"
    sampler = block.sampler or default_sampler(n_objectives, block.mode)
    if sampler in ("nsga2", "nsga3") and n_objectives == 1:
        raise SpecError(bad_value("search.sampler", sampler, "tpe, gp, random, surrogate or rl for a single objective"))
    return sampler


def _hardware(file: SearchConfigFile) -> HardwareSpace:
    declared = {k.lower(): declare_part(k, **v.model_dump()) for k, v in file.custom_parts.items()}
    if not file.parts:
        raise SpecError("parts: expected at least one target part, got an empty list")
    parts = [resolve_part(name, declared) for name in file.parts]
    names = [p.name for p in parts]
    if len(set(names)) != len(names):
        raise SpecError(bad_value("parts", file.parts, "distinct parts"))
    for name in file.templates:
        get_template(name)
    ranges = None
    if file.hardware is not None:
        block = file.hardware
        ranges = HardwareRanges(
            io_types=tuple(IoType.parse(v, "hardware.io_types") for v in block.io_types),
            strategies=tuple(Strategy.parse(v, "hardware.strategies") for v in block.strategies),
            reuse_factor_min=block.reuse_factor_min,
            reuse_factor_max=block.reuse_factor_max,
            parallelization_max=block.parallelization_max,
            fifo_depths=tuple(FifoDepths.parse(v, "hardware.fifo_depths") for v in block.fifo_depths),
        )
    backend = Backend.parse(file.backend, "backend")
    return HardwareSpace.build(parts, clock_ns=file.clock_ns, backend=backend, templates=file.templates, ranges=ranges)


def search_settings_from_dict(data: dict[str, Any], what: str = "search config") -> SearchSettings:
    """Validate a search config mapping (as read from YAML) into :class:`SearchSettings`.

    Raises:
        SpecError: the first problem, on one line.
    """
    file = validate(SearchConfigFile, data, what)
    block = file.search
    formulation = block.formulation
    objectives = _objectives(block)
    budgets = tuple(parse_budget(k, v) for k, v in file.budgets.items())
    if formulation == "constrained" and not budgets:
        raise SpecError("budgets: formulation constrained needs at least one budget (e.g. budgets: {lut: '50%'})")
    scal = _scalarization(file)
    if formulation == "two_stage" and block.mode != "nested":
        raise SpecError(bad_value("search.mode", block.mode, "nested (the two_stage formulation has its own driver)"))
    from cost_models import get_cost_model

    model = get_cost_model(file.cost_model)
    if file.fit_probability is not None and not model.gives_intervals:
        raise SpecError(
            f"fit_probability: expected a model with intervals (analytical or lut) for a probabilistic fit, "
            f"got cost_model {file.cost_model!r}, which gives none"
        )
    _check_space(file.space)
    if file.training.weight_sharing.enabled:
        _check_sharing(file)
    check_run_name(file.name)
    early = EarlyStopSettings(**block.early_stop.model_dump())
    return SearchSettings(
        name=file.name,
        seed=file.seed,
        dataset=file.dataset,
        label_column=file.label_column,
        space=file.space,
        hardware=_hardware(file),
        cost_model=file.cost_model,
        training=file.training,
        mode=block.mode,
        formulation=formulation,
        objectives=objectives,
        sampler=_sampler(block, len(objectives)),
        trials=block.trials,
        evaluations=block.evaluations,
        timeout_s=block.timeout_s,
        top_k=block.top_k,
        early_stop=early,
        budgets=budgets,
        scalarization=scal,
        raw=data,
        fit_probability=file.fit_probability,
    )


def _scalarization(file: SearchConfigFile) -> Scalarization | None:
    formulation = file.search.formulation
    if formulation != "scalarized":
        if file.scalarization is not None:
            raise SpecError(bad_value("scalarization", "given", f"no scalarization block with {formulation}"))
        return None
    if file.scalarization is None:
        raise SpecError("scalarization: formulation scalarized needs a scalarization block with targets")
    s = file.scalarization
    return Scalarization(s.method, dict(s.targets), dict(s.weights))


def _check_space(name: str | dict[str, Any]) -> None:
    """Fail early on an unknown architecture space (the models package knows the names)."""
    from codesign.search.problem import check_space_name

    check_space_name(name)


def _check_sharing(file: SearchConfigFile) -> None:
    """Weight sharing only where every network is a slice of one supernet, and not with hot start."""
    from codesign.models.supernet import check_shareable
    from codesign.search.problem import space_from_config

    if file.training.hot_start_epochs is not None:
        raise SpecError(
            "training: expected weight_sharing or hot_start_epochs, got both "
            "(shared weights already start every network from trained ones)"
        )
    check_shareable(space_from_config(file.space))


def load_search_config(path: str | Path) -> SearchSettings:
    """Read and validate a search config file (YAML or JSON).

    Example:
        >>> settings = load_search_config("examples/search_demo.yaml")  # doctest: +SKIP
        >>> settings.objectives  # doctest: +SKIP
        ('accuracy', 'latency_ns', 'lut_dsp')
    """
    return search_settings_from_dict(read_mapping(path, "search config"), f"search config {Path(path).name}")
