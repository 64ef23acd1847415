"""Co-design search of a model family the toolkit does not build, from Python (docs/search.md).

The family: a small scikit-learn MLP on digits whose "cell" is described by plain categorical and
integer parameters (edge widths, weight bits). The cheap cost function turns an architecture into a
LayerGraph, so the toolkit's cost model and inner hardware search give every architecture its whole
hardware front on a Zynq-7020; the expensive evaluator trains the MLP and returns its test accuracy.
The driver evaluates only architectures some hardware can fit, never the same one twice, and reports
how many evaluations it spent.

Run: ``python examples/library_api.py [RUN_DIR]``.
"""

from __future__ import annotations

import sys
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from codesign.search import search
from cost_models import GraphBuilder
from cost_models.ir import LayerPrecision
from hw_templates.precision import FixedType

SPACE = {
    "width_0": [8, 16, 32],  # a categorical choice
    "width_1": [0, 8, 16],  # 0: no second hidden layer
    "weight_bits": (3, 8),  # an integer range
}
X, y = load_digits(return_X_y=True)
X_TRAIN, X_TEST, Y_TRAIN, Y_TEST = train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)


def widths(arch: dict) -> list[int]:
    return [w for w in (arch["width_0"], arch["width_1"]) if w > 0]


def cost(arch: dict):
    """Cheap: the architecture as a layer graph (the hardware search does the rest)."""
    builder = GraphBuilder("sk_mlp", (64,), FixedType(8, 1))
    weight = LayerPrecision(result=FixedType(16, 6), weight=FixedType(arch["weight_bits"], 1), bias=FixedType(8, 3))
    for width in widths(arch):
        builder.add("dense", units=width, precision=weight)
        builder.add("activation", function="relu", precision=LayerPrecision(result=FixedType(8, 3)))
    builder.add("dense", units=10, precision=weight)
    return builder.build()


def evaluate(arch: dict) -> float:
    """Expensive: train the network and return its test accuracy."""
    net = MLPClassifier(hidden_layer_sizes=tuple(widths(arch)), max_iter=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net.fit(X_TRAIN, Y_TRAIN)
    return float(net.score(X_TEST, Y_TEST))


def main(out: str | None = None) -> None:
    summary = search(
        space=SPACE,
        cost=cost,
        evaluate=evaluate,
        objectives=("accuracy", "latency_ns", "lut_dsp"),
        parts=("xc7z020",),
        budgets={"lut": "80%"},
        trials=10,
        out=out,
        name="library_example",
    )
    print(f"{summary.trials} trials, {summary.trainings} evaluations, {summary.pareto_designs} Pareto designs")
    if out:
        print(f"report: {out}/report.html")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
