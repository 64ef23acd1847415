"""Optuna samplers by name: ``nsga2`` (default for Pareto searches), ``nsga3``, ``tpe`` (default for one
objective), ``gp`` and ``random``.

All of them read the constraint every trial reports (``trial.set_constraint``; Optuna 5 samplers read
``FrozenTrial.constraints``), except ``random``. NSGA-II/III populations are kept small
(:data:`POPULATION`) because a co-design search affords tens of trainings, not thousands: with
Optuna's default of 50, the first generation alone would be the whole budget.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from hw_templates.errors import SpecError, bad_value

if TYPE_CHECKING:
    import optuna

__all__ = ["POPULATION", "SAMPLER_NAMES", "make_sampler"]

SAMPLER_NAMES = ("nsga2", "nsga3", "tpe", "gp", "random")
#: NSGA-II/III population size (Optuna's default is 50).
POPULATION = 8
#: Random trials before TPE/GP model the objective (Optuna's default is 10).
STARTUP_TRIALS = 6


def make_sampler(name: str, seed: int, n_objectives: int) -> optuna.samplers.BaseSampler:
    """A seeded sampler.

    Raises:
        SpecError: an unknown name, or NSGA for a single objective.

    Example:
        >>> type(make_sampler("tpe", 0, 1)).__name__
        'TPESampler'
    """
    import optuna

    if name not in SAMPLER_NAMES:
        raise SpecError(bad_value("search.sampler", name, "one of " + ", ".join(SAMPLER_NAMES), SAMPLER_NAMES))
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=POPULATION, seed=seed)
    if name == "nsga3":
        with warnings.catch_warnings():  # "experimental" since Optuna 3.2; the interface we use is stable
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.NSGAIIISampler(population_size=POPULATION, seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=STARTUP_TRIALS)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=STARTUP_TRIALS, warn_independent_sampling=False)
    return optuna.samplers.RandomSampler(seed=seed)
