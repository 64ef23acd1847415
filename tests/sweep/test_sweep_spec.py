"""Sweep files: matrix expansion, exclusions, and one-line errors for bad input (nothing is run)."""

from __future__ import annotations

import pytest

from codesign.sweep import load_sweep, sweep_from_dict
from hw_templates.errors import SpecError

BASE = {
    "name": "s",
    "dataset": "digits",
    "space": {"kind": "mlp", "hidden": [1, 1], "units": [8, 16], "weight_bits": [4, 4], "act_bits": [4, 4]},
    "training": {"epochs": 1},
    "search": {"trials": 2},
}


def sweep(**extra):
    return sweep_from_dict({**BASE, **extra}, "sweep file t.yaml")


def test_the_matrix_expands_to_every_combination_minus_exclusions() -> None:
    s = sweep(
        matrix={"dataset": ["digits", "wine"], "training.epochs": [1, 2], "budgets.latency_ns": [500]},
        exclude=[{"dataset": "wine", "training.epochs": 2}],
    )
    assert [c.label for c in s.cells] == [
        "dataset=digits,training.epochs=1,budgets.latency_ns=500",
        "dataset=digits,training.epochs=2,budgets.latency_ns=500",
        "dataset=wine,training.epochs=1,budgets.latency_ns=500",
    ]
    cell = s.cells[2]
    assert cell.config["training"] == {"epochs": 1} and cell.config["budgets"] == {"latency_ns": 500}
    assert cell.search_settings().dataset == "wine"
    assert len({c.folder for c in s.cells}) == 3 and s.study_name(cell) == "s:" + cell.label


def test_a_base_file_is_read_relative_to_the_sweep_file(tmp_path) -> None:
    (tmp_path / "base.yaml").write_text("name: b\ndataset: wine\ntraining: {epochs: 3, batch_size: 32}\n")
    (tmp_path / "sweep.yaml").write_text("base: base.yaml\ntraining: {epochs: 1}\nmatrix: {seed: [0, 1]}\n")
    s = load_sweep(tmp_path / "sweep.yaml")
    assert s.name == "b" and [c.config["seed"] for c in s.cells] == [0, 1]
    assert s.cells[0].config["training"] == {"epochs": 1, "batch_size": 32}


def test_the_fingerprint_ignores_the_number_of_trials_only() -> None:
    a = sweep(matrix={"seed": [0, 1]})
    more = sweep_from_dict({**BASE, "search": {"trials": 5}, "matrix": {"seed": [0, 1]}})
    other = sweep_from_dict({**BASE, "training": {"epochs": 2}, "matrix": {"seed": [0, 1]}})
    assert a.fingerprint() == more.fingerprint() != other.fingerprint()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"matrix": {"trainng.epochs": [1]}}, "unknown config key 'trainng.epochs' (did you mean 'training'?)"),
        ({"matrix": {"training.epoch": [1]}}, "(did you mean 'training.epochs'?)"),
        ({"matrix": {}}, "matrix: expected at least one dotted config key"),
        ({}, "empty matrix"),
        ({"matrix": {"seed": []}}, "matrix.seed: expected a non-empty list of values"),
        ({"matrix": {"seed": 3}}, "matrix.seed: expected a non-empty list of values"),
        ({"matrix": {"training.epochs": [1, 0]}}, "sweep cell training.epochs=0: training.epochs"),
        ({"matrix": {"parts": [["xc7z020"], ["xc7z02"]]}}, "xc7z02"),
        ({"matrix": {"seed": [0]}, "exclude": [{"sed": 0}]}, "exclude: expected matrix keys, got 'sed'"),
        ({"matrix": {"seed": [0]}, "exclude": [{"seed": 0}]}, "every cell excluded"),
        ({"matrix": {"seed": [0]}, "matirx": 1}, "unknown key 'matirx' (did you mean 'matrix'?)"),
        ({"matrix": {"seed": [0]}, "heartbeat": {"interval_s": 10, "grace_s": 5}}, "heartbeat.grace_s"),
    ],
)
def test_bad_sweeps_fail_with_one_line(extra, message) -> None:
    with pytest.raises(SpecError) as err:
        sweep(**extra)
    assert message in str(err.value) and "\n" not in str(err.value)
