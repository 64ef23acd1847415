"""The box the surrogate sampler measures expected hypervolume improvement in (reference point from the
reachable front, not from every evaluated design). Property tests on small random fronts; not timed."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesign.search._acquisition import expected_hv_improvement
from codesign.search.pareto import nondominated
from codesign.search.surrogate import Candidate, SurrogateSampler

values = st.floats(0.05, 0.95, allow_nan=False)
points = st.lists(st.tuples(values, values, values), min_size=1, max_size=8)


def _archive(rows: list[tuple[float, float, float]]) -> SimpleNamespace:
    """An archive of designs ``(accuracy, cost_a, cost_b)``."""
    a = np.array(rows, dtype=float)
    return SimpleNamespace(accuracy=a[:, 0], costs=a[:, 1:])


def _candidates(rows: list[tuple[float, float, float]]) -> tuple[list[Candidate], np.ndarray]:
    cands = [Candidate(str(i), {}, np.array([[c0, c1]]), np.zeros(0)) for i, (_, c0, c1) in enumerate(rows)]
    return cands, np.array([acc for acc, _, _ in rows])


@settings(max_examples=60, deadline=None)
@given(points, points, st.floats(0.0, 0.9), st.floats(0.01, 5.0))
def test_designs_the_front_dominates_do_not_move_the_front_box(archive, cands, worse, farther) -> None:
    sampler = SurrogateSampler(box="front")
    cand, mean = _candidates(cands)
    front, box = sampler._objective_box(_archive(archive), cand, mean + 0.02, mean)
    best = max(archive)  # the most accurate design is on the front; a design worse and dearer is dominated
    junk = (best[0] * worse, best[1] + farther, best[2] + farther)
    front2, box2 = sampler._objective_box(_archive([*archive, junk]), cand, mean + 0.02, mean)
    assert np.array_equal(front, front2)
    assert np.allclose(box[1], box2[1])  # same reference point
    assert np.all(box2[0] <= box[0] + 1e-12)  # the low corner may only widen (it spans everything seen)


@settings(max_examples=60, deadline=None)
@given(points, points)
def test_the_front_box_holds_every_optimistic_candidate_and_every_predicted_front_point(archive, cands) -> None:
    sampler = SurrogateSampler(box="front")
    cand, mean = _candidates(cands)
    optimistic = mean + 0.03
    front, (low, high) = sampler._objective_box(_archive(archive), cand, optimistic, mean)
    costs = np.array([c.costs[0] for c in cand])
    assert np.all(low <= np.column_stack([-optimistic, costs]).min(axis=0) + 1e-12)
    predicted = np.vstack([front, np.column_stack([-mean, costs])])
    for row in predicted[nondominated(predicted)]:  # a design predicted to be on the front is inside
        assert np.all(row < high) and np.all(row >= low - 1e-12)
    wide = SurrogateSampler(box="archive")._objective_box(_archive(archive), cand, optimistic, mean)[1]
    assert np.all(high[1:] <= wide[1][1:] + 1e-12)  # the cost axes never reach past the old box


def test_a_dominated_outlier_no_longer_hides_the_knee_of_the_front() -> None:
    """Front (latency, accuracy): 75 ns 0.93, 80 ns 0.95, 85 ns 0.96; plus a diverged network at 140 ns.
    Two candidates, equally likely to beat their neighbours by the same accuracy: one at 80 ns (the knee),
    one at 130 ns beyond the front's most accurate design. Over every evaluated design the slow one
    scores higher (its slab reaches to 140 ns); against the reachable front the knee does."""
    archive = SimpleNamespace(
        accuracy=np.array([0.93, 0.95, 0.96, 0.10]), costs=np.array([[75.0], [80.0], [85.0], [140.0]])
    )
    cands = [
        Candidate("knee", {}, np.array([[80.0]]), np.zeros(0)),
        Candidate("slow", {}, np.array([[130.0]]), np.zeros(0)),
    ]
    mu, sd = np.array([0.945, 0.96]), np.array([0.01, 0.01])
    scores = {}
    for box in ("front", "archive"):
        sampler = SurrogateSampler(box=box)
        front, corners = sampler._objective_box(archive, cands, mu + 2 * sd, mu)
        scores[box] = expected_hv_improvement(
            front, [c.costs for c in cands], mu, sd, corners, np.random.default_rng(0), 50000
        )
    assert scores["archive"][1] > scores["archive"][0]
    assert scores["front"][0] > scores["front"][1]
    with pytest.raises(ValueError, match="box"):
        SurrogateSampler(box="everything")
