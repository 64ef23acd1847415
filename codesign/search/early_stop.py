"""Stopping hopeless trainings early, for single- and multi-objective studies alike.

Optuna's pruners compare one intermediate value against other trials' and refuse multi-objective
studies. In a co-design search more is known: an architecture's hardware front is computed *before*
training, so the accuracy its designs would need to matter is known too
(:meth:`~codesign.search.formulation.Formulation.needed_accuracy`: not dominated by a finished design
of equal or lower cost, or beating the best score).

Epochs are counted as ``report(epoch, val_accuracy)`` counts them, from 0 (0: after the first epoch;
:func:`codesign.models.train.train` and the benchmark replay both report so). The rule, after each
epoch ``k >= min_epoch`` once ``warmup_trials`` trainings have finished:

    stop  if  val_k + gain_k + margin_sd * spread_k + slack  <  needed

where ``val_k`` is the run's validation accuracy at epoch ``k`` (``val_history[k]``), ``gain_k`` is the
largest rise from a validation accuracy at epoch ``k`` (``val_history[k]`` of a finished training, the
same epoch) to a final (test) accuracy seen among the finished trainings (an optimistic forecast that
also absorbs the validation/test shift), and ``spread_k`` the standard deviation of those rises.

The margin is there because the runs that matter are the lucky ones: a design on the true front is
often the most accurate of many architectures of equal cost, ahead by a few test samples, so its own
rise sits at the top of the distribution, where the largest of a few dozen finished rises does not
reach. On the project's tabular benchmark (digits, 270 validation and 360 test samples) the spread of
the rises after epoch 7 among finished runs is 0.009-0.015, the same size as the seed-to-seed noise of
the final accuracy (networks above 0.9: standard deviation of the difference of two training seeds
0.014, i.e. 0.010 per run; ``scripts/data/search_table_digits_mlp.csv``) and as the binomial noise of a
360-sample test (0.011 at 0.95); there, the rule without a margin cut 10 true-front architectures in 10
tuning searches (fpga2, surrogate sampler), each by less than 1.2 spreads (docs/search.md).

A stopped training is recorded as :func:`~codesign.models.train.train` records it: the test accuracy of
its best validation epoch so far (status ``stopped``); its designs are kept, and they are dominated
unless the forecast was wrong. The rule never stops the first ``warmup_trials`` trainings, nor any
training while the archive is empty.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["HopelessRule", "optimistic_gain"]


def optimistic_gain(epoch: int, curves: Sequence[tuple[Sequence[float], float]], margin_sd: float = 0.0) -> float:
    """Largest ``final - val[epoch]`` over finished runs (``curves``: (val history, final accuracy)), plus
    ``margin_sd`` standard deviations of those rises; ``epoch`` is counted from 0 as ``report`` counts
    it; runs shorter than that count from their last epoch.

    Example:
        >>> optimistic_gain(0, [([0.5, 0.8], 0.85), ([0.7, 0.75], 0.8)])
        0.35
        >>> optimistic_gain(1, [([0.5, 0.8], 0.85), ([0.7, 0.75], 0.8)])
        0.05
    """
    gains = [final - hist[epoch] for hist, final in curves if len(hist) > epoch and final is not None]
    if not gains:
        gains = [final - hist[-1] for hist, final in curves if hist and final is not None]
    if not gains:
        return math.inf
    spread = statistics.stdev(gains) if len(gains) > 1 and margin_sd else 0.0
    return round(max(gains) + margin_sd * spread, 12)


@dataclass(frozen=True)
class HopelessRule:
    """The stopping rule of the module docstring.

    Attributes:
        min_epoch: first epoch (counted from 0, as ``report`` counts) after which a run may be stopped:
            1 lets a run train two epochs.
        warmup_trials: finished trainings needed before any stop.
        slack: extra accuracy margin granted to every run.
        margin_sd: extra margin in standard deviations of the finished runs' rises from the same epoch.
    """

    min_epoch: int = 1
    warmup_trials: int = 3
    slack: float = 0.0
    margin_sd: float = 1.0

    def should_stop(
        self, epoch: int, val_accuracy: float, needed: float, curves: Sequence[tuple[Sequence[float], float]]
    ) -> bool:
        """True when the run at ``epoch`` with ``val_accuracy`` cannot reach ``needed``."""
        if epoch < self.min_epoch or len(curves) < self.warmup_trials or not math.isfinite(needed):
            return False
        return val_accuracy + optimistic_gain(epoch, curves, self.margin_sd) + self.slack < needed
