"""The search-space interface and the strict validation every space shares (see :mod:`codesign.models.spaces`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from codesign.models.arch import MAX_BITS, MIN_BITS, ArchSpec
from hw_templates.errors import SpecError, bad_value

if TYPE_CHECKING:
    import optuna

__all__ = [
    "BIT_FIELDS",
    "Space",
    "check_bit_fields",
    "check_bits",
    "check_choices",
    "check_image",
    "check_range",
    "suggest_bits",
    "suggest_choice",
    "suggest_int",
]

#: The [min, max] bit-width fields every toolkit space has.
BIT_FIELDS = ("weight_bits", "act_bits", "input_bits")


@dataclass(frozen=True)
class Space(ABC):
    """A set of architectures an Optuna trial can sample from.

    Subclasses are frozen dataclasses whose fields are the space's settings (plain data, so a search
    config can declare them); :meth:`sample` must use the same parameter names with the same
    distributions in every trial (Optuna refuses a categorical whose choices change).
    """

    kind: ClassVar[str] = "abstract"

    @property
    @abstractmethod
    def input_shape(self) -> tuple[int, ...]:
        """Per-sample input shape (channels-last) the sampled networks take."""

    @abstractmethod
    def sample(self, trial: optuna.Trial) -> ArchSpec:
        """Draw one architecture; every choice is a trial parameter."""

    def to_dict(self) -> dict[str, Any]:
        """Plain-data description; :func:`codesign.models.spaces.space_from_dict` reads it back."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = _plain(value)
        return out

    @classmethod
    def from_fields(cls, data: Mapping[str, Any], where: str) -> Space:
        """Build from a mapping of field values, refusing unknown keys (one line, did-you-mean).

        Raises:
            SpecError: an unknown key, a value of the wrong type, or a value out of its range.
        """
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                raise SpecError(bad_value(f"{where} key", key, f"a field of the {cls.kind} space", known))
        try:
            return cls(**{k: _tupled(v) for k, v in data.items()})
        except TypeError as err:
            raise SpecError(f"{where}: {err}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _tupled(v) for k, v in value.items()}
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_range(field: str, pair: Any, low: int, high: int) -> None:
    """``pair`` must be ``(a, b)`` with ``low <= a <= b <= high``.

    Raises:
        SpecError: naming ``field``, the value and the allowed range.
    """
    ok = isinstance(pair, tuple) and len(pair) == 2 and all(_is_int(v) for v in pair)
    if not ok or not low <= pair[0] <= pair[1] <= high:
        raise SpecError(bad_value(field, _plain(pair), f"[min, max] with {low} <= min <= max <= {high}"))


def check_choices(field: str, choices: Any, low: int, high: int) -> None:
    """``choices`` must be a non-empty tuple of distinct integers in ``low..high``.

    Raises:
        SpecError: naming ``field``, the value and the allowed range.
    """
    ok = isinstance(choices, tuple) and choices and all(_is_int(v) and low <= v <= high for v in choices)
    if not ok or len(set(choices)) != len(choices):
        raise SpecError(bad_value(field, _plain(choices), f"a list of distinct integers in {low}..{high}"))


def check_bits(field: str, pair: Any) -> None:
    """``pair`` must be a ``[min, max]`` bit-width range within the builder's limits.

    Raises:
        SpecError: naming ``field``, the value and the allowed range.
    """
    check_range(field, pair, MIN_BITS, MAX_BITS)


def check_bit_fields(space: Space) -> None:
    """Every :data:`BIT_FIELDS` range of ``space`` (named ``<kind>.<field>``), as :func:`check_bits`.

    Raises:
        SpecError: the first range that is not a valid bit-width range.
    """
    for name in BIT_FIELDS:
        check_bits(f"{space.kind}.{name}", getattr(space, name))


def check_image(field: str, image: Any) -> None:
    """``image`` must be a channels-last input shape, ``[width, channels]`` or ``[height, width, channels]``.

    Raises:
        SpecError: naming ``field`` and the shape given.
    """
    if len(image) not in (2, 3) or any(not isinstance(s, int) or s < 1 for s in image):
        raise SpecError(bad_value(field, list(image), "[width, channels] or [height, width, channels]"))


def suggest_int(trial: optuna.Trial, name: str, pair: tuple[int, int]) -> int:
    """A trial integer in ``pair``; a fixed value (``(v, v)``) is not a parameter at all."""
    return pair[0] if pair[0] == pair[1] else trial.suggest_int(name, pair[0], pair[1])


def suggest_bits(trial: optuna.Trial, name: str, pair: tuple[int, int]) -> int:
    """A bit width in ``pair`` (inclusive)."""
    return suggest_int(trial, name, pair)


def suggest_choice(trial: optuna.Trial, name: str, choices: Sequence[Any]) -> Any:
    """One of ``choices`` (a fixed tuple per space, so the categorical never changes between trials)."""
    return choices[0] if len(choices) == 1 else trial.suggest_categorical(name, list(choices))
