"""Probability that a design fits its part, from the prediction intervals of its cost.

Each resource's true figure is modelled in ``log(x + 1)`` space as a distribution whose median is the
estimate and whose ``level`` quantiles are the interval ends: a half-normal on each side of the median
with its own width (the residuals of synthesis estimates are skewed; a split distribution keeps both
interval ends exact). The CDF is ``Phi((t - m) / s_low)`` below the median and ``Phi((t - m) / s_high)``
above it, continuous at ``m``.

**Independence assumption:** the probability that *every* resource fits is the product of the
per-resource probabilities. LUT and FF errors are positively correlated in practice (both grow with the
same datapath), so the product is a conservative (low) estimate when both are near their limits.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from cost_models.cost import Cost
from hw_templates.errors import SpecError, bad_value

__all__ = ["FIT_RESOURCES", "INTERVAL_LEVEL", "fit_probability", "resource_fit_probability"]

#: Central probability of ``Cost.intervals`` produced by the lookup-table model.
INTERVAL_LEVEL = 0.9
#: Resources whose fit is checked (URAM is checked deterministically: the table does not model it).
FIT_RESOURCES = ("lut", "ff", "dsp", "bram18")
_UNIT = NormalDist()


def resource_fit_probability(
    estimate: float, interval: tuple[float, float] | None, capacity: float, level: float = INTERVAL_LEVEL
) -> float:
    """Probability that a resource whose estimate is ``estimate`` (interval ``interval``) is at most
    ``capacity``; a step function (0 or 1) when there is no interval or it has zero width."""
    if capacity < 0:
        return 0.0
    if interval is None:
        return 1.0 if estimate <= capacity else 0.0
    z = _UNIT.inv_cdf(0.5 + level / 2)
    median = math.log1p(max(estimate, 0.0))
    limit = math.log1p(capacity)
    low, high = interval
    side = math.log1p(max(high, 0.0)) - median if limit >= median else median - math.log1p(max(low, 0.0))
    if side <= 0:
        return 1.0 if estimate <= capacity else 0.0
    return _UNIT.cdf((limit - median) / (side / z))


def fit_probability(cost: Cost, max_utilization: float = 1.0, level: float = INTERVAL_LEVEL) -> float:
    """Probability that every resource of ``cost`` fits within ``max_utilization`` of its part.

    Uses ``cost.intervals`` (lookup-table model) where present; resources without an interval (e.g.
    every resource of an analytical estimate) count as certain, so the result is then 0 or 1, as
    :meth:`Cost.fits`. Resources are treated as independent (see the module docstring).

    Args:
        cost: an estimate, usually from ``get_cost_model("lut")``.
        max_utilization: the fraction of each resource a design may use (e.g. 0.8).
        level: central probability of the intervals (0.9 for the lookup-table model).

    Returns:
        A probability in [0, 1].

    Raises:
        SpecError: ``max_utilization`` or ``level`` out of range.

    Example:
        >>> cost = get_cost_model("lut").estimate(graph, hw)  # doctest: +SKIP
        >>> fit_probability(cost, max_utilization=0.8) >= 0.95  # doctest: +SKIP
        True
    """
    if isinstance(max_utilization, bool) or not isinstance(max_utilization, (int, float)) or max_utilization <= 0:
        raise SpecError(bad_value("max_utilization", max_utilization, "a positive fraction such as 0.8"))
    if not 0 < level < 1:
        raise SpecError(bad_value("level", level, "a probability between 0 and 1 (exclusive)"))
    probability = 1.0
    for resource in FIT_RESOURCES:
        available = getattr(cost.part, resource)
        capacity = max_utilization * available
        probability *= resource_fit_probability(getattr(cost, resource), cost.intervals.get(resource), capacity, level)
    if cost.uram > max_utilization * cost.part.uram:
        return 0.0
    return probability
