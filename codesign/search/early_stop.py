"""Stopping hopeless trainings early, for single- and multi-objective studies alike.

Optuna's pruners compare one intermediate value against other trials' and refuse multi-objective
studies. In a co-design search more is known: an architecture's hardware front is computed *before*
training, so the accuracy its designs would need to matter is known too
(:meth:`~codesign.search.formulation.Formulation.needed_accuracy`: not dominated by a finished design
of equal or lower cost, or beating the best score).

Epochs are counted as ``report(epoch, val_accuracy)`` counts them, from 0 (0: after the first epoch;
:func:`codesign.models.train.train` and the benchmark replay both report so). The rule, after each
epoch ``k >= min_epoch`` once ``warmup_trials`` trainings have finished:

    stop  if  val_k + gain_k + slack  <  needed

where ``val_k`` is the run's validation accuracy at epoch ``k`` (``val_history[k]``) and ``gain_k`` is the
largest rise from a validation accuracy at epoch ``k`` (``val_history[k]`` of a finished training, the
same epoch) to a final (test) accuracy seen among the finished trainings
(an optimistic forecast that also absorbs the validation/test shift). A stopped training is recorded
with the accuracy it reached (status ``stopped``): its designs are kept, and they are dominated unless
the forecast was wrong. The rule never stops the first ``warmup_trials`` trainings, nor any training
while the archive is empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["HopelessRule", "optimistic_gain"]


def optimistic_gain(epoch: int, curves: Sequence[tuple[Sequence[float], float]]) -> float:
    """Largest ``final - val[epoch]`` over finished runs (``curves``: (val history, final accuracy)), with
    ``epoch`` counted from 0 as ``report`` counts it; runs shorter than that count from their last epoch.

    Example:
        >>> optimistic_gain(0, [([0.5, 0.8], 0.85), ([0.7, 0.75], 0.8)])
        0.35
        >>> optimistic_gain(1, [([0.5, 0.8], 0.85), ([0.7, 0.75], 0.8)])
        0.05
    """
    gains = [final - hist[epoch] for hist, final in curves if len(hist) > epoch and final is not None]
    if not gains:
        gains = [final - hist[-1] for hist, final in curves if hist and final is not None]
    return round(max(gains), 12) if gains else math.inf


@dataclass(frozen=True)
class HopelessRule:
    """The stopping rule of the module docstring.

    Attributes:
        min_epoch: first epoch (counted from 0, as ``report`` counts) after which a run may be stopped:
            1 lets a run train two epochs.
        warmup_trials: finished trainings needed before any stop.
        slack: extra accuracy margin granted to every run.
    """

    min_epoch: int = 1
    warmup_trials: int = 3
    slack: float = 0.0

    def should_stop(
        self, epoch: int, val_accuracy: float, needed: float, curves: Sequence[tuple[Sequence[float], float]]
    ) -> bool:
        """True when the run at ``epoch`` with ``val_accuracy`` cannot reach ``needed``."""
        if epoch < self.min_epoch or len(curves) < self.warmup_trials or not math.isfinite(needed):
            return False
        return val_accuracy + optimistic_gain(epoch, curves) + self.slack < needed
