"""Report plots: units on the axes, the panel's own front, early-stopped designs apart, a hypervolume over
the run's objectives against a fixed reference, and a compact problem section."""

from __future__ import annotations

import itertools

import numpy as np

from codesign.search._report_plots import hypervolume_curve, reference_point, scatter
from codesign.search.report import _problem


def _rows() -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(30):
        acc, lat, res = float(rng.uniform(0.5, 0.95)), float(rng.uniform(10, 500)), float(rng.uniform(0.01, 0.5))
        status = "stopped" if i % 7 == 0 else "trained"
        rows.append({"trial": i // 3, "accuracy": acc, "latency_ns": lat, "lut_dsp": res, "pareto": i % 5 == 0,
                     "status": status})  # fmt: skip
    return rows


def test_scatter_labels_carry_units_and_draws_stopped_designs_apart() -> None:
    page = scatter(_rows(), "latency_ns", "accuracy", "lut_dsp", "t", logx=True)
    assert page.startswith("<svg") and "latency (ns)" in page and "LUT + DSP share (fraction of the part)" in page
    assert "stopped early" in page and "front of this panel" in page


def test_hypervolume_grows_with_trainings_against_a_fixed_reference() -> None:
    rows, axes = _rows(), ["accuracy", "latency_ns", "lut_dsp"]
    ref = reference_point(rows, axes)
    assert ref[0] == 1.0 and ref[1] > max(r["latency_ns"] for r in rows)
    xs, ys = hypervolume_curve(rows, {i: i + 1 for i in range(10)}, ref, axes)
    assert xs == sorted(xs) and all(b >= a for a, b in itertools.pairwise(ys)) and 0 < ys[-1] <= 1
    # a later, larger run keeps the stored reference: its worse designs add nothing beyond it
    worse = [*rows, {**rows[0], "trial": 10, "latency_ns": 10 * ref[1]}]
    assert hypervolume_curve(worse, {i: i + 1 for i in range(11)}, ref, axes)[1][-1] == ys[-1]


def test_problem_section_summarises_long_number_lists() -> None:
    text = _problem({"dataset": {"name": "digits", "mean": list(np.linspace(0, 1, 64))}})
    assert "64 values" in text and text.count("\n") < 12
