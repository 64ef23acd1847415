"""Samplers by name, in a small registry: Optuna's ``nsga2``, ``nsga3``, ``tpe``, ``gp``, ``random``,
and the toolkit's ``surrogate`` (:mod:`codesign.search.surrogate`: cost-aware, expected hypervolume
improvement with exact costs) and ``rl`` (:mod:`codesign.search.rl`: a REINFORCE controller).

All of them read the constraint every trial reports (the ``constraints`` system attribute, see
:mod:`codesign.search.formulation`; Optuna 5 samplers read ``FrozenTrial.constraints``), except ``random``
and ``rl``; Optuna's NSGA-II/III and GP read completed trials only, so rejected (pruned) ones do not enter
them. NSGA-II/III populations are kept small
(:data:`POPULATION`) because a co-design search affords tens of trainings, not thousands: with
Optuna's default of 50, the first generation alone would be the whole budget.

How to add a sampler: ``register_sampler("name", factory)`` where ``factory(seed, n_objectives)``
returns an ``optuna.samplers.BaseSampler``. A sampler with a ``bind(ctx)`` method gets the driver's
:class:`~codesign.search.trial.TrialContext` before the first trial (the problem, the hardware space,
the cost model and the archive of finished designs), so it can cost candidates before proposing one.
The library API also takes any Optuna sampler object.
"""

from __future__ import annotations

import fnmatch
import logging
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hw_templates.errors import SpecError, bad_value

if TYPE_CHECKING:
    import optuna

__all__ = [
    "POPULATION",
    "SAMPLER_NAMES",
    "default_sampler",
    "make_sampler",
    "register_sampler",
    "sampler_names",
]

logger = logging.getLogger(__name__)
#: NSGA-II/III population size (Optuna's default is 50).
POPULATION = 8
#: Random trials before TPE/GP model the objective (Optuna's default is 10).
STARTUP_TRIALS = 6
SamplerFactory = Callable[[int, int], Any]
_REGISTRY: dict[str, SamplerFactory] = {}


def register_sampler(name: str, factory: SamplerFactory) -> None:
    """Register ``factory(seed, n_objectives) -> optuna sampler`` under ``name`` (warns on overwrite)."""
    if name in _REGISTRY:
        logger.warning("sampler %r registered again: the new factory replaces the old one", name)
    _REGISTRY[name] = factory


def sampler_names(pattern: str = "*") -> tuple[str, ...]:
    """Registered sampler names matching the shell-style ``pattern``."""
    return tuple(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def default_sampler(n_objectives: int, mode: str = "nested") -> str:
    """The sampler a search uses when none is named: ``surrogate`` for several objectives in nested mode
    (ahead of TPE, NSGA-II and random at 50 evaluations on the project's tabular benchmark, held-out
    seeds; docs/search.md), ``nsga2`` for the flat baseline, ``tpe`` for one objective."""
    if n_objectives == 1:
        return "tpe"
    return "surrogate" if mode == "nested" else "nsga2"


def make_sampler(name: Any, seed: int, n_objectives: int) -> optuna.samplers.BaseSampler:
    """A seeded sampler by name (an Optuna sampler object is returned as is).

    Raises:
        SpecError: an unknown name, or NSGA for a single objective.

    Example:
        >>> type(make_sampler("tpe", 0, 1)).__name__
        'TPESampler'
    """
    if not isinstance(name, str):
        return name
    if name not in _REGISTRY:
        names = sampler_names()
        raise SpecError(bad_value("search.sampler", name, "one of " + ", ".join(names), names))
    if name in ("nsga2", "nsga3") and n_objectives == 1:
        raise SpecError(bad_value("search.sampler", name, "tpe, gp, random, surrogate or rl for a single objective"))
    return _REGISTRY[name](seed, n_objectives)


def _nsga2(seed: int, n_objectives: int) -> Any:
    import optuna

    return optuna.samplers.NSGAIISampler(population_size=POPULATION, seed=seed)


def _nsga3(seed: int, n_objectives: int) -> Any:
    import optuna

    with warnings.catch_warnings():  # "experimental" since Optuna 3.2; the interface we use is stable
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.NSGAIIISampler(population_size=POPULATION, seed=seed)


def _tpe(seed: int, n_objectives: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=STARTUP_TRIALS)


def _gp(seed: int, n_objectives: int) -> Any:
    import optuna

    return optuna.samplers.GPSampler(seed=seed, n_startup_trials=STARTUP_TRIALS, warn_independent_sampling=False)


def _random(seed: int, n_objectives: int) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


def _surrogate(seed: int, n_objectives: int) -> Any:
    from codesign.search.surrogate import SurrogateSampler

    return SurrogateSampler(seed=seed)


def _rl(seed: int, n_objectives: int) -> Any:
    from codesign.search.rl import ReinforceSampler

    return ReinforceSampler(seed=seed)


for _name, _factory in (
    ("nsga2", _nsga2),
    ("nsga3", _nsga3),
    ("tpe", _tpe),
    ("gp", _gp),
    ("random", _random),
    ("surrogate", _surrogate),
    ("rl", _rl),
):
    register_sampler(_name, _factory)

#: The built-in sampler names.
SAMPLER_NAMES = sampler_names()
