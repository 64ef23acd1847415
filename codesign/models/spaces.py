"""Search spaces over :class:`~codesign.models.arch.ArchSpec`, the four kinds HW-NAS uses.

* ``mlp`` / ``cnn`` (:class:`MLPSpace`, :class:`CNNSpace`): layer-wise: depth, widths, kernels,
  batchnorm and per-layer weight/activation bit widths are searched.
* ``cell`` (:class:`~codesign.models.cell_spaces.CellSpace`): one small cell (a few ops, their
  connections, a skip/add) repeated N times.
* ``hierarchical`` (:class:`~codesign.models.cell_spaces.HierarchicalSpace`): blocks, each with its own
  cell, width, depth and bit widths.
* ``fixed`` (:class:`FixedSpace`): the user's own ``module:function`` returning an ArchSpec or a
  Brevitas ``nn.Module``; its hyper-parameters are searched.

A space is plain data: ``space.to_dict()`` / :func:`space_from_dict` round-trip it (a search config
declares one in YAML), and :meth:`Space.sample` draws an ArchSpec from an Optuna trial with stable
parameter names. Built-in defaults, sized for digits (64 features or 8x8x1 images, 10 classes), are
registered by name: :func:`get_space`, :func:`list_spaces`.

How to add a space kind: subclass :class:`Space` as a frozen dataclass (fields = settings, validated in
``__post_init__``), set ``kind``, implement ``input_shape`` and ``sample``, add the class to
``_KINDS``, and register a default with :func:`register_space`; ``tests/models/test_spaces.py`` then
samples, builds and trains it automatically.

Example:
    >>> import optuna
    >>> spec = get_space("mlp").sample(optuna.create_study().ask())
    >>> spec.to_graph((64,)).output.output_shape
    (10,)
"""

from __future__ import annotations

import fnmatch
import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from codesign.models._space_base import (
    Space,
    check_bit_fields,
    check_choices,
    check_image,
    check_range,
    suggest_bits,
    suggest_choice,
    suggest_int,
)
from codesign.models.arch import ArchLayer, ArchSpec
from codesign.models.cell_spaces import CellSpace, HierarchicalSpace
from hw_templates.errors import SpecError, bad_value

if TYPE_CHECKING:
    import optuna

__all__ = [
    "CNNSpace",
    "CellSpace",
    "FixedSpace",
    "HierarchicalSpace",
    "MLPSpace",
    "Space",
    "get_space",
    "list_spaces",
    "register_space",
    "space_from_dict",
]


@dataclass(frozen=True)
class MLPSpace(Space):
    """Dense networks: ``hidden`` layers of ``units`` each with a ReLU, then a dense classifier.

    Attributes:
        features: input features.
        n_classes: output units.
        hidden: [min, max] number of hidden layers.
        units: choices of hidden widths.
        weight_bits, act_bits: [min, max] per-layer bit widths (2..16).
        input_bits: [min, max] input quantizer width.
    """

    kind: ClassVar[str] = "mlp"
    features: int = 64
    n_classes: int = 10
    hidden: tuple[int, int] = (1, 3)
    units: tuple[int, ...] = (8, 16, 32, 64)
    weight_bits: tuple[int, int] = (2, 8)
    act_bits: tuple[int, int] = (2, 8)
    input_bits: tuple[int, int] = (8, 8)

    def __post_init__(self) -> None:
        check_range("mlp.features", (self.features, self.features), 1, 1 << 20)
        check_range("mlp.n_classes", (self.n_classes, self.n_classes), 2, 1 << 16)
        check_range("mlp.hidden", self.hidden, 0, 16)
        check_choices("mlp.units", self.units, 1, 1 << 16)
        check_bit_fields(self)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.features,)

    def sample(self, trial: optuna.Trial) -> ArchSpec:
        layers = []
        for i in range(suggest_int(trial, "n_hidden", self.hidden)):
            units = suggest_choice(trial, f"fc{i}_units", self.units)
            w = suggest_bits(trial, f"fc{i}_weight_bits", self.weight_bits)
            a = suggest_bits(trial, f"fc{i}_act_bits", self.act_bits)
            layers += [
                ArchLayer("dense", name=f"fc{i}", units=units, weight_bits=w),
                ArchLayer("activation", name=f"relu{i}", act_bits=a),
            ]
        w_out = suggest_bits(trial, "out_weight_bits", self.weight_bits)
        layers.append(ArchLayer("dense", name="out", units=self.n_classes, weight_bits=w_out))
        return ArchSpec("mlp", tuple(layers), input_bits=suggest_bits(trial, "input_bits", self.input_bits))


@dataclass(frozen=True)
class CNNSpace(Space):
    """Convolutional networks: conv blocks (conv, optional batchnorm, ReLU, optional 2x max-pool), then
    flatten, optional dense layers and a dense classifier. 1D or 2D by the length of ``input_shape``.

    Attributes:
        image: input shape, channels-last (``(8, 8, 1)`` or e.g. ``(64, 1)`` for 1D).
        blocks: [min, max] conv blocks.
        filters: choices of output channels.
        kernels: choices of (odd) kernel sizes; convolutions use 'same' padding.
        batchnorm: choices for using batchnorm in a block (folded before export).
        pool: choices for a 2x max-pool after a block (only while the map is at least 2 wide).
        dense: [min, max] hidden dense layers after flatten, of ``units`` choices.
        weight_bits, act_bits, input_bits: [min, max] bit widths.
    """

    kind: ClassVar[str] = "cnn"
    image: tuple[int, ...] = (8, 8, 1)
    n_classes: int = 10
    blocks: tuple[int, int] = (1, 3)
    filters: tuple[int, ...] = (4, 8, 16)
    kernels: tuple[int, ...] = (1, 3)
    batchnorm: tuple[bool, ...] = (False, True)
    pool: tuple[bool, ...] = (False, True)
    dense: tuple[int, int] = (0, 1)
    units: tuple[int, ...] = (16, 32)
    weight_bits: tuple[int, int] = (2, 8)
    act_bits: tuple[int, int] = (2, 8)
    input_bits: tuple[int, int] = (8, 8)

    def __post_init__(self) -> None:
        check_image("cnn.image", self.image)
        check_range("cnn.blocks", self.blocks, 1, 16)
        check_choices("cnn.filters", self.filters, 1, 1 << 12)
        check_choices("cnn.kernels", self.kernels, 1, 15)
        if any(k % 2 == 0 for k in self.kernels):
            raise SpecError(bad_value("cnn.kernels", list(self.kernels), "odd sizes ('same' padding)"))
        for name in ("batchnorm", "pool"):
            if not self._bools(getattr(self, name)):
                raise SpecError(bad_value(f"cnn.{name}", list(getattr(self, name)), "a list of true/false choices"))
        check_range("cnn.dense", self.dense, 0, 8)
        check_choices("cnn.units", self.units, 1, 1 << 16)
        check_bit_fields(self)

    @staticmethod
    def _bools(values: Any) -> bool:
        return isinstance(values, tuple) and bool(values) and all(isinstance(v, bool) for v in values)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.image)

    def sample(self, trial: optuna.Trial) -> ArchSpec:
        dims = len(self.image) - 1
        size = min(self.image[:-1])
        layers: list[ArchLayer] = []
        for i in range(suggest_int(trial, "n_blocks", self.blocks)):
            layers += self._block(trial, i, dims, size)
            if size >= 2 and suggest_choice(trial, f"block{i}_pool", self.pool):
                layers.append(ArchLayer(f"maxpool{dims}d", name=f"pool{i}", pool=(2,)))
                size //= 2
        layers.append(ArchLayer("flatten", name="flatten"))
        for i in range(suggest_int(trial, "n_dense", self.dense)):
            units = suggest_choice(trial, f"fc{i}_units", self.units)
            layers += [
                ArchLayer(
                    "dense",
                    name=f"fc{i}",
                    units=units,
                    weight_bits=suggest_bits(trial, f"fc{i}_weight_bits", self.weight_bits),
                ),
                ArchLayer(
                    "activation", name=f"fc{i}_relu", act_bits=suggest_bits(trial, f"fc{i}_act_bits", self.act_bits)
                ),
            ]
        w_out = suggest_bits(trial, "out_weight_bits", self.weight_bits)
        layers.append(ArchLayer("dense", name="out", units=self.n_classes, weight_bits=w_out))
        return ArchSpec("cnn", tuple(layers), input_bits=suggest_bits(trial, "input_bits", self.input_bits))

    def _block(self, trial: optuna.Trial, i: int, dims: int, size: int) -> list[ArchLayer]:
        kernel = suggest_choice(trial, f"block{i}_kernel", self.kernels)
        conv = ArchLayer(
            f"conv{dims}d",
            name=f"conv{i}",
            filters=suggest_choice(trial, f"block{i}_filters", self.filters),
            kernel=(kernel,),
            padding="same",
            weight_bits=suggest_bits(trial, f"block{i}_weight_bits", self.weight_bits),
        )
        out = [conv]
        if suggest_choice(trial, f"block{i}_batchnorm", self.batchnorm):
            out.append(ArchLayer("batchnorm", name=f"bn{i}"))
        out.append(
            ArchLayer("activation", name=f"relu{i}", act_bits=suggest_bits(trial, f"block{i}_act_bits", self.act_bits))
        )
        return out


@dataclass(frozen=True)
class FixedSpace(Space):
    """A user's architecture family: ``factory`` (``"module:function"``) is called with sampled keyword
    arguments and returns an :class:`ArchSpec` or a Brevitas ``nn.Module`` (trained and exported as it is,
    :mod:`codesign.models.user_module`).

    Attributes:
        factory: ``"package.module:function"``, importable from the working directory.
        params: ``{name: {"type": "int"|"float", "low": .., "high": .., "log": bool}}`` or
            ``{name: {"type": "categorical", "choices": [...]}}``.
        shape: the input shape the family takes (channels-last; a search takes the dataset's).
        n_classes: the outputs a module must have (a search takes the dataset's class count).
    """

    kind: ClassVar[str] = "fixed"
    factory: str = ""
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    shape: tuple[int, ...] = (64,)
    n_classes: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.factory, str) or self.factory.count(":") != 1:
            raise SpecError(bad_value("fixed.factory", self.factory, "'package.module:function'"))
        for name, param in self.params.items():
            _check_param(name, param)
        if self.n_classes is not None:
            check_range("fixed.n_classes", (self.n_classes, self.n_classes), 2, 1 << 16)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.shape)

    def resolve(self) -> Callable[..., ArchSpec]:
        """Import the factory; SpecError (one line) when it cannot be imported."""
        module_name, _, function = self.factory.partition(":")
        # the working folder, where the user keeps the factory module: the ``codesign`` script's own
        # folder is first on sys.path instead, so without this the user would need PYTHONPATH=.
        cwd = str(Path.cwd())
        added = cwd not in sys.path
        if added:
            sys.path.insert(0, cwd)
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            raise SpecError(f"fixed.factory: cannot import {self.factory!r} ({type(err).__name__}: {err})") from None
        finally:
            if added:
                sys.path.remove(cwd)
        fn = getattr(module, function, None)
        if not callable(fn):
            raise SpecError(f"fixed.factory: module {module_name!r} has no function {function!r}")
        return fn

    def sample(self, trial: optuna.Trial) -> Any:
        """An ArchSpec, or a :class:`~codesign.models.user_module.UserModule` when the factory returns an
        ``nn.Module`` (read into the IR here, so a module the frontend cannot read fails before training)."""
        values = {name: _suggest(trial, name, p) for name, p in self.params.items()}
        import torch

        with torch.random.fork_rng():  # a module's initial weights depend on its parameters only
            torch.manual_seed(0)
            spec = self.resolve()(**values)
        if isinstance(spec, ArchSpec):
            return spec
        from codesign.models.user_module import read_module

        return read_module(spec, self.factory, values, self.input_shape, self.n_classes)


_PARAM_TYPES = ("int", "float", "categorical")


def _check_param(name: str, param: Mapping[str, Any]) -> None:
    where = f"fixed.params.{name}"
    kind = param.get("type") if isinstance(param, Mapping) else None
    if kind not in _PARAM_TYPES:
        raise SpecError(bad_value(f"{where}.type", kind, "int, float or categorical", _PARAM_TYPES))
    allowed = {"type", "choices"} if kind == "categorical" else {"type", "low", "high", "log", "step"}
    for key in param:
        if key not in allowed:
            raise SpecError(bad_value(f"{where} key", key, "one of " + ", ".join(sorted(allowed)), allowed))
    if kind == "categorical" and not (isinstance(param.get("choices"), tuple) and param["choices"]):
        raise SpecError(bad_value(f"{where}.choices", param.get("choices"), "a non-empty list"))
    if kind != "categorical" and not param.get("low", 1) <= param.get("high", 0):
        raise SpecError(bad_value(f"{where}", dict(param), "low <= high"))


def _suggest(trial: optuna.Trial, name: str, p: Mapping[str, Any]) -> Any:
    if p["type"] == "categorical":
        return trial.suggest_categorical(name, list(p["choices"]))
    suggest = trial.suggest_int if p["type"] == "int" else trial.suggest_float
    kwargs = {"log": bool(p.get("log", False))}
    if "step" in p:
        kwargs["step"] = p["step"]
    return suggest(name, p["low"], p["high"], **kwargs)


_KINDS: dict[str, type[Space]] = {c.kind: c for c in (MLPSpace, CNNSpace, CellSpace, HierarchicalSpace, FixedSpace)}
_REGISTRY: dict[str, Callable[[], Space]] = {
    "mlp": MLPSpace,
    "cnn": CNNSpace,
    "cell": CellSpace,
    "hierarchical": HierarchicalSpace,
}


def register_space(name: str, factory: Callable[[], Space]) -> None:
    """Make ``factory()`` available as ``get_space(name)``."""
    _REGISTRY[name] = factory


def list_spaces(pattern: str = "*") -> list[str]:
    """Registered space names matching a glob ``pattern``."""
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def get_space(name: str) -> Space:
    """A registered default space (``mlp``, ``cnn``, ``cell``, ``hierarchical``) sized for digits.

    Raises:
        SpecError: an unknown name (with the registered names and a did-you-mean).
    """
    if name not in _REGISTRY:
        raise SpecError(bad_value("space", name, "one of " + ", ".join(sorted(_REGISTRY)), _REGISTRY))
    return _REGISTRY[name]()


def space_from_dict(data: Mapping[str, Any]) -> Space:
    """The space described by ``data`` (``{"kind": ..., field: value}``), strictly validated.

    Raises:
        SpecError: no or an unknown ``kind``, an unknown field, or a value out of its range.
    """
    if not isinstance(data, Mapping) or "kind" not in data:
        raise SpecError(bad_value("space", data, "a mapping with a 'kind' (" + ", ".join(_KINDS) + ")"))
    kind = data["kind"]
    if kind not in _KINDS:
        raise SpecError(bad_value("space kind", kind, "one of " + ", ".join(_KINDS), _KINDS))
    return _KINDS[kind].from_fields({k: v for k, v in data.items() if k != "kind"}, f"space {kind}")
