"""A reinforcement-learning controller as a sampler (``sampler: rl``): REINFORCE with a moving-average
baseline over independent categorical choices, one per parameter.

This is the controller of RL-based NAS (Zoph & Le, "Neural Architecture Search with Reinforcement
Learning", ICLR 2017) and of RL-based HW-NAS such as MnasNet (Tan et al., CVPR 2019), with the
recurrent controller replaced by independent per-parameter logits (the spaces here are small and
flat). Integer parameters with at most :data:`MAX_CHOICES` values are one choice per value, wider ones
and floats are split into :data:`MAX_CHOICES` bins.

Reward of a finished trial (multi-objective without weights): 1 when no earlier trial dominates its
values, else ``1 - (dominating trials) / (earlier trials)``; 0 for a rejected architecture (no
feasible hardware) or a repeated one (it taught nothing). The update is
``logits += lr * (reward - baseline) * (onehot(choice) - softmax(logits))`` and the baseline is an
exponential moving average of the rewards (decay :data:`BASELINE_DECAY`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, IntDistribution

__all__ = ["BASELINE_DECAY", "MAX_CHOICES", "ReinforceSampler"]

MAX_CHOICES = 32
BASELINE_DECAY = 0.9


def _values(dist: Any) -> list[Any]:
    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, IntDistribution) and (dist.high - dist.low) // dist.step + 1 <= MAX_CHOICES:
        return list(range(dist.low, dist.high + 1, dist.step))
    grid = np.linspace(dist.low, dist.high, MAX_CHOICES)
    if getattr(dist, "log", False):
        grid = np.geomspace(dist.low, dist.high, MAX_CHOICES)
    if isinstance(dist, IntDistribution):
        return sorted({int(dist.low + dist.step * round((v - dist.low) / dist.step)) for v in grid})
    return [float(v) for v in grid]


class ReinforceSampler(optuna.samplers.BaseSampler):
    """See the module docstring.

    Args:
        seed: seeds the choices.
        learning_rate: step size of the logits.
    """

    def __init__(self, *, seed: int = 0, learning_rate: float = 0.5) -> None:
        self.learning_rate = learning_rate
        self._rng = np.random.default_rng(seed)
        self._logits: dict[str, np.ndarray] = {}
        self._choices: dict[str, list[Any]] = {}
        self._baseline: float | None = None
        self._history: list[tuple[float, ...]] = []
        self._directions: list[int] = []

    def reseed_rng(self) -> None:
        self._rng = np.random.default_rng()

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        return {}

    def sample_relative(self, study: Any, trial: Any, search_space: dict[str, Any]) -> dict[str, Any]:
        return {}

    def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
        if name not in self._logits:
            self._choices[name] = _values(dist)
            self._logits[name] = np.zeros(len(self._choices[name]))
        probs = _softmax(self._logits[name])
        return self._choices[name][int(self._rng.choice(len(probs), p=probs))]

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        reward = self._reward(study, trial, state, values)
        if reward is None:
            return
        base = reward if self._baseline is None else self._baseline
        advantage = reward - base
        for name, value in trial.params.items():
            if name not in self._logits or value not in self._choices[name]:
                continue
            grad = -_softmax(self._logits[name])
            grad[self._choices[name].index(value)] += 1.0
            self._logits[name] += self.learning_rate * advantage * grad
        self._baseline = BASELINE_DECAY * base + (1 - BASELINE_DECAY) * reward

    def _reward(self, study: Any, trial: Any, state: Any, values: Any) -> float | None:
        if state != optuna.trial.TrialState.COMPLETE or values is None:
            return 0.0 if trial.params else None
        status = trial.user_attrs.get("status")
        if status in ("rejected", "duplicate"):
            return 0.0
        if not self._directions:
            self._directions = [1 if d == optuna.study.StudyDirection.MINIMIZE else -1 for d in study.directions]
        vec = tuple(s * float(v) for s, v in zip(self._directions, values))
        earlier = np.array(self._history) if self._history else np.zeros((0, len(vec)))
        self._history.append(vec)
        if len(earlier) == 0:
            return 1.0
        v = np.array(vec)
        dominating = np.all(earlier <= v, axis=1) & np.any(earlier < v, axis=1)
        return 1.0 - float(dominating.sum()) / len(earlier)


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return z / z.sum()
