"""Parameters drawn without an Optuna trial: a :class:`Probe` replays a space's ``sample(trial)`` with
chosen values (random where none is given or it is out of range), and :func:`mutated` moves one or two
of an architecture's parameters. Used by :class:`~codesign.search.surrogate.SurrogateSampler` to build
its pool of candidates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

__all__ = ["Probe", "contains", "mutated", "random_value"]


class Probe:
    """A stand-in for an Optuna trial: answers suggest calls from ``target`` (else at random)."""

    def __init__(self, target: dict[str, Any], rng: np.random.Generator) -> None:
        self.params: dict[str, Any] = {}
        self.distributions: dict[str, Any] = {}
        self._target, self._rng = target, rng

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        """As ``optuna.Trial.suggest_int``: the target's value, or a random one."""
        return self._suggest(name, IntDistribution(low, high, log=log, step=step))

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False):
        """As ``optuna.Trial.suggest_float``: the target's value, or a random one."""
        return self._suggest(name, FloatDistribution(low, high, log=log, step=step))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """As ``optuna.Trial.suggest_categorical``: the target's value, or a random one."""
        return self._suggest(name, CategoricalDistribution(list(choices)))

    def _suggest(self, name: str, dist: Any) -> Any:
        value = self._target.get(name)
        if value is None or not contains(dist, value):
            value = random_value(dist, self._rng)
        self.params[name], self.distributions[name] = value, dist
        return value


def contains(dist: Any, value: Any) -> bool:
    """Is ``value`` a value of the Optuna distribution ``dist`` (False, not an error, when of another type)?"""
    try:
        return bool(dist._contains(dist.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False


def random_value(dist: Any, rng: np.random.Generator) -> Any:
    """A uniform draw from ``dist`` (log-uniform for a log float distribution)."""
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[int(rng.integers(len(dist.choices)))]
    if isinstance(dist, IntDistribution):
        return int(dist.low + dist.step * rng.integers((dist.high - dist.low) // dist.step + 1))
    if dist.log:
        return float(math.exp(rng.uniform(math.log(dist.low), math.log(dist.high))))
    return float(rng.uniform(dist.low, dist.high))


def mutated(params: dict[str, Any], dists: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """``params`` with one or two parameters moved (ordered choices to a neighbour half of the time)."""
    out = dict(params)
    names = [n for n in params if n in dists]
    for name in rng.choice(names, size=min(len(names), int(rng.integers(1, 3))), replace=False) if names else ():
        dist = dists[name]
        choices = getattr(dist, "choices", None)
        if choices is not None and len(choices) > 1 and params[name] in choices and rng.random() < 0.5:
            order = sorted(choices) if all(isinstance(c, (int, float)) for c in choices) else list(choices)
            i = order.index(params[name]) + (1 if rng.random() < 0.5 else -1)
            out[name] = order[min(max(i, 0), len(order) - 1)]
        else:
            out[name] = random_value(dist, rng)
    return out
